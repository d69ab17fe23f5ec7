"""Cheats score what their honest code deserves: nothing, for a pure cheat.

Each submission below attacks the grader from inside the sandbox the way students have
attacked Python autograders (see shared research, "sandbox-and-cheating"). None of them
implements anything, so each must score 0; the last ones show that a cheat bolted onto a
partly honest solution keeps exactly the honest part.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from grading import REPO, checks, grade, step_scores

from grader.exercise import load_exercise
from grader.trusted import run_reference

# A Value (and network classes) that implement nothing: every operation gives back another
# placeholder, so the staged tests run to their end without computing anything.
PLACEHOLDERS = """
class Value:
    def __init__(self, data=0.0, _children=(), _op=""):
        self.data, self.grad, self._op = data, 0, _op
        self.prev = set()
        self._backward = lambda: None
        self.w, self.b, self.neurons, self.layers, self.layer_sizes = [], None, [], [], []
    def _any(self, *args, **kwargs):
        return Value()
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _any
    __truediv__ = __rtruediv__ = __pow__ = __neg__ = __call__ = tanh = relu = _any
    def topo_sort(self):
        return [self]
    def backward(self):
        pass
    def parameters(self):
        return []
    def zero_grad(self):
        pass

Neuron = Layer = MLP = Value
"""


def submission(tmp_path: Path, code: str, name: str = "cheat") -> Path:
    root = tmp_path / name
    (root / "micrograd").mkdir(parents=True)
    (root / "micrograd" / "__init__.py").write_text("")
    (root / "micrograd" / "value.py").write_text(code)
    return root


def assert_zero(source: Path, seed: int = 4242) -> None:
    result = grade(source, seed=seed)
    assert result.status == "graded"
    passed = [c.id for c in checks(result).values() if c.status == "passed"]
    assert passed == [] and result.score == 0


def test_placeholders_alone_score_zero(tmp_path: Path) -> None:
    assert_zero(submission(tmp_path, PLACEHOLDERS))


def test_monkeypatching_pytest_to_pass_everything(tmp_path: Path) -> None:
    cheat = """
    import gc, pytest

    class Flip:
        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_makereport(self, item, call):
            report = (yield).get_result()
            report.outcome = "passed"
            report.longrepr = None

    for obj in gc.get_objects():
        if type(obj).__name__ == "Config" and hasattr(obj, "pluginmanager"):
            obj.pluginmanager.register(Flip(), "flip")
            break
    import sys
    plugin = sys.modules.get("mg_harness.plugin")
    if plugin is not None:   # also wipe the harness's own record of errors
        plugin._errors.clear()
        plugin.pytest_runtest_makereport = lambda item, call: None
    """
    assert_zero(submission(tmp_path, textwrap.dedent(cheat) + PLACEHOLDERS))


def test_forging_records_at_exit_then_exiting(tmp_path: Path) -> None:
    cheat = """
    import atexit, json, os

    # The record channel: every pipe the process holds but stdin, stdout and stderr.
    def _is_channel(entry):
        try:
            return int(entry) > 2 and os.readlink(f"/proc/self/fd/{entry}").startswith(
                ("pipe:", "socket:"))
        except OSError:
            return False

    fds = [int(e) for e in os.listdir("/proc/self/fd") if _is_channel(e)]
    checks = ["add_two_values", "add_number", "multiply_two_values", "negate"]

    def forge():
        for fd in fds:
            for check in checks:
                for record in ({"kind": "start", "check": check},
                               {"kind": "end", "check": check, "outcome": "passed",
                                "duration": 0.0, "stdout": "", "stderr": ""}):
                    try:
                        os.write(fd, json.dumps(record).encode() + b"\\n")
                    except OSError:
                        pass
            try:
                os.write(fd, b'{"kind": "done", "exitstatus": 0}\\n')
            except OSError:
                pass
        os._exit(0)

    atexit.register(forge)
    forge()
    """
    result = grade(submission(tmp_path, textwrap.dedent(cheat) + PLACEHOLDERS))
    assert result.score == 0
    assert "did not record" in checks(result)["add_two_values"].feedback
    assert any("started twice" in note for note in result.staff_notes)  # and staff are told


def test_os_exit_at_import(tmp_path: Path) -> None:
    result = grade(submission(tmp_path, "import os\nos._exit(0)\n" + PLACEHOLDERS))
    assert result.score == 0
    first = checks(result)["add_two_values"]
    assert first.status == "error"
    assert "ended while importing micrograd.value" in first.feedback


@pytest.mark.parametrize(
    "liar",
    [
        "class Liar:\n    def __eq__(self, other): return True\n    __ne__ = lambda s, o: False\n"
        "    __hash__ = object.__hash__\nLIE = Liar()\n",
        "class Liar(float):\n    def __eq__(self, other): return True\n"
        "    __ne__ = lambda s, o: False\n    __hash__ = float.__hash__\n"
        "    def __sub__(self, other): return 0.0\n"
        "    __rsub__ = __sub__\nLIE = Liar(0.0)\n",
        "LIE = float('nan')\n",
    ],
)
def test_values_that_lie(tmp_path: Path, liar: str) -> None:
    cheat = liar + PLACEHOLDERS.replace(
        "self.data, self.grad, self._op = data, 0, _op",
        "self.data, self.grad, self._op = LIE, LIE, _op",
    )
    assert_zero(submission(tmp_path, cheat))


def test_shipping_a_conftest_and_pytest_config(tmp_path: Path) -> None:
    root = submission(tmp_path, PLACEHOLDERS)
    flip = """
    import pytest
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(item, call):
        report = (yield).get_result()
        report.outcome = "passed"
    def pytest_sessionfinish(session):
        session.exitstatus = 0
    """
    for folder in (root, root / "micrograd"):
        (folder / "conftest.py").write_text(textwrap.dedent(flip))
    (root / "pytest.ini").write_text("[pytest]\naddopts = -p no:mg_harness.plugin\n")
    assert_zero(root)


def test_no_expected_value_is_anywhere_in_the_sandbox(tmp_path: Path) -> None:
    """A cheat that reads every number it can reach finds the inputs, never an answer.

    Its ``*`` walks every frame on the stack and every container the garbage collector
    tracks, collects every float, and writes them to a file outside the sandbox (the local
    backend can). The inputs of the check are there (so the search works); the product
    the reference computed is not, because expected values never enter the sandbox.
    """
    found = tmp_path / "found.json"
    cheat = (
        PLACEHOLDERS
        + f"""
import gc, json, sys

def _floats(value, depth=0):
    if type(value) is float:
        yield value
    elif depth < 3 and type(value) in (list, tuple, set, frozenset):
        for item in value:
            yield from _floats(item, depth + 1)
    elif depth < 3 and type(value) is dict:
        for item in value.values():
            yield from _floats(item, depth + 1)

def _search(self, *args, **kwargs):
    import os
    if os.path.exists({str(found)!r}):  # the first product is multiply_two_values's
        return Value(0.0)
    seen = set()
    frame = sys._getframe(1)
    while frame is not None:
        for local in list(frame.f_locals.values()):
            seen.update(_floats(local))
        frame = frame.f_back
    for obj in gc.get_objects():
        seen.update(_floats(obj, 2))
    with open({str(found)!r}, "w") as out:
        json.dump(sorted(seen), out)
    return Value(0.0)

Value.__mul__ = _search
"""
    )
    result = grade(submission(tmp_path, cheat), steps=(1,), seed=4242)
    assert checks(result)["multiply_two_values"].status == "failed"
    reachable = set(json.loads(found.read_text()))
    inputs = dict(checks(result)["multiply_two_values"].details["inputs"])
    assert {inputs["a"], inputs["b"]} <= reachable  # the search does reach the test's data
    expected = next(
        r["value"]
        for r in run_reference(
            load_exercise(), load_exercise().check("multiply_two_values"), 4242
        ).records
        if r["name"] == "a * b"
    )
    assert expected != 0.0 and not any(abs(x - expected) <= 1e-9 * abs(expected) for x in reachable)


def hard_coded_answers(seed: int) -> dict[str, dict[str, object]]:
    """What the reference observes at ``seed``, check by check: the cheat's lookup table."""
    exercise = load_exercise()
    table: dict[str, dict[str, object]] = {}
    for check in exercise.checks:
        run = run_reference(exercise, check, seed)
        table[check.id] = {r["name"]: r["value"] for r in run.records if "value" in r}
    return table


def test_hard_coding_the_public_examples_only_works_for_that_seed(tmp_path: Path) -> None:
    public = 12345
    cheat = (
        PLACEHOLDERS
        + f"""
import gc, json
TABLE = json.loads({json.dumps(json.dumps(hard_coded_answers(public)))})
# The harness is not importable by name: find its Observer class through the collector.
Observer = next(o for o in gc.get_objects()
                if isinstance(o, type) and o.__name__ == "Observer" and hasattr(o, "_emit"))
_emit = Observer._emit

def forged(self, record):
    answer = TABLE.get(self.check, {{}}).get(record["name"])
    if answer is not None:
        record = dict(record, value=answer, ok=True)
    _emit(self, record)

Observer._emit = forged
"""
    )
    root = submission(tmp_path, cheat)
    at_public_seed = grade(root, seed=public)
    assert at_public_seed.score >= 50, "the cheat itself must work, or this test proves nothing"
    assert any("Observer replaced" in note for note in at_public_seed.staff_notes)  # noticed
    assert_zero(root, seed=public + 1)


def test_a_cheat_on_top_of_honest_work_keeps_only_the_honest_part(tmp_path: Path) -> None:
    root = tmp_path / "half"
    shutil.copytree(REPO / "reference" / "step_3", root)
    honest = (root / "micrograd" / "value.py").read_text()
    forger = """
import gc, pytest
class _Flip:
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = (yield).get_result()
        report.outcome = "passed"
for _obj in gc.get_objects():
    if type(_obj).__name__ == "Config" and hasattr(_obj, "pluginmanager"):
        _obj.pluginmanager.register(_Flip(), "flip")
        break
"""
    (root / "micrograd" / "value.py").write_text(honest + forger)
    result = grade(root)
    assert step_scores(result) == {1: 20, 2: 20, 3: 20, 4: 0, 5: 0}
