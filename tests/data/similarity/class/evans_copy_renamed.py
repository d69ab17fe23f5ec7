# Homework: micrograd
# Evans
import math
import random


def to_node(x):
    return x if isinstance(x, Value) else Value(x)


class Value:
    # scalar autograd value (my implementation)
    def __init__(this, data, _children=(), _op=''):
        this.data = data
        this.grad = 0.0
        this.prev = set(_children)
        this._op = _op
        this._backward = lambda: None

    def __repr__(this):
        return 'Value(%r)' % (this.data,)

    def __add__(this, rhs):
        rhs = to_node(rhs)
        out_node = Value(this.data + rhs.data, (this, rhs), '+')

        def _bw():
            this.grad += 1.0 * out_node.grad
            rhs.grad += 1.0 * out_node.grad

        out_node._backward = _bw
        return out_node

    def __mul__(this, rhs):
        rhs = to_node(rhs)
        out_node = Value(this.data * rhs.data, (this, rhs), '*')

        def _bw():
            this.grad += rhs.data * out_node.grad
            rhs.grad += this.data * out_node.grad

        out_node._backward = _bw
        return out_node

    def __pow__(this, k):
        if not isinstance(k, (int, float)):
            raise TypeError('k must be a number')
        out_node = Value(this.data ** k, (this,), '**' + str(k))

        def _bw():
            this.grad += k * this.data ** (k - 1) * out_node.grad

        out_node._backward = _bw
        return out_node

    def __neg__(this):
        return this * -1.0

    def __radd__(this, rhs):
        return this + rhs

    def __rmul__(this, rhs):
        return this * rhs

    def __sub__(this, rhs):
        return this + (-to_node(rhs))

    def __rsub__(this, rhs):
        return to_node(rhs) + (-this)

    def __truediv__(this, rhs):
        return this * to_node(rhs) ** -1

    def __rtruediv__(this, rhs):
        return to_node(rhs) * this ** -1

    def tanh(this):
        if this.data > 20:
            t = 1.0
        elif this.data < -20:
            t = -1.0
        else:
            ex = math.exp(2 * this.data)
            t = (ex - 1) / (ex + 1)
        out_node = Value(t, (this,), 'tanh')

        def _bw():
            this.grad += (1.0 - t * t) * out_node.grad

        out_node._backward = _bw
        return out_node

    def relu(this):
        out_node = Value(this.data if this.data > 0 else 0.0, (this,), 'ReLU')

        def _bw():
            if out_node.data > 0:
                this.grad += out_node.grad

        out_node._backward = _bw
        return out_node

    def topo_sort(this):
        topo, visited_nodes, todo = [], set(), [(this, False)]
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
    def backward(this):
        this.grad = 1.0
        for cur in reversed(this.topo_sort()):
            cur._backward()


class Neuron:
    def __init__(this, nin, nonlin=True):
        this.w = [Value(random.uniform(-1.0, 1.0)) for _ in range(nin)]
        this.b = Value(random.uniform(-1.0, 1.0))
        this.nonlin = nonlin

    def __call__(this, x):
        acc = this.b
        for wi, xi in zip(this.w, x):
            acc = acc + wi * xi
        return acc.relu() if this.nonlin else acc

    def parameters(this):
        return list(this.w) + [this.b]


class Layer:
    def __init__(this, nin, nout, nonlin=True):
        this.neurons = [Neuron(nin, nonlin=nonlin) for _ in range(nout)]

    def __call__(this, x):
        outs = [unit(x) for unit in this.neurons]
        if len(outs) == 1:
            return outs[0]
        return outs

    def parameters(this):
        params = []
        for unit in this.neurons:
            params.extend(unit.parameters())
        return params


class MLP:
    def __init__(this, nin, layers):
        this.layer_sizes = [nin] + list(layers)
        this.layers = []
        for li in range(len(layers)):
            is_last = li == len(layers) - 1
            this.layers.append(
                Layer(this.layer_sizes[li], this.layer_sizes[li + 1], nonlin=not is_last)
            )

    def __call__(this, x):
        for lay in this.layers:
            x = lay(x)
        return x

    def parameters(this):
        return [p for lay in this.layers for p in lay.parameters()]

    def zero_grad(this):
        for p in this.parameters():
            p.grad = 0.0
