from math import exp
from random import uniform
from functools import reduce


class Value:
    """Scalar autograd node."""

    def __init__(self, data, _children=(), _op=''):
        self.data = float(data)
        self.grad = 0
        self._op = _op
        self.prev = {c for c in _children}
        self._backward = lambda: None

    def topo_sort(self):
        result, visited = [], set()
        def visit(v):
            if v in visited:
                return
            visited.add(v)
            for c in v.prev:
                visit(c)
            result.append(v)
        visit(self)
        return result

    def backward(self):
        self.grad = 1
        for v in self.topo_sort()[::-1]:
            v._backward()

    def relu(self):
        node = Value(max(self.data, 0.0), _children=(self,), _op='ReLU')
        def grad_fn():
            self.grad += (1.0 if self.data > 0 else 0.0) * node.grad
        node._backward = grad_fn
        return node

    def tanh(self):
        x = max(min(self.data, 350.0), -350.0)
        y = (exp(2 * x) - 1) / (exp(2 * x) + 1)
        node = Value(y, _children=(self,), _op='tanh')
        def grad_fn():
            self.grad += (1 - y ** 2) * node.grad
        node._backward = grad_fn
        return node

    @staticmethod
    def lift(thing):
        if isinstance(thing, Value):
            return thing
        return Value(thing)

    def __neg__(self): return self * -1
    def __radd__(self, lhs): return self + lhs
    def __sub__(self, rhs): return self + (-rhs)
    def __rsub__(self, lhs): return Value.lift(lhs) - self
    def __rmul__(self, lhs): return self * lhs
    def __truediv__(self, rhs): return self * (Value.lift(rhs) ** -1)
    def __rtruediv__(self, lhs): return Value.lift(lhs) * (self ** -1)
    def __pow__(self, p):
        assert type(p) in (int, float)
        node = Value(self.data ** p, _children=(self,), _op=f'**{p}')
        def grad_fn():
            self.grad += p * (self.data ** (p - 1)) * node.grad
        node._backward = grad_fn
        return node

    def __mul__(self, rhs):
        rhs = Value.lift(rhs)
        node = Value(self.data * rhs.data, _children=(self, rhs), _op='*')
        def grad_fn():
            self.grad += rhs.data * node.grad
            rhs.grad += self.data * node.grad
        node._backward = grad_fn
        return node

    def __add__(self, rhs):
        rhs = Value.lift(rhs)
        node = Value(self.data + rhs.data, _children=(self, rhs), _op='+')
        def grad_fn():
            self.grad += node.grad
            rhs.grad += node.grad
        node._backward = grad_fn
        return node


class MLP:
    def __init__(self, nin, layers):
        self.layer_sizes = [nin] + layers
        n = len(layers)
        self.layers = [Layer(self.layer_sizes[i], self.layer_sizes[i + 1], nonlin=(i < n - 1))
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


class Neuron:
    def __init__(self, nin, nonlin=True):
        self.w = [Value(uniform(-1, 1)) for i in range(nin)]
        self.b = Value(uniform(-1, 1))
        self.nonlin = nonlin

    def __call__(self, x):
        act = reduce(lambda acc, pair: acc + pair[0] * pair[1], zip(self.w, x), self.b)
        if self.nonlin:
            return act.relu()
        return act

    def parameters(self):
        return self.w + [self.b]


class Layer:
    def __init__(self, nin, nout, nonlin=True):
        self.neurons = [Neuron(nin, nonlin) for i in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]
