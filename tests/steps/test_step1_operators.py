"""Step 1: the operators of Value.

Every test draws its inputs from ``rng`` and hands what the code under test computed to
``observe``; the grader compares that with what the reference computes from the same
inputs (see the harness's observe module). Run at home with plain ``pytest``: the answer
key shipped with the hand-out holds the reference's observations for the public seed.

Each observation says which item of the contract it is evidence about (``observe.item``),
so a fault costs points only in the check that owns it. A derived operator is observed next
to its definition in your own primitives (``same_as``): when ``a - b`` is wrong only
because ``-b`` is, the charge is the negation's, not the subtraction's.
"""

MISSING = "<missing>"


def _number(rng, low=0.5, high=6.0):
    """A random float away from zero, with a random sign."""
    return rng.choice((-1, 1)) * rng.uniform(low, high)


def _attr(node, name):
    """An attribute of a node, or a marker when it has none (the check goes on)."""
    try:
        return getattr(node, name)
    except Exception:  # noqa: BLE001 - a student's property may raise anything
        return MISSING


def _children(node):
    kids = _attr(node, "prev")
    if kids is MISSING:
        kids = _attr(node, "_prev")
    return kids


def _names(node, named):
    """The names of a node's children among ``named`` ('?' for any other object)."""
    kids = _children(node)
    if kids is MISSING:
        return MISSING
    ids = {id(v): k for k, v in named.items()}
    try:
        return sorted(ids.get(id(kid), "?") for kid in kids)
    except TypeError:
        return MISSING


def _kids_data(node):
    kids = _children(node)
    if kids is MISSING:
        return MISSING
    try:
        return sorted(_attr(kid, "data") for kid in kids)
    except TypeError:
        return MISSING


def _data(node):
    return _attr(node, "data")


def test_add_two_values(Value, rng, observe):
    x, y = _number(rng), _number(rng)
    observe.input("a", x)
    observe.input("b", y)
    observe.item("Value.__init__")
    a, b = Value(x), Value(y)
    observe("a.data", _data(a))
    observe("a.grad starts at 0", _attr(a, "grad"))
    observe.item("Value.__add__:forward")
    out = a + b
    observe("type", type(out).__name__)
    observe.node("a + b", out)
    observe("operands unchanged", [_data(a), _data(b)])
    observe("(a + b).grad starts at 0", _attr(out, "grad"), item="Value.__init__")
    observe("a keeps a label in _op", _attr(a, "_op") is not MISSING, item="Value:label")
    observe("label", _attr(out, "_op"), item="Value.__add__:label")
    observe("children", _names(out, {"a": a, "b": b}), item="Value:children")


def test_add_number(Value, rng, observe):
    x, n = _number(rng), round(_number(rng), 2)
    observe.input("a", x)
    observe.input("n", n)
    a = Value(x)
    observe.node("a + Value(n)", a + Value(n), item="Value.__add__:forward")
    observe.item("Value.__add__:number")
    observe.node("a + n", a + n, same_as="a + Value(n)")
    observe.node("a + 0.5", a + 0.5)
    observe.item("Value.__radd__")
    left = n + a
    observe.node("n + a", left, same_as="a + n")
    observe("n + a is a Value", type(left).__name__)
    observe.node("0.5 + a", 0.5 + a, same_as="a + 0.5")


def test_multiply_two_values(Value, rng, observe):
    x, y = _number(rng), _number(rng)
    observe.input("a", x)
    observe.input("b", y)
    a, b = Value(x), Value(y)
    observe.item("Value.__mul__:forward")
    out = a * b
    observe("type", type(out).__name__)
    observe.node("a * b", out)
    observe.node("a * a", a * a)
    observe("operands unchanged", [_data(a), _data(b)])
    observe("label", _attr(out, "_op"), item="Value.__mul__:label")
    observe("children", _names(out, {"a": a, "b": b}), item="Value:children")


def test_multiply_number(Value, rng, observe):
    x, n = _number(rng), round(_number(rng), 2)
    observe.input("a", x)
    observe.input("n", n)
    a = Value(x)
    observe.node("a * Value(n)", a * Value(n), item="Value.__mul__:forward")
    observe.item("Value.__mul__:number")
    observe.node("a * n", a * n, same_as="a * Value(n)")
    observe.item("Value.__rmul__")
    left = n * a
    observe.node("n * a", left, same_as="a * n")
    observe("n * a is a Value", type(left).__name__)


def test_powers(Value, rng, observe):
    x, n = _number(rng, 0.5, 3.0), rng.randint(2, 4)
    f = round(rng.uniform(0.2, 2.5), 3)
    observe.input("a", x)
    observe.input("n", n)
    observe.input("f", f)
    a = Value(x)
    observe.item("Value.__pow__:forward")
    out = a**n
    observe.node("a ** n", out)
    observe.node("a ** -1", a**-1)
    observe.node("a ** 0", a**0)
    positive = Value(abs(x) + 0.5)
    observe.node("|a| ** f", positive**f)
    observe.node("|a| ** -f", positive ** (-f))
    observe("children", _names(out, {"a": a}), item="Value:children")
    observe("label", _attr(out, "_op"), item="Value.__pow__:label")
    observe("label of ** -1", _attr(a**-1, "_op"), item="Value.__pow__:label")


def test_negate(Value, rng, observe):
    x = _number(rng)
    observe.input("a", x)
    a = Value(x)
    observe.item("Value.__neg__")
    out = -a
    observe.node("-a", out)
    observe("type", type(out).__name__)
    observe("a unchanged", _data(a))


def test_subtract(Value, rng, observe):
    x, y, n = _number(rng), _number(rng), round(_number(rng), 2)
    observe.input("a", x)
    observe.input("b", y)
    observe.input("n", n)
    a, b = Value(x), Value(y)
    # The definitions, in your own + and unary minus: a wrong one is charged where the
    # operator at fault is owned, not here.
    observe.node("a + (-b)", a + (-b), item="Value.__neg__")
    observe.node("b + (-a)", b + (-a), item="Value.__neg__")
    observe.node("a + (-n)", a + (-n), item="Value.__add__:number")
    observe.item("Value.__sub__")
    observe.node("a - b", a - b, same_as="a + (-b)")
    observe.node("b - a", b - a, same_as="b + (-a)")
    observe.node("a - n", a - n, same_as="a + (-n)")
    observe.node("a - a", a - a)


def test_subtract_from_number(Value, rng, observe):
    x, n = _number(rng), round(_number(rng), 2)
    observe.input("a", x)
    observe.input("n", n)
    a = Value(x)
    observe.node("(-a) + n", (-a) + n, item="Value.__neg__")
    observe.item("Value.__rsub__")
    out = n - a
    # The original exercise computed a - n here; n - a is what Python asks for.
    observe.node("n - a", out, same_as="(-a) + n")
    observe("type", type(out).__name__)
    three = Value(3.0)
    observe.node("(-Value(3.0)) + 4.5", (-three) + 4.5, item="Value.__neg__")
    observe.node("4.5 - Value(3.0)", 4.5 - three, same_as="(-Value(3.0)) + 4.5")


def test_divide(Value, rng, observe):
    x, y, n = _number(rng), _number(rng), round(_number(rng), 2)
    observe.input("a", x)
    observe.input("b", y)
    observe.input("n", n)
    a, b = Value(x), Value(y)
    observe.node("a * b ** -1", a * b**-1, item="Value.__pow__:forward")
    observe.node("b * a ** -1", b * a**-1, item="Value.__pow__:forward")
    observe.node("a * (1 / n)", a * (1 / n), item="Value.__mul__:number")
    observe.item("Value.__truediv__")
    observe.node("a / b", a / b, same_as="a * b ** -1")
    observe.node("b / a", b / a, same_as="b * a ** -1")
    observe.node("a / n", a / n, same_as="a * (1 / n)")


def test_divide_number(Value, rng, observe):
    x, n = _number(rng), round(_number(rng), 2)
    observe.input("a", x)
    observe.input("n", n)
    a = Value(x)
    observe.node("a ** -1 * n", a**-1 * n, item="Value.__pow__:forward")
    observe.item("Value.__rtruediv__")
    out = n / a
    observe.node("n / a", out, same_as="a ** -1 * n")
    observe("type", type(out).__name__)


def test_mixed_expression(Value, rng, observe):
    x, y, z = _number(rng), _number(rng), _number(rng)
    observe.input("a", x)
    observe.input("b", y)
    observe.input("c", z)
    a, b, c = Value(x), Value(y), Value(z)
    out = (a * b + 3 - c / 2) ** 2 / (1 + a**2) - 2 * (b - 1.5) + (-c) * a
    observe.item("Value:expressions")
    # Every node of the expression is audited: a wrong operator is charged where that
    # operator is owned; only a difference no operator explains is this check's.
    observe.node("(a*b + 3 - c/2)**2 / (1 + a**2) - 2*(b - 1.5) + (-c)*a", out)
    observe("type", type(out).__name__)
