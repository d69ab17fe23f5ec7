"""Step 3: the activations tanh and relu, forward and backward, and Karpathy's checks."""

MISSING = "<missing>"


def _leaves(Value, rng, names, low=-3.0, high=3.0):
    return {name: Value(round(rng.uniform(low, high), 4)) for name in names}


def _show(observe, leaves):
    for name, leaf in leaves.items():
        observe.input(name, leaf.data)


def _attr(node, name):
    try:
        return getattr(node, name)
    except Exception:  # noqa: BLE001 - a student's property may raise anything
        return MISSING


def _only_child_is(node, child):
    kids = _attr(node, "prev")
    if kids is MISSING:
        kids = _attr(node, "_prev")
    if kids is MISSING:
        return MISSING
    try:
        return [kid is child for kid in kids]
    except TypeError:
        return MISSING


def test_tanh_values(Value, rng, observe):
    fixed = [0.0, 3.0, -3.0, 25.0, -25.0, 1000.0, -1000.0]
    drawn = [round(rng.uniform(-4, 4), 4) for _ in range(3)]
    observe.input("x", fixed + drawn)
    observe.item("Value.tanh:forward")
    observe("tanh(x)", [Value(x).tanh().data for x in fixed + drawn], tol=(1e-9, 1e-12))
    x = round(rng.uniform(-2, 2), 4)
    a = Value(x)
    out = a.tanh()
    observe("type", type(out).__name__)
    observe("tanh(a)", _attr(out, "data"))
    # The node this method builds (its children and its label) is this method's: a
    # constructor that keeps no children anywhere is charged where Value's own are judged,
    # and excuses this check there.
    observe("only child is a", _only_child_is(out, a), item="Value.tanh:label")
    observe("label", _attr(out, "_op"), item="Value.tanh:label")
    big = rng.choice((1, -1)) * round(rng.uniform(400, 2000), 2)
    observe.input("a large x", big)
    observe("tanh(a large x)", Value(big).tanh().data, tol=(1e-12, 1e-12))


def test_tanh_backward(Value, rng, observe):
    observe.item("Value.tanh:backward")
    v = _leaves(Value, rng, "ab", -1.5, 1.5)
    _show(observe, v)
    v["c"] = v["a"] * v["b"]
    v["d"] = v["c"].tanh()
    v["e"] = v["d"] * v["a"]
    v["e"].backward()
    observe.graph("graph of e = tanh(a * b) * a", v, output="e")
    w = {"x": Value(rng.choice((1, -1)) * round(rng.uniform(400, 2000), 2))}
    observe.input("a large x", w["x"].data)
    w["t"] = w["x"].tanh()
    w["t"].backward()
    # tanh saturates: its slope there is 0 (and computing it must not overflow).
    observe.graph("graph of tanh(a large x)", w, output="t", tol=(1e-9, 1e-12))


def test_relu_values(Value, rng, observe):
    drawn = [round(rng.uniform(-4, 4), 4) for _ in range(4)]
    xs = [-2.0, 0.0, 3.0, -1e-9, 1e-9] + drawn
    observe.input("x", xs)
    observe.item("Value.relu:forward")
    observe("relu(x)", [Value(x).relu().data for x in xs])
    x = round(rng.uniform(0.5, 3), 4)
    a = Value(x)
    out = a.relu()
    observe("type", type(out).__name__)
    observe("relu(a)", _attr(out, "data"))
    below = Value(-x).relu()
    observe("relu(-a) is a node too", [type(below).__name__, _attr(below, "data")])
    # The node this method builds (its children and its label) is this method's: a
    # constructor that keeps no children anywhere is charged where Value's own are judged,
    # and excuses this check there.
    observe("only child is a", _only_child_is(out, a), item="Value.relu:label")
    observe("label", _attr(out, "_op"), item="Value.relu:label")


def test_relu_backward(Value, rng, observe):
    observe.item("Value.relu:backward")
    v = _leaves(Value, rng, "ab", 0.5, 2.0)
    _show(observe, v)
    v["c"] = v["a"] * v["b"]
    v["d"] = v["c"].relu()
    v["e"] = v["d"] * v["b"]
    v["e"].backward()
    observe.graph("graph of e = relu(a * b) * b", v, output="e")
    for label, x in (
        ("x > 0", round(rng.uniform(0.5, 3), 4)),
        ("x < 0", -round(rng.uniform(0.5, 3), 4)),
        ("x = 0", 0.0),
    ):
        w = {"x": Value(x), "s": Value(round(rng.uniform(1, 3), 3))}
        w["r"] = w["x"].relu()
        w["out"] = w["r"] * w["s"]
        w["out"].backward()
        observe.graph(f"graph of relu(x) * s at {label}", w, output="out")


def test_karpathy_checks(Value, rng, observe):
    # The two sanity checks of Karpathy's micrograd, with inputs drawn near the published
    # ones. Their every node is audited: a fault of an operator owned elsewhere is charged
    # there; this check owns only what shows when everything is combined (such as +=).
    observe.item("Value:karpathy")
    x = Value(round(rng.uniform(-5, -3), 4))
    observe.input("x", x.data)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    observe.graph("Karpathy's first check: y", {"x": x, "y": y}, output="y")
    a = Value(round(rng.uniform(-5, -3.5), 4))
    b = Value(round(rng.uniform(1.5, 2.5), 4))
    observe.input("a", a.data)
    observe.input("b", b.data)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    observe.graph("Karpathy's second check: g", {"a": a, "b": b, "g": g}, output="g")
