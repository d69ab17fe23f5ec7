"""Step 3: the activations tanh and relu, forward and backward."""


def _leaves(Value, rng, names, low=-3.0, high=3.0):
    return {name: Value(round(rng.uniform(low, high), 4)) for name in names}


def _show(observe, leaves):
    for name, leaf in leaves.items():
        observe.input(name, leaf.data)


def _children(node):
    kids = getattr(node, "prev", None)
    return list(getattr(node, "_prev", ()) if kids is None else kids)


def test_tanh_values(Value, rng, observe):
    fixed = [0.0, 3.0, -3.0, 25.0, -25.0, 1000.0, -1000.0]
    drawn = [round(rng.uniform(-4, 4), 4) for _ in range(3)]
    observe.input("x", fixed + drawn)
    observe.blame("Value.tanh")
    observe("tanh(x)", [Value(x).tanh().data for x in fixed + drawn], tol=(1e-9, 1e-12))


def test_tanh_node(Value, rng, observe):
    x = round(rng.uniform(-2, 2), 4)
    observe.input("a", x)
    a = Value(x)
    observe.blame("Value.tanh")
    out = a.tanh()
    observe("type", type(out).__name__)
    observe("data", out.data)
    observe("label", out._op)
    observe("only child is a", [kid is a for kid in _children(out)])


def test_tanh_backward(Value, rng, observe):
    v = _leaves(Value, rng, "ab", -1.5, 1.5)
    _show(observe, v)
    v["c"] = v["a"] * v["b"]
    v["d"] = v["c"].tanh()
    v["e"] = v["d"] * v["a"]
    v["e"].backward()
    observe.graph("graph of e = tanh(a * b) * a", v, output="e")


def test_tanh_saturates(Value, rng, observe):
    big = rng.choice((1, -1)) * round(rng.uniform(400, 2000), 2)
    observe.input("x", big)
    observe.blame("Value.tanh")
    a = Value(big)
    out = a.tanh()
    out.backward()
    observe("tanh(x)", out.data, tol=(1e-12, 1e-12))
    observe("d tanh(x) / dx", a.grad, tol=(1e-9, 1e-12))
    small = Value(-big / 100)
    observe("tanh(x / 100)", small.tanh().data)


def test_relu_values(Value, rng, observe):
    drawn = [round(rng.uniform(-4, 4), 4) for _ in range(4)]
    xs = [-2.0, 0.0, 3.0] + drawn
    observe.input("x", xs)
    observe.blame("Value.relu")
    observe("relu(x)", [Value(x).relu().data for x in xs])


def test_relu_node(Value, rng, observe):
    x = round(rng.uniform(0.5, 3), 4)
    observe.input("a", x)
    a = Value(x)
    observe.blame("Value.relu")
    out = a.relu()
    observe("type", type(out).__name__)
    observe("data", out.data)
    observe("label", out._op)
    observe("only child is a", [kid is a for kid in _children(out)])
    observe("relu(-a) is a node too", [(-a).relu()._op, (-a).relu().data])


def test_relu_backward(Value, rng, observe):
    v = _leaves(Value, rng, "ab", 0.5, 2.0)
    _show(observe, v)
    v["c"] = v["a"] * v["b"]
    v["d"] = v["c"].relu()
    v["e"] = v["d"] * v["b"]
    v["e"].backward()
    observe.graph("graph of e = relu(a * b) * b", v, output="e")


def test_relu_gradient_at_zero_and_below(Value, rng, observe):
    negative = -round(rng.uniform(0.5, 3), 4)
    positive = round(rng.uniform(0.5, 3), 4)
    observe.input("x", [positive, negative, 0.0])
    observe.blame("Value.relu")
    grads = []
    for x in (positive, negative, 0.0):
        a = Value(x)
        scale = Value(round(rng.uniform(1, 3), 3))
        out = a.relu() * scale
        out.backward()
        grads.append([out.data, a.grad, scale.grad])
    observe("[relu(x)*s, x.grad, s.grad] at x > 0, x < 0 and x = 0", grads)


def test_neuron_by_hand(Value, rng, observe):
    v = _leaves(Value, rng, ["x1", "x2", "w1", "w2"], -2.0, 2.0)
    v["b"] = Value(round(rng.uniform(-1, 1), 4))
    _show(observe, v)
    v["x1w1"] = v["x1"] * v["w1"]
    v["x2w2"] = v["x2"] * v["w2"]
    v["s"] = v["x1w1"] + v["x2w2"]
    v["n"] = v["s"] + v["b"]
    v["o"] = v["n"].tanh()
    v["o"].backward()
    observe.graph("graph of o = tanh(x1*w1 + x2*w2 + b)", v, output="o")


def test_karpathy_expression(Value, rng, observe):
    # The first sanity check of Karpathy's micrograd, with x drawn near the published -4.
    x = Value(round(rng.uniform(-5, -3), 4))
    observe.input("x", x.data)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    observe("y", y.data)
    observe("x.grad", x.grad)


def test_karpathy_more_operations(Value, rng, observe):
    # Karpathy's second check, with a and b drawn near the published -4 and 2.
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
    observe("g", g.data)
    observe("a.grad", a.grad)
    observe("b.grad", b.grad)
