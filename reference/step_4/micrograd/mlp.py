"""A multi-layer perceptron built from Values."""

import random

from micrograd.value import Value


class Neuron:
    """w . x + b, followed by a ReLU."""

    def __init__(self, nin):
        # Weights first, then the bias. Random (never all-zero) weights break the symmetry
        # between neurons: with equal weights every neuron would learn the same thing.
        self.w = [Value(random.uniform(1, -1)) for _ in range(nin)]
        self.b = Value(random.uniform(1, -1))

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu()


class Layer:
    """nout neurons that all see the same inputs."""

    def __init__(self, nin, nout):
        self.neurons = [Neuron(nin) for _ in range(nout)]

    def __call__(self, x):
        outs = [neuron(x) for neuron in self.neurons]
        return outs[0] if len(outs) == 1 else outs


class MLP:
    """Layers in sequence, each feeding the next."""

    def __init__(self, nin, layers):
        self.layer_sizes = [nin] + list(layers)
        self.layers = [
            Layer(self.layer_sizes[i], self.layer_sizes[i + 1]) for i in range(len(layers))
        ]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
