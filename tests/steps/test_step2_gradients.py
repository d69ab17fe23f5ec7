"""Step 2: gradients -- each operator's backward, topo_sort and backward().

Gradient checks record the whole graph (``observe.graph``): every node's value, gradient,
label and children, and each node's own ``_backward`` called alone. The grader audits each
node against the operator its label names, so it can tell which operator's backward is
wrong, whether a backward adds (``+=``) or overwrites, and whether ``backward()`` visited the
nodes as it should; a difference caused by something another check owns is charged there.
The graphs here use Values only (no plain numbers, no derived operators) except in the
check of the derived operators, so that step 1's number handling cannot break them.
"""


def _leaves(Value, rng, names, low=-3.0, high=3.0):
    return {name: Value(round(rng.uniform(low, high), 4)) for name in names}


def _show(observe, leaves):
    for name, leaf in leaves.items():
        observe.input(name, leaf.data)


def _walk(order, output):
    """Backpropagate over ``order`` (what topo_sort returned) the way backward() would:
    the test does it itself, so the gradients it gets depend on the order alone."""
    nodes = list(order) if isinstance(order, (list, tuple)) else []
    for node in nodes:
        node.grad = 0
    output.grad = 1
    for node in reversed(nodes):
        node._backward()


def test_add_backward(Value, rng, observe):
    v = _leaves(Value, rng, "abc")
    _show(observe, v)
    v["d"] = v["a"] + v["b"]
    v["e"] = v["d"] + v["d"]  # d feeds e twice: both contributions must add up
    v["f"] = v["c"] + v["c"]
    v["g"] = v["e"] + v["f"]
    v["h"] = v["g"] + v["a"]
    v["h"].backward()
    observe.graph(
        "graph of h = ((a + b) + (a + b)) + (c + c) + a",
        v,
        output="h",
        item="Value.__add__:backward",
    )


def test_multiply_backward(Value, rng, observe):
    v = _leaves(Value, rng, "abc")
    _show(observe, v)
    v["d"] = v["a"] * v["b"]
    v["e"] = v["d"] * v["c"]
    v["f"] = v["a"] * v["a"]
    v["g"] = v["e"] * v["f"]
    v["g"].backward()
    observe.graph(
        "graph of g = ((a * b) * c) * (a * a)", v, output="g", item="Value.__mul__:backward"
    )


def test_power_backward(Value, rng, observe):
    v = _leaves(Value, rng, "abc", 0.5, 2.5)
    _show(observe, v)
    n = rng.randint(2, 4)
    observe.input("n", n)
    v["d"] = v["a"] ** n
    v["e"] = v["b"] ** 0.5
    v["f"] = v["c"] ** -1
    v["g"] = v["b"] ** -2
    v["h"] = v["d"] * v["e"]
    v["i"] = v["f"] + v["g"]
    v["j"] = v["h"] * v["i"]
    v["j"].backward()
    observe.graph(
        "graph of j = (a**n * b**0.5) * (c**-1 + b**-2)",
        v,
        output="j",
        item="Value.__pow__:backward",
    )


def test_derived_operators_backward(Value, rng, observe):
    # Each derived operator on fresh leaves, so each difference names its operator; their
    # forward values are step 1's (a wrong one is charged there, not here).
    a0, b0, n = (round(rng.uniform(0.5, 3.0), 4) for _ in range(3))
    observe.input("a", a0)
    observe.input("b", b0)
    observe.input("n", n)
    cases = (
        ("-a", "Value.__neg__", lambda a, b: -a),
        ("a - b", "Value.__sub__", lambda a, b: a - b),
        ("n - a", "Value.__rsub__", lambda a, b: n - a),
        ("a / b", "Value.__truediv__", lambda a, b: a / b),
        ("n / a", "Value.__rtruediv__", lambda a, b: n / a),
        ("n + a", "Value.__radd__", lambda a, b: n + a),
        ("n * a", "Value.__rmul__", lambda a, b: n * a),
    )
    for label, method, build in cases:
        observe.item(method)
        v = {"a": Value(a0), "b": Value(b0)}
        v["out"] = build(v["a"], v["b"])
        v["out"].backward()
        observe.graph(
            f"graph of {label}", v, output="out", item=f"{method}:backward", forward=method
        )


def test_topo_sort(Value, rng, observe):
    v = _leaves(Value, rng, "ab")
    _show(observe, v)
    v["c"] = v["a"] * v["b"]
    v["d"] = v["a"] + v["c"]
    v["e"] = v["d"] * v["c"]
    v["f"] = v["e"] + v["b"]
    v["g"] = v["f"] * v["a"]
    w = _leaves(Value, rng, "ab", 0.6, 1.2)
    node = w["a"]
    for step in range(1, 61):
        node = node + w["b"] if step % 2 else node * w["b"]
        w[f"n{step}"] = node
    observe.item("Value.topo_sort")
    order, long_order = v["g"].topo_sort(), node.topo_sort()
    # Walking each returned list backwards must give the right gradients, whatever order
    # the list is in: bound to what topo_sort returned. (The orders themselves are judged
    # last: what the grader reads of them comes from the submission's run.)
    _walk(order, v["g"])
    observe.graph(
        "gradients from walking topo_sort()'s list of g backwards",
        v,
        output="g",
        traversal="Value.topo_sort",
    )
    _walk(long_order, node)
    observe.graph(
        "gradients from walking topo_sort()'s list of the chain backwards",
        w,
        output="n60",
        traversal="Value.topo_sort",
    )
    observe.topo("topo_sort() of g", order, v, output="g")
    observe.topo("topo_sort() of a chain of 60", long_order, w, output="n60")


def test_node_used_twice(Value, rng, observe):
    observe.item("Value.backward:order")
    v = _leaves(Value, rng, "ab")
    _show(observe, v)
    v["c"] = v["a"] * v["b"]
    v["d"] = v["c"] + v["a"]
    v["e"] = v["c"] * v["d"]
    v["f"] = v["e"] + v["b"]
    v["f"].backward()
    observe.graph("graph of f = (a*b) * (a*b + a) + b", v, output="f")
    w = _leaves(Value, rng, "abc", 0.6, 1.2)
    node = w["a"]
    for step in range(1, 41):
        leaf = w[rng.choice("abc")]
        node = node * leaf if rng.random() < 0.5 else node + leaf
        w[f"n{step}"] = node
    node.backward()
    observe.graph("graph of a chain of 40 operations", w, output="n40")


def test_backward_seeds_output(Value, rng, observe):
    observe.item("Value.backward:seed")
    v = _leaves(Value, rng, "ab")
    _show(observe, v)
    v["c"] = v["a"] * v["b"]
    v["out"] = v["c"] + v["a"]
    v["out"].backward()
    observe("out.grad after out.backward()", v["out"].grad)
    observe.graph("graph of out = a * b + a", v, output="out", traversal="Value.backward:seed")
    lone = Value(v["a"].data)
    lone.backward()
    observe("a lone Value's grad after backward()", lone.grad)
