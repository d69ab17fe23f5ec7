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
