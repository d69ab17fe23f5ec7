"""One detail of the contract done differently costs points only where that detail is owned
(issue 9): a spaced ``**`` label, no ``_op`` at all, children kept under another attribute
name, the lecture's overflowing tanh formula. Everything else in each submission is the
reference, so any other failed check would be a cascade. Graded on the local sandbox
through the whole pipeline (counterfactual runs included)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from grader.exercise import load_exercise
from grader.fairness.contract import ITEMS
from grader.pipeline import GradeRequest, grade_submission
from grader.rubric import load_rubric
from grader.sandbox.local import LocalSandbox
from grader.settings import load_settings

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "step_5" / "micrograd"

# detail -> (the contract item it breaks, edits to value.py: (old, new) pairs)
DETAILS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "spaced-pow-label": ("Value.__pow__:label", [("f'**{n}'", "f'** {n}'")]),
    "no-op-attribute": ("Value:label", [("        self._op = _op\n", "")]),
    "children-elsewhere": (
        "Value:children",
        [("self.prev = set(_children)", "self.kids = set(_children)"), ("node.prev", "node.kids")],
    ),
    "overflowing-tanh": (
        "Value.tanh:forward",
        [
            (
                "t = math.tanh(self.data)",
                "x = self.data\n        t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)",
            )
        ],
    ),
}


def _variant(tmp_path: Path, edits: list[tuple[str, str]]) -> Path:
    target = tmp_path / "micrograd"
    shutil.copytree(REFERENCE, target, ignore=shutil.ignore_patterns("__pycache__"))
    value = target / "value.py"
    text = value.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    value.write_text(text)
    return tmp_path


@pytest.mark.parametrize("detail", sorted(DETAILS))
def test_a_contract_detail_costs_points_only_in_its_owning_check(
    tmp_path: Path, detail: str
) -> None:
    item, edits = DETAILS[detail]
    exercise = load_exercise()
    rubric = load_rubric(exercise)
    owner_step, owner = rubric.owners()[item]
    result = grade_submission(
        GradeRequest(_variant(tmp_path, edits), seed=20261203),
        exercise=exercise,
        rubric=rubric,
        sandbox=LocalSandbox(exercise),
        settings=load_settings(),
    )
    failed = {c.id: c for s in result.steps for c in s.checks if c.status != "passed"}
    explained = json.dumps({i: (c.status, c.blame, c.feedback[:300]) for i, c in failed.items()})
    assert set(failed) == {owner}, explained  # detected, and nowhere else
    assert {s.step for s in result.steps if s.score < s.max_score} == {owner_step}
    assert failed[owner].blame == ITEMS[item].pointer, explained
