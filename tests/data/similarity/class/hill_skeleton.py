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
        # Return a new Value holding self.data + other.data, with children (self, other) and
        # the label '+'. `other` may be a plain int or float: wrap it in a Value first.
        # Leave _backward for step 2.
        raise NotImplementedError("Value.__add__")

    def __mul__(self, other):
        # Like __add__, for the product, labelled '*'.
        raise NotImplementedError("Value.__mul__")

    def __pow__(self, n):
        # self ** n for an int or float n (not a Value). One child, self; the label shows the
        # exponent: '**2', '**-1', '**0.5'.
        raise NotImplementedError("Value.__pow__")

    def __neg__(self):  # -self
        # No new node type is needed: multiply by -1.
        raise NotImplementedError("Value.__neg__")

    def __radd__(self, other):  # other + self
        # Python calls this for `2 + v` when int's own + gives up.
        raise NotImplementedError("Value.__radd__")

    def __sub__(self, other):  # self - other
        # Compose it from + and unary minus.
        raise NotImplementedError("Value.__sub__")

    def __rsub__(self, other):  # other - self
        # For `4.5 - v`. Mind the order: this is other - self, not self - other.
        raise NotImplementedError("Value.__rsub__")

    def __rmul__(self, other):  # other * self
        raise NotImplementedError("Value.__rmul__")

    def __truediv__(self, other):  # self / other
        # Division is multiplication by other ** -1.
        raise NotImplementedError("Value.__truediv__")

    def __rtruediv__(self, other):  # other / self
        raise NotImplementedError("Value.__rtruediv__")
