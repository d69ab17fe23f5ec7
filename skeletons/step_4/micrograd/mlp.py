"""A multi-layer perceptron built from Values."""

import random

from micrograd.value import Value


class Neuron:
    """w . x + b, followed by a ReLU."""

    def __init__(self, nin):
        # self.w: a list of nin Values, self.b: one Value, each drawn uniformly from [-1, 1]
        # (random.uniform). Never start them all at zero: every neuron would learn the same.
        raise NotImplementedError("Neuron.__init__")

    def __call__(self, x):
        # x is a list of nin numbers or Values. Return relu(w . x + b) as a Value.
        raise NotImplementedError("Neuron.__call__")


class Layer:
    """nout neurons that all see the same inputs."""

    def __init__(self, nin, nout):
        # self.neurons: a list of nout Neurons, each with nin inputs.
        raise NotImplementedError("Layer.__init__")

    def __call__(self, x):
        # The list of every neuron's output for x, or that single Value when nout == 1.
        raise NotImplementedError("Layer.__call__")


class MLP:
    """Layers in sequence, each feeding the next."""

    def __init__(self, nin, layers):
        # layers lists the size of each layer, e.g. MLP(3, [4, 4, 1]). Keep
        # self.layer_sizes == [nin] + layers and build self.layers, one Layer per size.
        raise NotImplementedError("MLP.__init__")

    def __call__(self, x):
        # Feed x through every layer in turn; return what the last layer gives.
        raise NotImplementedError("MLP.__call__")
