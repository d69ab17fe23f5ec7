"""Step 2: gradients -- each operator's backward, topo_sort and backward().

Gradient checks record the whole graph (``observe.graph``): every named node's value,
gradient, label and children, plus each operator's local backward on its own. The grader
uses that to point at the first node whose gradient is wrong and the operator to blame.
"""


def _leaves(Value, rng, names, low=-3.0, high=3.0):
    return {name: Value(round(rng.uniform(low, high), 4)) for name in names}


def _show(observe, leaves):
    for name, leaf in leaves.items():
        observe.input(name, leaf.data)


def test_add_backward(Value, rng, observe):
    v = _leaves(Value, rng, "ab")
    _show(observe, v)
    v["c"] = v["a"] + v["b"]
    v["d"] = v["c"] * v["c"]  # gives c a gradient other than 1
    v["d"].backward()
    observe.graph("graph of d = (a + b) * (a + b)", v, output="d")


def test_multiply_backward(Value, rng, observe):
    v = _leaves(Value, rng, "abc")
    _show(observe, v)
    v["d"] = v["a"] * v["b"]
    v["e"] = v["d"] * v["c"]
    v["e"].backward()
    observe.graph("graph of e = (a * b) * c", v, output="e")


def test_power_backward(Value, rng, observe):
    v = _leaves(Value, rng, "ab", 0.5, 2.5)
    _show(observe, v)
    n = rng.randint(2, 4)
    observe.input("n", n)
    v["c"] = v["a"] ** n
    v["d"] = v["b"] ** 0.5
    v["e"] = v["c"] * v["d"]
    v["e"].backward()
    observe.graph("graph of e = a**n * b**0.5", v, output="e")


def test_negative_power_backward(Value, rng, observe):
    v = _leaves(Value, rng, "ab", 0.5, 2.5)
    _show(observe, v)
    v["c"] = v["a"] ** -1
    v["d"] = v["b"] ** -2
    v["e"] = v["c"] + v["d"]
    v["e"].backward()
    observe.graph("graph of e = a**-1 + b**-2", v, output="e")


def test_derived_operators_backward(Value, rng, observe):
    v = _leaves(Value, rng, "abc", 0.5, 3.0)
    _show(observe, v)
    a, b, c = v["a"], v["b"], v["c"]
    out = (a - b) / c + 2 / a - (3 - b) * -c
    out.backward()
    # No single method to blame: the rubric's hint says where to look.
    observe("out = (a - b) / c + 2 / a - (3 - b) * -c", out.data)
    observe("[a.grad, b.grad, c.grad]", [a.grad, b.grad, c.grad])


def test_number_operands_backward(Value, rng, observe):
    v = _leaves(Value, rng, "ab")
    _show(observe, v)
    a, b = v["a"], v["b"]
    out = (a * 2 + 3) * b + 4 * a + 1.5
    out.backward()
    observe("out = (a*2 + 3)*b + 4*a + 1.5", out.data)
    observe("[a.grad, b.grad]", [a.grad, b.grad])


def test_reused_node_add(Value, rng, observe):
    v = _leaves(Value, rng, "a")
    _show(observe, v)
    v["b"] = v["a"] + v["a"]
    v["b"].backward()
    observe.graph("graph of b = a + a", v, output="b")


def test_reused_node_multiply(Value, rng, observe):
    v = _leaves(Value, rng, "a")
    _show(observe, v)
    v["b"] = v["a"] * v["a"]
    v["b"].backward()
    observe.graph("graph of b = a * a", v, output="b")


def test_node_used_twice(Value, rng, observe):
    v = _leaves(Value, rng, "ab")
    _show(observe, v)
    v["c"] = v["a"] * v["b"]
    v["d"] = v["c"] + v["a"]
    v["e"] = v["c"] * v["d"]
    v["f"] = v["e"] + v["b"]
    v["f"].backward()
    observe.graph("graph of f = (a*b) * (a*b + a) + b", v, output="f")


def test_deep_chain(Value, rng, observe):
    v = _leaves(Value, rng, "abc", 0.6, 1.2)
    _show(observe, v)
    node = v["a"]
    for step in range(1, 41):
        leaf = v[rng.choice("abc")]
        node = node * leaf if rng.random() < 0.5 else node + leaf
        v[f"n{step}"] = node
    node.backward()
    observe.graph("graph of a chain of 40 operations", v, output="n40")


def test_topo_sort_order(Value, rng, observe):
    v = _leaves(Value, rng, "ab")
    _show(observe, v)
    v["c"] = v["a"] * v["b"]
    v["d"] = v["a"] + v["c"]
    v["e"] = v["d"] * v["c"]
    v["f"] = v["e"] + v["b"]
    v["g"] = v["f"] * v["a"]
    observe.blame("Value.topo_sort")
    observe("g", v["g"].data)
    observe.topo("topo_sort() of g", v["g"].topo_sort(), v, output="g")


def test_topo_sort_deep(Value, rng, observe):
    v = _leaves(Value, rng, "ab", 0.6, 1.2)
    _show(observe, v)
    node = v["a"]
    for step in range(1, 61):
        node = node + v["b"] if step % 2 else node * v["b"]
        v[f"n{step}"] = node
    observe.blame("Value.topo_sort")
    observe("n60", node.data)
    observe.topo("topo_sort() of n60", node.topo_sort(), v, output="n60")


def test_backward_seeds_output(Value, rng, observe):
    v = _leaves(Value, rng, "ab")
    _show(observe, v)
    out = v["a"] * v["b"] + v["a"]
    out.backward()
    observe.blame("Value.backward")
    observe("out.grad after out.backward()", out.grad)
    observe("[a.grad, b.grad]", [v["a"].grad, v["b"].grad])
    lone = Value(v["a"].data)
    lone.backward()
    observe("a lone Value's grad after backward()", lone.grad)
