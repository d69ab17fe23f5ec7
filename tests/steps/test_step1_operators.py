"""Step 1: the operators of Value.

Every test draws its inputs from ``rng`` and hands what the code under test computed to
``observe``; the grader compares that with what the reference computes from the same
inputs (see the harness's observe module). Run at home with plain ``pytest``: the answer
key shipped with the hand-out holds the reference's observations for the public seed.
"""


def _number(rng, low=0.5, high=6.0):
    """A random float away from zero, with a random sign."""
    return rng.choice((-1, 1)) * rng.uniform(low, high)


def _names(node, named):
    """The names of a node's children among ``named`` ('?' for any other object)."""
    ids = {id(v): k for k, v in named.items()}
    kids = getattr(node, "prev", None)
    if kids is None:
        kids = getattr(node, "_prev", ())
    return sorted(ids.get(id(kid), "?") for kid in kids)


def _kids_data(node):
    kids = getattr(node, "prev", None)
    if kids is None:
        kids = getattr(node, "_prev", ())
    return sorted(getattr(kid, "data", None) for kid in kids)


def test_add_two_values(Value, rng, observe):
    x, y = _number(rng), _number(rng)
    observe.input("a", x)
    observe.input("b", y)
    a, b = Value(x), Value(y)
    observe.blame("Value.__add__")
    out = a + b
    observe("type", type(out).__name__)
    observe("data", out.data)
    observe("label", out._op)
    observe("children", _names(out, {"a": a, "b": b}))
    observe("grad starts at 0", out.grad)
    observe("operands unchanged", [a.data, b.data])


def test_add_number(Value, rng, observe):
    x, n = _number(rng), round(_number(rng), 2)
    observe.input("a", x)
    observe.input("n", n)
    a = Value(x)
    observe.blame("Value.__add__")
    right = a + n
    observe("a + n", right.data)
    observe("a + n wraps n in a Value", _kids_data(right))
    observe.blame("Value.__radd__")
    left = n + a
    observe("n + a", left.data)
    observe("n + a is a Value", type(left).__name__)


def test_multiply_two_values(Value, rng, observe):
    x, y = _number(rng), _number(rng)
    observe.input("a", x)
    observe.input("b", y)
    a, b = Value(x), Value(y)
    observe.blame("Value.__mul__")
    out = a * b
    observe("type", type(out).__name__)
    observe("data", out.data)
    observe("label", out._op)
    observe("children", _names(out, {"a": a, "b": b}))
    observe("operands unchanged", [a.data, b.data])


def test_multiply_number(Value, rng, observe):
    x, n = _number(rng), round(_number(rng), 2)
    observe.input("a", x)
    observe.input("n", n)
    a = Value(x)
    observe.blame("Value.__mul__")
    right = a * n
    observe("a * n", right.data)
    observe("a * n wraps n in a Value", _kids_data(right))
    observe.blame("Value.__rmul__")
    left = n * a
    observe("n * a", left.data)
    observe("n * a is a Value", type(left).__name__)


def test_power_int(Value, rng, observe):
    x, n = _number(rng, 0.5, 3.0), rng.randint(2, 4)
    observe.input("a", x)
    observe.input("n", n)
    a = Value(x)
    observe.blame("Value.__pow__")
    out = a**n
    observe("data", out.data)
    observe("label", out._op)
    observe("children", _names(out, {"a": a}))
    observe("a ** -1", (a**-1).data)
    observe("a ** 0", (a**0).data)


def test_power_float(Value, rng, observe):
    x, n = rng.uniform(0.5, 4.0), round(rng.uniform(0.2, 2.5), 3)
    observe.input("a", x)
    observe.input("n", n)
    a = Value(x)
    observe.blame("Value.__pow__")
    out = a**n
    observe("a ** n", out.data)
    observe("a ** -n", (a ** (-n)).data)
    observe("children", _names(out, {"a": a}))


def test_negate(Value, rng, observe):
    x = _number(rng)
    observe.input("a", x)
    a = Value(x)
    observe.blame("Value.__neg__")
    out = -a
    observe("-a", out.data)
    observe("type", type(out).__name__)
    observe("a unchanged", a.data)


def test_subtract(Value, rng, observe):
    x, y, n = _number(rng), _number(rng), round(_number(rng), 2)
    observe.input("a", x)
    observe.input("b", y)
    observe.input("n", n)
    a, b = Value(x), Value(y)
    observe.blame("Value.__sub__")
    observe("a - b", (a - b).data)
    observe("b - a", (b - a).data)
    observe("a - n", (a - n).data)
    observe("a - a", (a - a).data)


def test_subtract_from_number(Value, rng, observe):
    x, n = _number(rng), round(_number(rng), 2)
    observe.input("a", x)
    observe.input("n", n)
    a = Value(x)
    observe.blame("Value.__rsub__")
    out = n - a
    # The original exercise computed a - n here; n - a is what Python asks for.
    observe("n - a", out.data)
    observe("type", type(out).__name__)
    observe("4.5 - Value(3.0)", (4.5 - Value(3.0)).data)


def test_divide(Value, rng, observe):
    x, y, n = _number(rng), _number(rng), round(_number(rng), 2)
    observe.input("a", x)
    observe.input("b", y)
    observe.input("n", n)
    a, b = Value(x), Value(y)
    observe.blame("Value.__truediv__")
    observe("a / b", (a / b).data)
    observe("b / a", (b / a).data)
    observe("a / n", (a / n).data)


def test_divide_number(Value, rng, observe):
    x, n = _number(rng), round(_number(rng), 2)
    observe.input("a", x)
    observe.input("n", n)
    a = Value(x)
    observe.blame("Value.__rtruediv__")
    out = n / a
    observe("n / a", out.data)
    observe("type", type(out).__name__)


def test_mixed_expression(Value, rng, observe):
    x, y, z = _number(rng), _number(rng), _number(rng)
    observe.input("a", x)
    observe.input("b", y)
    observe.input("c", z)
    a, b, c = Value(x), Value(y), Value(z)
    out = (a * b + 3 - c / 2) ** 2 / (1 + a**2) - 2 * (b - 1.5) + (-c) * a
    observe("(a*b + 3 - c/2)**2 / (1 + a**2) - 2*(b - 1.5) + (-c)*a", out.data)
    observe("type", type(out).__name__)
