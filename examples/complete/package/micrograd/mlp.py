import random

from micrograd.value import Value


class Neuron:
    def __init__(self, nin, nonlin=True):
        # bias first, then the weights: a different (equally correct) draw order
        self.b = Value(random.uniform(-1, 1))
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.nonlin = nonlin

    def __call__(self, x):
        total = self.b
        for wi, xi in reversed(list(zip(self.w, x))):
            total = wi * xi + total
        return total.relu() if self.nonlin else total

    def parameters(self):
        return self.w + [self.b]


class Layer:
    def __init__(self, nin, nout, nonlin=True):
        self.neurons = [Neuron(nin, nonlin) for _ in range(nout)]

    def __call__(self, x):
        outs = [n(x) for n in self.neurons]
        if len(outs) == 1:
            return outs[0]
        return outs

    def parameters(self):
        params = []
        for n in self.neurons:
            params.extend(n.parameters())
        return params


class MLP:
    def __init__(self, nin, layers):
        self.layer_sizes = [nin] + layers
        self.layers = []
        for i in range(len(layers)):
            last = i == len(layers) - 1
            self.layers.append(Layer(self.layer_sizes[i], self.layer_sizes[i + 1], nonlin=not last))

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0
