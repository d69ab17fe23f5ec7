import random

from value import Value


class Neuron:
    """w . x + b, followed by a ReLU unless the neuron is linear."""

    def __init__(self, nin, nonlin=True):
        # Weights first, then the bias: this draw order reproduces the exercise's published
        # training run. Random (never all-zero) weights break the symmetry between neurons.
        self.w = [Value(random.uniform(1, -1)) for _ in range(nin)]
        self.b = Value(random.uniform(1, -1))
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class Layer:
    """nout neurons that all see the same inputs."""

    def __init__(self, nin, nout, nonlin=True):
        self.neurons = [Neuron(nin, nonlin=nonlin) for _ in range(nout)]

    def __call__(self, x):
        outs = [neuron(x) for neuron in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self):
        return [p for neuron in self.neurons for p in neuron.parameters()]


class MLP:
    """Layers in sequence; hidden layers use ReLU, the output layer is linear."""

    def __init__(self, nin, layers):
        self.layer_sizes = [nin] + list(layers)
        last = len(layers) - 1
        self.layers = [
            Layer(self.layer_sizes[i], self.layer_sizes[i + 1], nonlin=i != last)
            for i in range(len(layers))
        ]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0
