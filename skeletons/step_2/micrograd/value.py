"""A scalar that remembers how it was computed, so gradients can flow back through it."""


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
            # Step 2: pass out.grad on to self and other (chain rule).
            raise NotImplementedError("Value.__add__ backward")
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), '*')

        def _backward():
            # Step 2: pass out.grad on to self and other (chain rule).
            raise NotImplementedError("Value.__mul__ backward")
        out._backward = _backward
        return out

    def __pow__(self, n):
        if not isinstance(n, (int, float)):
            raise TypeError("only int and float exponents are supported")
        out = Value(self.data ** n, (self,), f'**{n}')

        def _backward():
            # Step 2: pass out.grad on to self (chain rule).
            raise NotImplementedError("Value.__pow__ backward")
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

    # Backpropagation.

    def topo_sort(self):
        """Every node reachable from self, each after all of its children, self last."""
        # Walk the graph through .prev. Any order works as long as no node appears twice and
        # each node comes after all of its children.
        raise NotImplementedError("Value.topo_sort")

    def backward(self):
        """Fill in .grad of every node that self depends on."""
        # d(self)/d(self) is 1; then call each node's _backward, from self back to the leaves
        # (the reverse of topo_sort's order). Also replace the _backward stubs above.
        raise NotImplementedError("Value.backward")
