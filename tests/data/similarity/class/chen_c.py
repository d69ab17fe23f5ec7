import math
import random


def as_value(x):
    return x if isinstance(x, Value) else Value(x)


class Value:
    def __init__(self, data, _children=(), _op=""):
        self.data = data
        self.grad = 0.0
        self.prev = set(_children)
        self._op = _op
        self._backward = lambda: None

    def __repr__(self):
        return "Value(%r)" % (self.data,)

    def __add__(self, other):
        other = as_value(other)
        result = Value(self.data + other.data, (self, other), "+")

        def backward_step():
            self.grad += 1.0 * result.grad
            other.grad += 1.0 * result.grad

        result._backward = backward_step
        return result

    def __mul__(self, other):
        other = as_value(other)
        result = Value(self.data * other.data, (self, other), "*")

        def backward_step():
            self.grad += other.data * result.grad
            other.grad += self.data * result.grad

        result._backward = backward_step
        return result

    def __pow__(self, exponent):
        if not isinstance(exponent, (int, float)):
            raise TypeError("exponent must be a number")
        result = Value(self.data ** exponent, (self,), "**" + str(exponent))

        def backward_step():
            self.grad += exponent * self.data ** (exponent - 1) * result.grad

        result._backward = backward_step
        return result

    def __neg__(self):
        return self * -1.0

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __sub__(self, other):
        return self + (-as_value(other))

    def __rsub__(self, other):
        return as_value(other) + (-self)

    def __truediv__(self, other):
        return self * as_value(other) ** -1

    def __rtruediv__(self, other):
        return as_value(other) * self ** -1

    def tanh(self):
        if self.data > 20:
            t = 1.0
        elif self.data < -20:
            t = -1.0
        else:
            e = math.exp(2 * self.data)
            t = (e - 1) / (e + 1)
        result = Value(t, (self,), "tanh")

        def backward_step():
            self.grad += (1.0 - t * t) * result.grad

        result._backward = backward_step
        return result

    def relu(self):
        result = Value(self.data if self.data > 0 else 0.0, (self,), "ReLU")

        def backward_step():
            if result.data > 0:
                self.grad += result.grad

        result._backward = backward_step
        return result

    def topo_sort(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if node in seen:
                continue
            seen.add(node)
            stack.append((node, True))
            for child in node.prev:
                if child not in seen:
                    stack.append((child, False))
        return order

    def backward(self):
        self.grad = 1.0
        for node in reversed(self.topo_sort()):
            node._backward()


class Neuron:
    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.uniform(-1.0, 1.0)) for _ in range(nin)]
        self.b = Value(random.uniform(-1.0, 1.0))
        self.nonlin = nonlin

    def __call__(self, x):
        total = self.b
        for weight, xi in zip(self.w, x):
            total = total + weight * xi
        return total.relu() if self.nonlin else total

    def parameters(self):
        return list(self.w) + [self.b]


class Layer:
    def __init__(self, nin, nout, nonlin=True):
        self.neurons = [Neuron(nin, nonlin=nonlin) for _ in range(nout)]

    def __call__(self, x):
        outputs = [neuron(x) for neuron in self.neurons]
        if len(outputs) == 1:
            return outputs[0]
        return outputs

    def parameters(self):
        found = []
        for neuron in self.neurons:
            found.extend(neuron.parameters())
        return found


class MLP:
    def __init__(self, nin, layers):
        self.layer_sizes = [nin] + list(layers)
        self.layers = []
        for index in range(len(layers)):
            last = index == len(layers) - 1
            self.layers.append(
                Layer(self.layer_sizes[index], self.layer_sizes[index + 1], nonlin=not last)
            )

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0
