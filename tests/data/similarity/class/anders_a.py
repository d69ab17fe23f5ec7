"""micrograd in one file: Value, Neuron, Layer and MLP."""
import math
import random
from collections import deque


class Value:
    def __init__(self, data, _children=(), _op=''):
        self.data = data
        self.grad = 0
        self._backward = lambda: None
        self.prev = set(_children)
        self._op = _op

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), '+')

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), '*')

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, k):
        out = Value(self.data ** k, (self,), '**' + str(k))

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out

    def __neg__(self):
        return -1 * self

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-1) * other

    def __rsub__(self, other):
        return (-1) * self + other

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * (other ** -1 if isinstance(other, Value) else 1.0 / other)

    def __rtruediv__(self, other):
        return self ** -1 * other

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), 'tanh')

        def _backward():
            self.grad += (1 - t ** 2) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,), 'ReLU')

        def _backward():
            self.grad += out.grad if self.data > 0 else 0.0
        out._backward = _backward
        return out

    def topo_sort(self):
        # Kahn's algorithm on the reversed graph: a node is emitted once all its children are.
        nodes, stack = set(), [self]
        while stack:
            v = stack.pop()
            if v not in nodes:
                nodes.add(v)
                stack.extend(v.prev)
        waiting = {v: len(v.prev) for v in nodes}
        parents = {v: [] for v in nodes}
        for v in nodes:
            for c in v.prev:
                parents[c].append(v)
        ready = deque(v for v in nodes if waiting[v] == 0)
        order = []
        while ready:
            v = ready.popleft()
            order.append(v)
            for p in parents[v]:
                waiting[p] -= 1
                if waiting[p] == 0:
                    ready.append(p)
        return order

    def backward(self):
        self.grad = 1
        for v in reversed(self.topo_sort()):
            v._backward()


class Neuron:
    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.random() * 2 - 1) for _ in range(nin)]
        self.b = Value(random.random() * 2 - 1)
        self.nonlin = nonlin

    def __call__(self, x):
        s = sum(w * xi for w, xi in zip(self.w, x)) + self.b
        return s.relu() if self.nonlin else s

    def parameters(self):
        return [*self.w, self.b]


class Layer:
    def __init__(self, nin, nout, nonlin=True):
        self.neurons = [Neuron(nin, nonlin=nonlin) for _ in range(nout)]

    def __call__(self, x):
        y = [n(x) for n in self.neurons]
        return y[0] if len(y) == 1 else y

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    def __init__(self, nin, layers):
        self.layer_sizes = [nin, *layers]
        n = len(layers)
        self.layers = [Layer(self.layer_sizes[i], self.layer_sizes[i + 1], nonlin=i < n - 1)
                       for i in range(n)]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0
