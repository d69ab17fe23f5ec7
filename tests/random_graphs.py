"""Random expression graphs over Values, and the plain-float oracles to check them against.

Used by tests/test_reference.py (the reference against finite differences and PyTorch) and
by any test that needs well-conditioned random graphs.
"""

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# ---------------------------------------------------------------------------------------
# Random expression graphs
# ---------------------------------------------------------------------------------------

# Limits that keep every graph well conditioned, so that a central difference is an exact
# enough oracle: no huge values, no division by ~0, no ReLU input near its kink.
BOUND = 20.0
MIN_DENOMINATOR = 0.5
MIN_POW_BASE = 0.5
RELU_MARGIN = 0.05

# Central difference: step relative to the leaf, and the tolerance its error stays within
# (truncation ~h**2 * f''' plus rounding ~1e-16 * |f| / h, both far below these).
FD_STEP = 1e-6
FD_RTOL = 1e-5
FD_ATOL = 1e-5
# Same arithmetic done another way (a / b versus a * b**-1, another summation order).
VALUE_RTOL = 1e-9
VALUE_ATOL = 1e-9

TWO_NODES = ("add", "sub", "mul", "div")
WITH_CONSTANT = (
    "add_c",
    "sub_c",
    "mul_c",
    "div_c",
    "radd",
    "rsub",
    "rmul",
    "rtruediv",
    "pow_int",
    "pow_float",
)
ONE_NODE = ("neg", "tanh", "relu")
ARITHMETIC_ONLY = TWO_NODES + WITH_CONSTANT + ("neg",)
ALL_KINDS = TWO_NODES + WITH_CONSTANT + ONE_NODE

# Written with Python's own operators so that one table serves floats, Values and tensors;
# c is the plain-number operand of the reflected and constant forms.
ARITHMETIC: dict[str, Callable[[Any, Any, Any], Any]] = {
    "add": lambda a, b, c: a + b,
    "sub": lambda a, b, c: a - b,
    "mul": lambda a, b, c: a * b,
    "div": lambda a, b, c: a / b,
    "add_c": lambda a, b, c: a + c,
    "sub_c": lambda a, b, c: a - c,
    "mul_c": lambda a, b, c: a * c,
    "div_c": lambda a, b, c: a / c,
    "radd": lambda a, b, c: c + a,
    "rsub": lambda a, b, c: c - a,
    "rmul": lambda a, b, c: c * a,
    "rtruediv": lambda a, b, c: c / a,
    "pow_int": lambda a, b, c: a**c,
    "pow_float": lambda a, b, c: a**c,
    "neg": lambda a, b, c: -a,
}


@dataclass(frozen=True)
class Op:
    kind: str
    args: tuple[int, ...]
    const: float = 0.0


@dataclass(frozen=True)
class Program:
    """Leaves are nodes 0..L-1; op k makes node L+k; the output sums every unused node."""

    leaves: tuple[float, ...]
    ops: tuple[Op, ...]

    def sinks(self) -> list[int]:
        used = {i for op in self.ops for i in op.args}
        return [i for i in range(len(self.leaves) + len(self.ops)) if i not in used]

    def describe(self) -> str:
        lines = [f"n{i} = {x!r}" for i, x in enumerate(self.leaves)]
        first = len(self.leaves)
        for k, op in enumerate(self.ops):
            lines.append(f"n{first + k} = {op.kind}{op.args} c={op.const!r}")
        return "\n".join(lines + [f"out = sum of n{self.sinks()}"])


@dataclass(frozen=True)
class Backend:
    leaf: Callable[[float], Any]
    tanh: Callable[[Any], Any]
    relu: Callable[[Any], Any]


def float_relu(a: float) -> float:
    return a if a > 0 else 0.0


FLOATS = Backend(leaf=float, tanh=math.tanh, relu=float_relu)


def value_backend(value_cls: type) -> Backend:
    return Backend(leaf=value_cls, tanh=lambda v: v.tanh(), relu=lambda v: v.relu())


def apply_op(op: Op, nodes: list[Any], backend: Backend) -> Any:
    if op.kind == "tanh":
        return backend.tanh(nodes[op.args[0]])
    if op.kind == "relu":
        return backend.relu(nodes[op.args[0]])
    operands = [nodes[i] for i in op.args] + [None]
    return ARITHMETIC[op.kind](operands[0], operands[1], op.const)


def evaluate(
    program: Program, backend: Backend, leaves: tuple[float, ...] | None = None
) -> tuple[list[Any], Any]:
    """Every node of the graph, then the output (which may itself be a new node)."""
    nodes = [backend.leaf(x) for x in (program.leaves if leaves is None else leaves)]
    for op in program.ops:
        nodes.append(apply_op(op, nodes, backend))
    sinks = [nodes[i] for i in program.sinks()]
    total = sinks[0]
    for node in sinks[1:]:
        total = total + node
    return nodes, total


def pick_node(rng: random.Random, count: int) -> int:
    # Half the time one of the newest nodes (deep chains), else any node (fan-out, reuse).
    return rng.randrange(max(0, count - 3), count) if rng.random() < 0.5 else rng.randrange(count)


def random_op(rng: random.Random, count: int, kinds: tuple[str, ...]) -> Op:
    kind = rng.choice(kinds)
    if kind in TWO_NODES:
        return Op(kind, (pick_node(rng, count), pick_node(rng, count)))
    if kind == "pow_int":
        return Op(kind, (pick_node(rng, count),), rng.choice((-2, -1, 0, 1, 2, 3)))
    if kind == "pow_float":
        return Op(kind, (pick_node(rng, count),), round(rng.uniform(-2.0, 3.0), 2))
    if kind in WITH_CONSTANT:
        return Op(kind, (pick_node(rng, count),), round(rng.uniform(-3.0, 3.0), 2))
    return Op(kind, (pick_node(rng, count),))


def is_safe(op: Op, nodes: list[float], value: float) -> bool:
    """Whether the graph stays in the region where every oracle is trustworthy."""
    if not isinstance(value, float) or not math.isfinite(value) or abs(value) > BOUND:
        return False
    first = nodes[op.args[0]]
    guards = {
        "div": abs(nodes[op.args[-1]]) >= MIN_DENOMINATOR,
        "div_c": abs(op.const) >= MIN_DENOMINATOR,
        "rtruediv": abs(first) >= MIN_DENOMINATOR,
        "pow_int": abs(first) >= MIN_POW_BASE,
        "pow_float": first >= MIN_POW_BASE,
        "relu": abs(first) >= RELU_MARGIN,
    }
    return guards.get(op.kind, True)


def random_program(rng: random.Random, kinds: tuple[str, ...] = ALL_KINDS) -> Program:
    leaves = tuple(round(rng.uniform(-3.0, 3.0), 3) for _ in range(rng.randint(1, 4)))
    nodes, ops = [float(x) for x in leaves], []
    for _ in range(rng.randint(1, 14)):
        op = random_op(rng, len(nodes), kinds)
        try:
            value = apply_op(op, nodes, FLOATS)
        except (ZeroDivisionError, OverflowError):
            continue
        if is_safe(op, nodes, value):
            nodes.append(value)
            ops.append(op)
    return Program(leaves, tuple(ops))


def relu_signs(program: Program, nodes: list[float]) -> tuple[bool, ...]:
    return tuple(nodes[op.args[0]] > 0 for op in program.ops if op.kind == "relu")


def shifted_output(
    program: Program, leaf: int, shift: float, signs: tuple[bool, ...]
) -> float | None:
    """The output with one leaf moved by shift, or None if a ReLU input changed sign."""
    leaves = list(program.leaves)
    leaves[leaf] += shift
    nodes, total = evaluate(program, FLOATS, tuple(leaves))
    return float(total) if relu_signs(program, nodes) == signs else None


def central_difference(program: Program, leaf: int) -> float:
    """d(output)/d(leaf) from plain floats, never straddling a ReLU kink."""
    signs = relu_signs(program, evaluate(program, FLOATS)[0])
    h = FD_STEP * max(1.0, abs(program.leaves[leaf]))
    for _ in range(10):
        up = shifted_output(program, leaf, h, signs)
        down = shifted_output(program, leaf, -h, signs)
        if up is not None and down is not None:
            return (up - down) / (2 * h)
        h /= 8
    raise AssertionError(f"no step keeps the ReLU signs of\n{program.describe()}")


def run_graph(program: Program, value_cls: type) -> tuple[list[Any], Any]:
    nodes, total = evaluate(program, value_backend(value_cls))
    total.backward()
    return nodes, total


def close(a: float, b: float, rtol: float = VALUE_RTOL, atol: float = VALUE_ATOL) -> bool:
    return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)
