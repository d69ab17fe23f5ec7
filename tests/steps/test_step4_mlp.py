"""Step 4: Neuron, Layer and MLP -- structure and the forward pass.

Weights are set by the tests through ``w`` and ``b`` (never taken from the code's own
random draws), so every correct solution computes the same numbers whatever order it draws
in. Forward checks keep the output layer's input positive, so they hold both before step 5
(ReLU everywhere) and after it (linear output layer).
"""


def _set_neuron(neuron, weights, bias):
    for w, value in zip(neuron.w, weights):
        w.data = value
    neuron.b.data = bias


def _draw(rng, count, low=-1.0, high=1.0):
    return [round(rng.uniform(low, high), 4) for _ in range(count)]


def _set_network(layers, rng, last_positive=True):
    """Give every neuron test-chosen weights; the last layer's weighted input stays > 0."""
    chosen = []
    for index, layer in enumerate(layers):
        last = index == len(layers) - 1
        for neuron in layer.neurons:
            weights = _draw(rng, len(neuron.w), 0.0 if last and last_positive else -0.8, 0.8)
            bias = round(rng.uniform(1.0, 2.0), 4) if last and last_positive else _draw(rng, 1)[0]
            _set_neuron(neuron, weights, bias)
            chosen.append(weights + [bias])
    return chosen


def _read_back(neurons, rng):
    """Give every weight and bias its own value, then read them all back.

    Catches Values shared between weights (``[Value(x)] * nin``) or neurons shared
    between places in a layer (``[Neuron(nin)] * nout``): setting one changes the other.
    """
    chosen = [_draw(rng, len(n.w) + 1) for n in neurons]
    for neuron, values in zip(neurons, chosen):
        _set_neuron(neuron, values[:-1], values[-1])
    return [[w.data for w in n.w] + [n.b.data] for n in neurons]


def _data(out):
    if isinstance(out, list):
        return [getattr(o, "data", None) for o in out]
    return getattr(out, "data", None)


def test_neuron_weights(Neuron, rng, observe):
    nin = rng.randint(2, 7)
    observe.input("nin", nin)
    observe.blame("Neuron.__init__")
    neuron = Neuron(nin)
    observe("len(neuron.w)", len(neuron.w))
    observe("types of neuron.w", [type(w).__name__ for w in neuron.w])
    observe("type of neuron.b", type(neuron.b).__name__)
    initial = [w.data for w in neuron.w] + [neuron.b.data]
    observe("w and b can be set one by one", _read_back([neuron], rng))
    drawn = observe.given("initial w and b", initial)
    numbers = [x for x in drawn if type(x) in (int, float)]
    ok = len(numbers) == len(drawn) and all(-1 <= x <= 1 for x in numbers)
    observe.expect(
        "w and b start in [-1, 1]",
        ok and any(x != 0 for x in numbers),
        "the initial weights and bias must be numbers drawn from [-1, 1], "
        f"not all zero; got {drawn}",
    )


def test_neurons_start_different(Layer, rng, observe):
    nin, nout = rng.randint(2, 5), rng.randint(3, 5)
    observe.input("nin", nin)
    observe.input("nout", nout)
    observe.blame("Neuron.__init__")
    layer = Layer(nin, nout)
    observe("len(layer.neurons)", len(layer.neurons))
    initial = [[w.data for w in n.w] for n in layer.neurons]
    observe("each neuron's w and b can be set on their own", _read_back(layer.neurons, rng))
    drawn = observe.given("each neuron's initial w", initial)
    distinct = len({repr(weights) for weights in drawn}) == len(drawn)
    observe.expect(
        "neurons start different",
        distinct,
        "every neuron of a layer got the same initial weights: draw them per "
        "neuron, or all neurons will learn the same thing",
    )


def test_neuron_forward(Neuron, rng, observe):
    nin = rng.randint(2, 6)
    neuron = Neuron(nin)
    weights, x = _draw(rng, nin), _draw(rng, nin, -2, 2)
    # A bias that makes w . x + b positive, so the ReLU lets the sum through.
    bias = round(-sum(w * xi for w, xi in zip(weights, x)) + rng.uniform(0.1, 1.5), 4)
    observe.input("w", weights)
    observe.input("b", bias)
    observe.input("x", x)
    _set_neuron(neuron, weights, bias)
    observe.blame("Neuron.__call__")
    out = neuron(x)
    observe("type of neuron(x)", type(out).__name__)
    observe("neuron(x)", out.data)
    # The same neuron with inputs chosen to make w . x + b negative: the ReLU gives 0.
    negative = [-abs(xi) if wi > 0 else abs(xi) for wi, xi in zip(weights, x)]
    _set_neuron(neuron, weights, -abs(bias) - 0.5)
    observe("neuron(x) where w . x + b < 0", neuron(negative).data)


def test_neuron_forward_value_inputs(Neuron, Value, rng, observe):
    nin = rng.randint(2, 5)
    neuron = Neuron(nin)
    weights, bias = _draw(rng, nin), round(rng.uniform(2, 3), 4)
    x = _draw(rng, nin, -1, 1)
    observe.input("x", x)
    _set_neuron(neuron, weights, bias)
    observe.blame("Neuron.__call__")
    observe("neuron([Value(x_i) ...])", neuron([Value(xi) for xi in x]).data)


def test_layer_structure(Layer, rng, observe):
    nin, nout = rng.randint(2, 6), rng.randint(2, 6)
    observe.input("nin", nin)
    observe.input("nout", nout)
    observe.blame("Layer.__init__")
    layer = Layer(nin, nout)
    observe("len(layer.neurons)", len(layer.neurons))
    observe("len(w) of each neuron", [len(n.w) for n in layer.neurons])
    observe("types of layer.neurons", [type(n).__name__ for n in layer.neurons])
    observe("each neuron's w and b can be set on their own", _read_back(layer.neurons, rng))


def test_layer_forward(Layer, rng, observe):
    nin, nout = rng.randint(2, 5), rng.randint(2, 5)
    layer = Layer(nin, nout)
    chosen = _set_network([layer], rng, last_positive=False)
    x = _draw(rng, nin, -2, 2)
    observe.input("x", x)
    observe.input("w and b of each neuron", chosen)
    observe.blame("Layer.__call__")
    out = layer(x)
    observe("type of layer(x)", type(out).__name__)
    observe("layer(x)", _data(out))


def test_layer_single_output(Layer, rng, observe):
    nin = rng.randint(2, 5)
    layer = Layer(nin, 1)
    chosen = _set_network([layer], rng)
    x = _draw(rng, nin, -2, 2)
    observe.input("x", x)
    observe.input("w and b", chosen)
    observe.blame("Layer.__call__")
    out = layer(x)
    observe("type of Layer(nin, 1)(x)", type(out).__name__)
    observe("Layer(nin, 1)(x)", _data(out))


def test_mlp_structure(MLP, rng, observe):
    nin = rng.randint(2, 5)
    sizes = [rng.randint(2, 5) for _ in range(rng.randint(1, 3))] + [1]
    observe.input("MLP", f"MLP({nin}, {sizes})")
    observe.blame("MLP.__init__")
    mlp = MLP(nin, sizes)
    observe("layer_sizes", list(mlp.layer_sizes))
    observe("len(mlp.layers)", len(mlp.layers))
    observe("neurons per layer", [len(layer.neurons) for layer in mlp.layers])
    observe("len(w) per neuron", [[len(n.w) for n in layer.neurons] for layer in mlp.layers])
    standard = MLP(3, [4, 4, 1])
    count = sum(len(n.w) + 1 for layer in standard.layers for n in layer.neurons)
    observe("weights and biases of MLP(3, [4, 4, 1])", count)


def test_mlp_forward(MLP, rng, observe):
    mlp = MLP(3, [4, 4, 1])
    chosen = _set_network(mlp.layers, rng)
    x = _draw(rng, 3, -2, 2)
    observe.input("x", x)
    observe.input("w and b, neuron by neuron", chosen)
    observe.blame("MLP.__call__")
    observe("first layer's output", _data(mlp.layers[0](x)))
    out = mlp(x)
    observe("type of mlp(x)", type(out).__name__)
    observe("mlp(x)", _data(out))


def test_mlp_several_outputs(MLP, rng, observe):
    nout = rng.randint(2, 3)
    mlp = MLP(4, [5, 3, nout])
    chosen = _set_network(mlp.layers, rng)
    x = _draw(rng, 4, -2, 2)
    observe.input("x", x)
    observe.input("w and b, neuron by neuron", chosen)
    observe.blame("MLP.__call__")
    out = mlp(x)
    observe("MLP(4, [5, 3, nout])(x)", _data(out))
