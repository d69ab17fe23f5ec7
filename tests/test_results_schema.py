"""results.json follows docs/results.schema.json: real results of every kind, validated.

Each kind is produced by the real pipeline (local sandbox) and written with
``write_results``: graded, rejected, a partial submission, checks that time out, checks
that raise, hidden checks that fail, steps not graded. The schema's objects are closed, so
a field the grader starts writing without declaring it fails here. (conftest.py also
validates every results.json the rest of the suite writes.)
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from grading import EXAMPLES, grade, quick_settings
from lecture_notebooks import lecture_notebook
from results_schema import problems, sweep

from grader.batch.overrides import Override, Settled, apply
from grader.batch.students import student_results
from grader.models import result_from_json
from grader.output import write_results


def _written(result, folder: Path) -> dict:
    write_results(result, folder)
    return json.loads((folder / "results.json").read_text(encoding="utf-8"))


def _statuses(data: dict) -> set[tuple[str, str]]:
    return {(c["status"], c["visibility"]) for s in data["steps"] for c in s["checks"]}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    root = tmp_path_factory.mktemp("schema")
    looping = root / "looping_tanh"
    shutil.copytree(EXAMPLES / "complete" / "package", looping)
    value = looping / "micrograd" / "value.py"
    value.write_text(
        value.read_text() + "\n\ndef _spin(self):\n    while True:\n"
        "        pass\n\n\nValue.tanh = _spin\n"
    )
    (root / "nothing").mkdir()
    (root / "nothing" / "notes.txt").write_text("no code here")
    tight = quick_settings(check_seconds=0.5, step_seconds=0.5, import_seconds=1.0)
    needs_jax = lecture_notebook(root / "needs_jax.ipynb", np_module="jax.numpy", add_with_np=True)
    results = {
        "complete": grade(EXAMPLES / "complete" / "package", seed=5),
        "bug": grade(EXAMPLES / "bug_mul_backward", seed=5),
        # Step 3 alone: the product's gradient bug has no owner in this grading (step 2 is
        # not graded), so the hidden check of Karpathy's expressions is charged with it.
        "bug_step3": grade(EXAMPLES / "bug_mul_backward", steps=(3,), seed=5),
        "partial": grade(EXAMPLES / "partial_step3", seed=5),
        "rejected": grade(root / "nothing", seed=5),
        "timeouts": grade(looping, steps=(3,), seed=5, settings=tight),
        "diagnosed": grade(needs_jax, steps=(1,), seed=5),
    }
    return {name: _written(result, root / "out" / name) for name, result in results.items()}


def test_every_kind_of_result_is_valid(written: dict[str, dict]) -> None:
    for name, data in written.items():
        assert problems(data) == [], name


def test_the_kinds_cover_every_status_and_hidden_failures(written: dict[str, dict]) -> None:
    seen = set().union(*(_statuses(data) for data in written.values()))
    assert {status for status, _ in seen} == {"passed", "failed", "error", "timeout", "not_run"}
    assert ("failed", "hidden") in seen
    assert written["rejected"]["status"] == "rejected"
    assert written["rejected"]["steps"] == []
    assert [s["graded"] for s in written["timeouts"]["steps"]] == [False, False, True, False, False]


def test_a_diagnosis_is_valid_and_reads_back(written: dict[str, dict]) -> None:
    data = written["diagnosed"]
    assert data["diagnosis"] == {
        "kind": "missing_package",
        "message": data["diagnosis"]["message"],
        "package": "jax",
        "file": "needs_jax.ipynb",
        "cell": 2,
        "line": 2,
    }
    assert data["message"].endswith("; " + data["diagnosis"]["message"])
    assert result_from_json(data).to_json() == data
    assert "diagnosis" not in written["complete"]


def test_an_undeclared_field_is_refused(written: dict[str, dict]) -> None:
    data = json.loads(json.dumps(written["bug"]))
    data["steps"][1]["checks"][1]["surprise"] = 1
    data["steps"][1]["checks"][1]["details"]["unheard_of"] = []
    data["extra"] = True
    found = problems(data)
    assert len(found) == 3, found
    assert all("Additional properties are not allowed" in line for line in found)


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (("status",), "perhaps", "status"),
        (("seed",), -1, "seed"),
        (("steps", 0, "checks", 0, "score"), "20", "steps/0/checks/0/score"),
        (("steps", 0, "checks", 0, "visibility"), "secret", "steps/0/checks/0/visibility"),
        (("cause",), "weather", "cause"),
        (("diagnosis", "kind"), "gremlins", "diagnosis/kind"),
        (("diagnosis", "package"), "rm -rf /", "diagnosis/package"),
    ],
)
def test_wrong_values_are_refused(
    written: dict[str, dict], path: tuple, value: object, where: str
) -> None:
    data = json.loads(json.dumps(written["diagnosed" if path[0] == "diagnosis" else "complete"]))
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert [line.split(":")[0] for line in problems(data)] == [where]


def test_the_sweep_finds_broken_files_and_skips_gradescopes(written: dict[str, dict]) -> None:
    # Outside pytest's temporary folders, which the session-wide sweep validates.
    with tempfile.TemporaryDirectory() as scratch:
        _sweep_a_mixed_folder(Path(scratch), written)


def _sweep_a_mixed_folder(tmp_path: Path, written: dict[str, dict]) -> None:
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "results.json").write_text(json.dumps(written["partial"]))
    (tmp_path / "gradescope").mkdir()
    (tmp_path / "gradescope" / "results.json").write_text('{"score": 1, "tests": []}')
    broken = dict(written["partial"], score="lots")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "results.json").write_text(json.dumps(broken))
    count, found = sweep(tmp_path)
    assert count == 2
    assert len(found) == 1 and "bad" in found[0] and "score" in found[0]


def test_overrides_and_the_students_copy_follow_the_schema(written: dict[str, dict]) -> None:
    result = result_from_json(written["bug_step3"])
    assert result.to_json() == written["bug_step3"]  # read back exactly as written
    hidden = next(
        c
        for s in result.steps
        for c in s.checks
        if c.visibility == "hidden" and c.status == "failed"
    )
    overrides = (
        Override(2, "bug_step3", hidden.id, hidden.max_score, "Partial credit after review"),
        Override(3, "bug_step3", "total", 50, "Oral exam"),
    )
    adjusted, settled = apply(result, Settled(applied=overrides))
    assert settled.applied == overrides and settled.unused == ()
    data = adjusted.to_json()
    assert problems(data) == []
    assert data["score"] == 50 and data["original_score"] == written["bug_step3"]["score"]
    assert [a["check"] for a in data["adjustments"]] == [hidden.id, "total"]
    assert result_from_json(data).to_json() == data
    mine = student_results(adjusted)
    assert problems(mine) == []
    reduced = next(c for s in mine["steps"] for c in s["checks"] if c["id"] == hidden.id)
    assert set(reduced) == {"id", "title", "status", "score", "max_score"}
    reduced["feedback"] = "expected 1.5, got 2"  # a hidden check may not carry more
    assert problems(mine) != []
