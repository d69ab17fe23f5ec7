"""A scalar that remembers how it was computed, so gradients can flow back through it."""

import math


class Value:
    """One number in a computation graph, together with d(output)/d(this number)."""

    def __init__(self, data, _children=(), _op=''):
        self.data = data
        self.grad = 0
        # Leaves have nothing to pass a gradient on to.
        self._backward = lambda: None
        self.prev = set(_children)
        self._op = _op

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    # The three primitive operators build new nodes; everything else is composed from them.

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), '+')

        def _backward():
            # d(a + b)/da = d(a + b)/db = 1. Accumulate: a node may feed several others,
            # and `a + a` must receive both contributions.
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

    def __pow__(self, n):
        if not isinstance(n, (int, float)):
            raise TypeError("only int and float exponents are supported")
        out = Value(self.data ** n, (self,), f'**{n}')

        def _backward():
            # Power rule: d(x**n)/dx = n * x**(n-1)  (not (n*x)**(n-1)).
            self.grad += n * self.data ** (n - 1) * out.grad
        out._backward = _backward
        return out

    def __neg__(self):  # -self
        return self * -1

    def __radd__(self, other):  # other + self
        return self + other

    def __sub__(self, other):  # self - other
        return self + (-other)

    def __rsub__(self, other):  # other - self: the operands keep their order
        return other + (-self)

    def __rmul__(self, other):  # other * self
        return self * other

    def __truediv__(self, other):  # self / other
        return self * other ** -1

    def __rtruediv__(self, other):  # other / self
        return other * self ** -1

    # Activations.

    def tanh(self):
        # math.tanh saturates to +-1.0; the textbook (e**2x - 1) / (e**2x + 1) overflows
        # once |x| passes about 355.
        t = math.tanh(self.data)
        out = Value(t, (self,), 'tanh')

        def _backward():
            self.grad += (1 - t ** 2) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Value(self.data if self.data > 0 else 0, (self,), 'ReLU')

        def _backward():
            # The derivative at exactly 0 is taken to be 0.
            self.grad += (1 if out.data > 0 else 0) * out.grad
        out._backward = _backward
        return out

    # Backpropagation.

    def topo_sort(self):
        """Every node reachable from self, each after all of its children, self last."""
        order, visited = [], set()
        # An explicit stack instead of recursion, so deep graphs cannot hit the recursion limit.
        stack = [(self, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                order.append(node)
                continue
            if node in visited:
                continue
            visited.add(node)
            stack.append((node, True))
            stack.extend((child, False) for child in node.prev if child not in visited)
        return order

    def backward(self):
        """Fill in .grad of every node that self depends on."""
        order = self.topo_sort()
        self.grad = 1
        for node in reversed(order):
            node._backward()
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
