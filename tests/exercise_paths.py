"""Where the exercise content lives, and its steps loaded for tests.

``load_solution`` is ``grader.exercise.load_solution`` (the loader the grader itself uses
for the trusted reference) over ``<kind>/step_<k>/micrograd``, once per process.
"""

from functools import cache
from pathlib import Path
from types import SimpleNamespace

from grader import exercise

REPO = Path(__file__).resolve().parents[1]
KINDS = ("reference", "skeletons")
STEPS = (1, 2, 3, 4, 5)


def package_dir(kind: str, step: int) -> Path:
    """The `micrograd/` folder of one step of the reference or the skeletons."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if step not in STEPS:
        raise ValueError(f"step must be one of {STEPS}, not {step!r}")
    return REPO / kind / f"step_{step}" / "micrograd"


@cache
def load_solution(kind: str, step: int) -> SimpleNamespace:
    """The classes of one step (Value, and Neuron, Layer, MLP from step 4 on)."""
    return exercise.load_solution(package_dir(kind, step))
