# Homework: micrograd
# Evans
import math
import random


def to_node(x):
    return x if isinstance(x, Value) else Value(x)


class Value:
    # scalar autograd value (my implementation)
    def __init__(self, data, _children=(), _op=''):
        self.data = data
        self.grad = 0.0
        self.prev = set(_children)
        self._op = _op
        self._backward = lambda: None

    def __repr__(self):
        return 'Value(%r)' % (self.data,)

    def __add__(self, rhs):
        rhs = to_node(rhs)
        out_node = Value(self.data + rhs.data, (self, rhs), '+')

        def _bw():
            self.grad += 1.0 * out_node.grad
            rhs.grad += 1.0 * out_node.grad

        out_node._backward = _bw
        return out_node

    def __mul__(self, rhs):
        rhs = to_node(rhs)
        out_node = Value(self.data * rhs.data, (self, rhs), '*')

        def _bw():
            self.grad += rhs.data * out_node.grad
            rhs.grad += self.data * out_node.grad

        out_node._backward = _bw
        return out_node

    def __pow__(self, k):
        if not isinstance(k, (int, float)):
            raise TypeError('k must be a number')
        out_node = Value(self.data ** k, (self,), '**' + str(k))

        def _bw():
            self.grad += k * self.data ** (k - 1) * out_node.grad

        out_node._backward = _bw
        return out_node

    def __neg__(self):
        return self * -1.0

    def __radd__(self, rhs):
        return self + rhs

    def __rmul__(self, rhs):
        return self * rhs

    def __sub__(self, rhs):
        return self + (-to_node(rhs))

    def __rsub__(self, rhs):
        return to_node(rhs) + (-self)

    def __truediv__(self, rhs):
        return self * to_node(rhs) ** -1

    def __rtruediv__(self, rhs):
        return to_node(rhs) * self ** -1

    def tanh(self):
        if self.data > 20:
            t = 1.0
        elif self.data < -20:
            t = -1.0
        else:
            ex = math.exp(2 * self.data)
            t = (ex - 1) / (ex + 1)
        out_node = Value(t, (self,), 'tanh')

        def _bw():
            self.grad += (1.0 - t * t) * out_node.grad

        out_node._backward = _bw
        return out_node

    def relu(self):
        out_node = Value(self.data if self.data > 0 else 0.0, (self,), 'ReLU')

        def _bw():
            if out_node.data > 0:
                self.grad += out_node.grad

        out_node._backward = _bw
        return out_node

    def topo_sort(self):
        topo, visited_nodes, todo = [], set(), [(self, False)]
        while todo:
            cur, done = todo.pop()
            if done:
                topo.append(cur)
                continue
            if cur in visited_nodes:
                continue
            visited_nodes.add(cur)
            todo.append((cur, True))
            for kid in cur.prev:
                if kid not in visited_nodes:
                    todo.append((kid, False))
        return topo

    # run backprop from this node
    def backward(self):
        self.grad = 1.0
        for cur in reversed(self.topo_sort()):
            cur._backward()


class Neuron:
    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.uniform(-1.0, 1.0)) for _ in range(nin)]
        self.b = Value(random.uniform(-1.0, 1.0))
        self.nonlin = nonlin

    def __call__(self, x):
        acc = self.b
        for wi, xi in zip(self.w, x):
            acc = acc + wi * xi
        return acc.relu() if self.nonlin else acc

    def parameters(self):
        return list(self.w) + [self.b]


class Layer:
    def __init__(self, nin, nout, nonlin=True):
        self.neurons = [Neuron(nin, nonlin=nonlin) for _ in range(nout)]

    def __call__(self, x):
        outs = [unit(x) for unit in self.neurons]
        if len(outs) == 1:
            return outs[0]
        return outs

    def parameters(self):
        params = []
        for unit in self.neurons:
            params.extend(unit.parameters())
        return params


class MLP:
    def __init__(self, nin, layers):
        self.layer_sizes = [nin] + list(layers)
        self.layers = []
        for li in range(len(layers)):
            is_last = li == len(layers) - 1
            self.layers.append(
                Layer(self.layer_sizes[li], self.layer_sizes[li + 1], nonlin=not is_last)
            )

    def __call__(self, x):
        for lay in self.layers:
            x = lay(x)
        return x

    def parameters(self):
        return [p for lay in self.layers for p in lay.parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0
