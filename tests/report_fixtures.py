"""Grade results for the report's tests: built by hand, or graded for real.

Hand-made details follow what ``grader.judge`` produces (inputs, mismatch, values, error,
stdout, graph, plots); the numbers of the graph are those of a real run of the ``__mul__``
bug. Real results come from tests/grading.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from grader.models import CheckResult, CheckStatus, GradeResult, StepResult

REPO = Path(__file__).resolve().parents[1]

HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(1)> {{ 7*7 }}'
LEAK = "LEAKED-SECRET"
STEP_TITLES = {
    1: "Operators",
    2: "Gradients",
    3: "Activations",
    4: "Multi-layer perceptron",
    5: "Training",
}
MUL_BLAME = "Value.__mul__ (backward)"


def check(
    id: str,
    status: CheckStatus = "passed",
    *,
    points: float = 2.0,
    visibility: str = "visible",
    feedback: str = "",
    hint: str = "",
    blame: str | None = None,
    details: dict[str, Any] | None = None,
    title: str | None = None,
) -> CheckResult:
    return CheckResult(
        id=id,
        title=title or f"Check {id}",
        status=status,
        score=points if status == "passed" else 0.0,
        max_score=points,
        visibility=visibility,  # type: ignore[arg-type]
        feedback=feedback or ("Passed." if status == "passed" else "It failed."),
        hint=hint,
        blame=blame,
        details=details or {},
    )


def result(steps: dict[int, list[CheckResult]], **fields: Any) -> GradeResult:
    base: dict[str, Any] = dict(
        submission="alice",
        status="graded",
        message="some checks passed",
        seed=424242,
        sandbox="local",
        started_at="2026-01-02T03:04:05+00:00",
        duration=12.345,
        grader_version="0.1.0",
        notes=("ignored __MACOSX/",),
        shape="package",
    )
    base.update(fields)
    return GradeResult(
        steps=tuple(StepResult(k, STEP_TITLES[k], tuple(v)) for k, v in sorted(steps.items())),
        **base,
    )


def passed_values() -> dict[str, Any]:
    return {
        "inputs": [["a", 1.5], ["b", -2.25]],
        "values": [{"name": "a + b", "expected": -0.75, "actual": -0.75}],
    }


def mul_graph(rename: dict[str, str] | None = None) -> dict[str, Any]:
    """``e = (a * b) * c`` where ``__mul__``'s backward gives ``other`` the wrong gradient."""
    n = {k: k for k in "abcde"} | (rename or {})

    def node(
        name: str, data: float, grad: float, op: str = "", kids: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        return {
            "name": n[name],
            "data": data,
            "grad": grad,
            "op": op,
            "children": sorted(n[k] for k in kids),
        }

    expected = [
        node("a", -1.9264, 3.66726752),
        node("b", 1.5124, -4.67113472),
        node("c", 2.4248, -2.91348736),
        node("d", -2.91348736, 2.4248, "*", ("a", "b")),
        node("e", -7.0646240, 1.0, "*", ("c", "d")),
    ]
    actual = [dict(x) for x in expected]
    actual[1]["grad"], actual[2]["grad"] = 3.66726752, 2.4248
    return {
        "name": f"graph of {n['e']} = ({n['a']} * {n['b']}) * {n['c']}",
        "output": n["e"],
        "bad_node": n["c"],
        "expected": {"nodes": expected},
        "actual": {"nodes": actual},
    }


def chain_graph(length: int = 40) -> dict[str, Any]:
    """The shape of the deep_chain scenario: three leaves feeding a chain of operations."""
    leaves = ["a", "b", "c"]
    expected = [
        {"name": x, "data": 0.5 + i, "grad": 2.0 + i, "op": "", "children": []}
        for i, x in enumerate(leaves)
    ]
    previous = "a"
    for k in range(1, length + 1):
        name, kid = f"n{k}", leaves[k % 3]
        expected.append(
            {
                "name": name,
                "data": 1.0 + k / 10,
                "grad": 1.0 / k,
                "op": "+" if k % 2 else "*",
                "children": sorted({kid, previous}),
            }
        )
        previous = name
    actual = [dict(x) for x in expected]
    actual[2]["grad"] = -7.5
    actual[20]["grad"] = 99.0
    return {
        "name": f"graph of a chain of {length} operations",
        "output": previous,
        "bad_node": "n18",
        "expected": {"nodes": expected},
        "actual": {"nodes": actual},
    }


def loss_curve(epochs: int = 40) -> list[float]:
    return [11.536871 * (0.000230 / 11.536871) ** (k / (epochs - 1)) for k in range(epochs)]


def plot_details(actual: list[Any] | None) -> dict[str, Any]:
    return {
        "inputs": [["starting weights", [0.1, -0.2, 0.3]]],
        "plots": [
            {"name": "loss per epoch", "kind": "loss", "expected": loss_curve(), "actual": actual}
        ],
        "values": [
            {
                "name": "prediction for x after training",
                "expected": 0.969479,
                "actual": 0.969479 if actual == loss_curve() else -3.25,
            }
        ],
    }


def not_implemented_error() -> dict[str, Any]:
    return {
        "inputs": [["a", -2.2177]],
        "error": {
            "type": "NotImplementedError",
            "message": "Value.backward",
            "frames": [
                {
                    "file": "micrograd/value.py",
                    "line": 80,
                    "function": "Value.__add__",
                    "code": "out = Value(self.data + other.data, (self, other), '+')",
                },
                {
                    "file": "micrograd/value.py",
                    "line": 84,
                    "function": "Value.backward",
                    "code": 'raise NotImplementedError("Value.backward")',
                },
            ],
        },
    }


def hostile_details() -> dict[str, Any]:
    return {
        "inputs": [[HOSTILE, HOSTILE]],
        "stdout": HOSTILE + "\nprinted",
        "stderr": HOSTILE,
        "values": [{"name": HOSTILE, "expected": 1.0, "actual": HOSTILE}],
        "mismatch": {
            "name": HOSTILE,
            "path": "",
            "expected": 1.0,
            "actual": HOSTILE,
            "reason": HOSTILE,
            "tolerance": [1e-6, 1e-9],
        },
        "error": {
            "type": "ValueError",
            "message": HOSTILE,
            "frames": [{"file": HOSTILE, "line": 3, "function": HOSTILE, "code": HOSTILE}],
            "cause": {"type": "KeyError", "message": HOSTILE},
        },
    }


def leaky_details() -> dict[str, Any]:
    """Everything a hidden check must not show, each piece marked with ``LEAK``."""
    return {
        "inputs": [[f"{LEAK}-input", f"{LEAK}-value"]],
        "stdout": f"{LEAK}-stdout",
        "stderr": f"{LEAK}-stderr",
        "values": [{"name": f"{LEAK}-v", "expected": 1.0, "actual": 2.0}],
        "mismatch": {
            "name": f"{LEAK}-mismatch",
            "path": "",
            "expected": 1.0,
            "actual": 2.0,
            "reason": "",
            "tolerance": [1e-6, 1e-9],
        },
        "error": {
            "type": "ValueError",
            "message": f"{LEAK}-message",
            "frames": [
                {"file": f"{LEAK}.py", "line": 1, "function": f"{LEAK}-fn", "code": f"{LEAK}-code"}
            ],
        },
        "graph": mul_graph({"c": f"{LEAK}-node"}),
        "plots": plot_details([1.0, 2.0])["plots"],
    }


def passing_result() -> GradeResult:
    steps = {
        k: [check(f"s{k}_one", details=passed_values()), check(f"s{k}_two", points=3)]
        for k in range(1, 5)
    }
    steps[5] = [
        check(
            "training_run",
            points=5,
            details=plot_details(loss_curve()),
            title="40 epochs of training reach a loss below 0.05",
        )
    ]
    return result(steps, message="9 of 9 checks passed", submission="complete")


def failing_result() -> GradeResult:
    steps = {
        1: [
            check("add", details=passed_values(), title="Adding two Values"),
            check(
                "mul",
                "failed",
                blame="Value.__mul__",
                hint="Multiply the data.",
                feedback="Look at Value.__mul__. a * b: expected 6.0, got 5.0.",
                details={
                    "inputs": [["a", 2.0], ["b", 3.0]],
                    "values": [{"name": "a * b", "expected": 6.0, "actual": 5.0}],
                    "mismatch": {
                        "name": "a * b",
                        "path": "",
                        "expected": 6.0,
                        "actual": 5.0,
                        "reason": "tolerance: relative 1e-06, absolute 1e-09",
                        "tolerance": [1e-6, 1e-9],
                    },
                },
                title="Multiplying two Values",
            ),
            check(
                "secret_fail",
                "failed",
                visibility="hidden",
                feedback=f"{LEAK}-feedback",
                hint=f"{LEAK}-hint",
                blame=f"{LEAK}-blame",
                details=leaky_details(),
                title="Hidden mixed expression",
            ),
            check(
                "secret_error",
                "error",
                visibility="hidden",
                feedback=f"{LEAK}-feedback",
                details=leaky_details(),
                title="Hidden crash",
            ),
        ],
        2: [
            check(
                "multiply_backward",
                "failed",
                blame=MUL_BLAME,
                feedback=f"Look at {MUL_BLAME}. graph of e: expected c.grad = -2.91, got 2.42.",
                hint="d(a * b)/da = b and d(a * b)/db = a.",
                details={"inputs": [["a", -1.9264]], "graph": mul_graph()},
                title="Backward of *",
            ),
            check(
                "add_backward",
                "error",
                blame="Value.backward",
                feedback="Look at Value.backward. Value.backward is not implemented yet.",
                details=not_implemented_error(),
                title="Backward of +",
            ),
            check(
                "deep_chain",
                "timeout",
                feedback="this check took longer than 10 s",
                details={"graph": chain_graph()},
                title="A long chain",
            ),
            check("later", "not_run", feedback="this check did not run", title="Never ran"),
        ],
        3: [
            check(
                "hostile",
                "error",
                blame=HOSTILE,
                feedback=HOSTILE,
                hint=HOSTILE,
                details=hostile_details() | {"graph": mul_graph({"c": HOSTILE})},
                title=HOSTILE,
            )
        ],
        4: [check("layer", details=passed_values())],
        5: [
            check(
                "training_run",
                "failed",
                points=5,
                feedback="loss per epoch[5]: expected 3.0, got 4.0.",
                details=plot_details(loss_curve()[:5] + [{"$float": "nan"}] + [4.0] * 34),
                title="40 epochs of training reach a loss below 0.05",
            )
        ],
    }
    return result(steps, submission=f"bob {HOSTILE}", notes=(HOSTILE, "renamed engine.py"))


def rejected_result() -> GradeResult:
    return result(
        {},
        status="rejected",
        submission="carol.zip",
        message="the archive is corrupt: it could not be opened as a zip file",
    )


def chain_result() -> GradeResult:
    """One visible failing check whose graph is the 43-node chain."""
    return result(
        {
            2: [
                check(
                    "deep_chain",
                    "failed",
                    blame=MUL_BLAME,
                    feedback="wrong",
                    details={"graph": chain_graph()},
                    title="A long chain",
                )
            ]
        }
    )


# ---------------------------------------------------------------- real gradings
