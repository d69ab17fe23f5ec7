"""Step 4: Neuron, Layer and MLP -- structure and the forward pass.

Weights are set by the tests through ``w`` and ``b`` (never taken from the code's own
random draws), so every correct solution computes the same numbers whatever order it draws
in. The forward checks of Layer and MLP keep every weighted input positive, so they hold
both before step 5 (ReLU everywhere) and after it (linear output layer). A composite is
observed next to what your own parts compute (``same_as``): a Layer that is wrong only
because its Neurons are is charged to the Neuron.

The starting weights your code draws are reported as they are and never written back:
the same untouched objects then compute a forward pass from them, which the grader replays
from what was reported, so a report that is not what the network holds cannot pass.
"""


def _set_neuron(neuron, weights, bias):
    for w, value in zip(neuron.w, weights):
        w.data = value
    neuron.b.data = bias


def _draw(rng, count, low=-1.0, high=1.0):
    return [round(rng.uniform(low, high), 4) for _ in range(count)]


def _set_positive(layers, rng):
    """Give every neuron weights in [0.05, 0.6] and a bias in [0.1, 0.5]: with positive
    inputs every weighted input stays positive, so ReLU or not gives the same outputs."""
    chosen = []
    for layer in layers:
        for neuron in layer.neurons:
            weights = _draw(rng, len(neuron.w), 0.05, 0.6)
            bias = round(rng.uniform(0.1, 0.5), 4)
            _set_neuron(neuron, weights, bias)
            chosen.append(weights + [bias])
    return chosen


def _read_back(neurons, rng):
    """Give every weight and bias its own value, then read them all back.

    Catches Values shared between weights (``[Value(x)] * nin``) or neurons shared between
    places in a layer (``[Neuron(nin)] * nout``): setting one changes the other.
    """
    chosen = [_draw(rng, len(n.w) + 1) for n in neurons]
    for neuron, values in zip(neurons, chosen):
        _set_neuron(neuron, values[:-1], values[-1])
    return [[w.data for w in n.w] + [n.b.data] for n in neurons]


def _data(out):
    if isinstance(out, list):
        return [getattr(o, "data", None) for o in out]
    return getattr(out, "data", None)


def _spread_problem(values):
    """Why ``values`` (a network's starting weights) are no start to learn from, or None."""
    numbers = [v for v in values if type(v) in (int, float)]
    if len(numbers) != len(values):
        return "they are not all numbers"
    if any(not -1 <= v <= 1 for v in numbers):
        return "they are not all in [-1, 1]"
    if len(set(numbers)) != len(numbers):
        return "some are equal: each weight must be drawn on its own"
    if max(numbers) - min(numbers) < 0.5 or min(numbers) >= 0 or max(numbers) <= 0:
        return "they do not spread over [-1, 1] (draw each uniformly from -1 to 1)"
    return None


def test_neuron_weights(Neuron, rng, observe):
    nin = rng.randint(2, 7)
    observe.input("nin", nin)
    observe.item("Neuron.__init__")
    neuron = Neuron(nin)
    observe("len(neuron.w)", len(neuron.w))
    observe("types of neuron.w", [type(w).__name__ for w in neuron.w])
    observe("type of neuron.b", type(neuron.b).__name__)
    observe("w and b can be set one by one", _read_back([neuron], rng))
    # Eight fresh neurons of 4 inputs: 40 starting values, reported as drawn.
    neurons = [Neuron(4) for _ in range(8)]
    drawn = [[w.data for w in n.w] + [n.b.data] for n in neurons]
    reported = observe.given("starting w and b of eight Neuron(4)", drawn)
    flat = [v for values in reported for v in values] if type(reported) is list else []
    problem = _spread_problem(flat) if len(flat) == 40 else "there are not 8 x 5 of them"
    weights = [v for values in reported for v in values[:-1]] if problem is None else []
    if problem is None and not min(weights) < 0 < max(weights):
        # 32 weights drawn from [-1, 1] are all of one sign once in four billion draws.
        problem = "the weights w are all of one sign (draw each uniformly from -1 to 1)"
    observe.expect(
        "starting weights spread over [-1, 1], all different",
        problem is None,
        f"the starting weights and biases are no start to learn from: {problem}",
    )
    x = _draw(rng, 4, 0.1, 1.0)
    observe.input("x", x)
    if observe.replaying:  # the reference starts from what was reported
        for n, values in zip(neurons, reported):
            _set_neuron(n, values[:-1], values[-1])
    # Bound to what was reported: the untouched neurons compute from their own weights.
    observe(
        "each neuron(x), from its starting weights",
        [_data(n(x)) for n in neurons],
        same_as="each neuron(x), with those weights set through w and b",
        replayed=True,
    )
    for n, values in zip(neurons, reported):
        _set_neuron(n, values[:-1], values[-1])
    observe(
        "each neuron(x), with those weights set through w and b",
        [_data(n(x)) for n in neurons],
        item="Neuron.__call__",
        replayed=True,
    )


def test_neuron_forward(Neuron, Value, rng, observe):
    nin = rng.randint(2, 6)
    neuron = Neuron(nin)
    weights, x = _draw(rng, nin), _draw(rng, nin, -2, 2)
    # A bias that makes w . x + b positive, so the ReLU lets the sum through.
    bias = round(-sum(w * xi for w, xi in zip(weights, x)) + rng.uniform(0.1, 1.5), 4)
    observe.input("w", weights)
    observe.input("b", bias)
    observe.input("x", x)
    _set_neuron(neuron, weights, bias)
    observe.item("Neuron.__call__")
    out = neuron(x)
    observe("type of neuron(x)", type(out).__name__)
    observe.node("neuron(x)", out)
    # The same neuron with inputs chosen to make w . x + b negative: the ReLU gives 0.
    negative = [-abs(xi) if wi > 0 else abs(xi) for wi, xi in zip(weights, x)]
    _set_neuron(neuron, weights, -abs(bias) - 0.5)
    observe.node("neuron(x) where w . x + b < 0", neuron(negative))
    _set_neuron(neuron, weights, round(rng.uniform(2, 3), 4))
    observe.node("neuron([Value(x_i) ...])", neuron([Value(xi) for xi in x]))


def test_layer_structure(Layer, rng, observe):
    nin, nout = rng.randint(2, 6), rng.randint(2, 6)
    observe.input("nin", nin)
    observe.input("nout", nout)
    observe.item("Layer.__init__")
    layer = Layer(nin, nout)
    observe("len(layer.neurons)", len(layer.neurons))
    observe("types of layer.neurons", [type(n).__name__ for n in layer.neurons])
    observe("len(w) of each neuron", [len(n.w) for n in layer.neurons], item="Neuron.__init__")
    observe("each neuron's w and b can be set on their own", _read_back(layer.neurons, rng))


def test_layer_forward(Layer, rng, observe):
    observe.item("Layer.__call__")
    nin, nout = rng.randint(2, 5), rng.randint(2, 5)
    layer = Layer(nin, nout)
    chosen = _set_positive([layer], rng)
    x = _draw(rng, nin, 0.1, 2)
    observe.input("x", x)
    observe.input("w and b of each neuron", chosen)
    observe("each neuron(x)", [_data(n(x)) for n in layer.neurons], item="Neuron.__call__")
    out = layer(x)
    observe("type of layer(x)", type(out).__name__)
    observe("layer(x)", _data(out), same_as="each neuron(x)")
    single = Layer(nin, 1)
    _set_positive([single], rng)
    observe("its neuron(x)", _data(single.neurons[0](x)), item="Neuron.__call__")
    one = single(x)
    observe("type of Layer(nin, 1)(x)", type(one).__name__)
    observe("Layer(nin, 1)(x)", _data(one), same_as="its neuron(x)")


def test_mlp_structure(MLP, Layer, rng, observe):
    nin = rng.randint(2, 5)
    sizes = [rng.randint(2, 5) for _ in range(rng.randint(1, 3))] + [1]
    observe.input("MLP", f"MLP({nin}, {sizes})")
    observe.item("MLP.__init__")
    mlp = MLP(nin, sizes)
    observe("layer_sizes", list(mlp.layer_sizes))
    observe("len(mlp.layers)", len(mlp.layers))
    observe(
        "Layer(3, n) has n neurons",
        [len(Layer(3, n).neurons) for n in sizes],
        item="Layer.__init__",
    )
    observe(
        "neurons per layer",
        [len(layer.neurons) for layer in mlp.layers],
        same_as="Layer(3, n) has n neurons",
    )
    observe("len(w) per neuron", [[len(n.w) for n in layer.neurons] for layer in mlp.layers])
    standard = MLP(3, [4, 4, 1])
    count = sum(len(n.w) + 1 for layer in standard.layers for n in layer.neurons)
    observe("weights and biases of MLP(3, [4, 4, 1])", count)


def test_mlp_forward(MLP, rng, observe):
    observe.item("MLP.__call__")
    for label, nin, sizes in (
        ("MLP(3, [4, 4, 1])", 3, [4, 4, 1]),
        ("MLP(4, [5, 3, nout])", 4, [5, 3, rng.randint(2, 3)]),
    ):
        mlp = MLP(nin, sizes)
        chosen = _set_positive(mlp.layers, rng)
        x = _draw(rng, nin, 0.1, 2)
        observe.input(f"x for {label}", x)
        observe.input(f"w and b of {label}, neuron by neuron", chosen)
        # What your own layers give, one after the other (a wrong layer is charged there).
        through = x
        for layer in mlp.layers:
            through = layer(through)
        observe(
            f"your layers of {label}, one after the other", _data(through), item="Layer.__call__"
        )
        out = mlp(x)
        observe(f"type of {label}(x)", type(out).__name__)
        observe(f"{label}(x)", _data(out), same_as=f"your layers of {label}, one after the other")
