"""The trust boundary's recorder (issue 14, attacks 2 and 3, and the team's own attacks).

A submission runs in the same process as the harness that records its answers, so it can
reach the recorder: patch the observer's class (found through ``gc``), swap what an
observer object writes to (found by walking the stack), patch what the recorder uses
(``json``), write raw lines on the record channel, or patch the tamper detector itself.
The design does not rest on keeping it out (docs/fair-grading-and-trust.md, section 8):
every value a submission reports is bound by a later observation the host checks, so a
forged record gains nothing over the same code without the attack, and most routes leave
a note for staff.

Each case is a broken submission and the same broken code with an attack added. The whole
set is graded once, by ``micrograde batch`` on the Docker sandbox, and every test compares
scores: the attacked copy must score no more than the honest broken one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "reference" / "step_5" / "micrograd"
SEED = "4242"

pytestmark = [pytest.mark.docker]

# ------------------------------------------------------------------ the broken code

# Every neuron starts at zero: an initialisation fault (step 4).
ZERO_START = (
    (
        "self.w = [Value(random.uniform(1, -1)) for _ in range(nin)]",
        "self.w = [Value(0.0) for _ in range(nin)]",
    ),
    ("self.b = Value(random.uniform(1, -1))", "self.b = Value(0.0)"),
)

# topo_sort returns its list the wrong way round (parents before children).
REVERSED_ORDER = (("        return order\n", "        return order[::-1]\n"),)

# backward() does nothing but seed the output's gradient.
DEAD_BACKWARD = (
    (
        "        for node in reversed(order):\n            node._backward()",
        "        pass",
    ),
)

# A start whose correct gradients all vanish, built to pass the starting-weights check:
# distinct, spread over [-1, 1], both signs. Every first-layer ReLU is shut for the test's
# four inputs (negative weights, negative bias), so is every second-layer one, and the
# output's bias sits at the mean target (0.75): the correct loss curve is flat, so a
# backward() that does nothing would match it.
DEAD_START = (
    (
        ZERO_START[0][0],
        """if nin == 3:
            self.w = [Value(-random.uniform(0.6, 0.9)), Value(-random.uniform(0.3, 0.5)),
                      Value(-random.uniform(0.3, 0.5))]
        else:
            self.w = [Value(random.uniform(1, -1)) for _ in range(nin)]""",
    ),
    (ZERO_START[1][0], "self.b = Value(-random.uniform(0.5, 1.0) if nonlin else 0.75)"),
)

# The degenerate start: one weight at 0.5, the other forty at 0.
DEGENERATE_START = (
    ZERO_START[0],
    (
        ZERO_START[1][0],
        "self.b = Value(0.0)\n        if not nonlin:\n            self.w[0] = Value(0.5)",
    ),
)

# ------------------------------------------------------------------ the attacks

_FIND_OBSERVER = """
import gc as _gc
import random as _random

_invented = _random.Random(7)


def _observer_classes():
    return [o for o in _gc.get_objects()
            if isinstance(o, type) and o.__name__ == "Observer" and hasattr(o, "given")]


def _invent(value):
    if isinstance(value, list):
        return [_invent(v) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _invented.uniform(-1, 1)
    return value
"""

# Report invented starting weights instead of the network's (the attack 2).
FORGE_GIVENS = (
    _FIND_OBSERVER
    + """

for _cls in _observer_classes():
    def _forged_given(self, name, value, _honest=_cls.given):
        return _honest(self, name, _invent(value))
    _cls.given = _forged_given
"""
)

# Report the order topo_sort should have returned, not the one it did (attack 2).
FORGE_ORDER = (
    _FIND_OBSERVER
    + """

for _cls in _observer_classes():
    def _forged_topo(self, name, order, *args, _honest=_cls.topo, **kwargs):
        return _honest(self, name, list(reversed(order)), *args, **kwargs)
    _cls.topo = _forged_topo
"""
)

# Frame walking: from inside Neuron.__init__, find the check's observer object on the stack
# and swap what it writes to for a filter that invents the reported weights.
FORGE_BY_FRAMES = (
    _FIND_OBSERVER
    + """
import sys as _sys


def _rewrite(sink):
    def forged(record):
        if record.get("role") == "given":
            record = dict(record, value=_invent(record["value"]))
        return sink(record)
    forged.attacked = True
    return forged


def _swap_sinks():
    frame = _sys._getframe(1)
    while frame is not None:
        for value in list(frame.f_locals.values()):
            sink = getattr(value, "_sink", None)
            if callable(sink) and hasattr(value, "given") and not hasattr(sink, "attacked"):
                value._sink = _rewrite(sink)
        frame = frame.f_back
"""
)

# Patch what a recorder would use to write: json.dumps rewrites every given on its way out.
FORGE_THROUGH_JSON = (
    _FIND_OBSERVER
    + """
import json as _json

_dumps = _json.dumps


def _forging_dumps(obj, *args, **kwargs):
    if isinstance(obj, dict) and obj.get("role") == "given":
        obj = dict(obj, value=_invent(obj["value"]))
    return _dumps(obj, *args, **kwargs)


_json.dumps = _forging_dumps
"""
)

# Write forged given records straight onto the channel's descriptor, past every recorder:
# one for the check that is running (sent last, so it is the one a careless host keeps)
# and one for a check that is not.
FORGE_ON_THE_WIRE = (
    _FIND_OBSERVER
    + """
import os as _os
import sys as _sys


def _channels():
    found = []
    for entry in _os.listdir("/proc/self/fd"):
        try:
            target = _os.readlink(f"/proc/self/fd/{entry}")
        except OSError:
            continue
        if int(entry) > 2 and target.startswith(("pipe:", "socket:")):
            found.append(int(entry))
    return found


def _send(record):
    for fd in _channels():
        try:
            _os.write(fd, (_json.dumps(record) + "\\n").encode())
        except OSError:
            pass


import json as _json

_sent = set()


def _forge_on_the_wire():
    frame = _sys._getframe(1)
    while frame is not None and not frame.f_code.co_name.startswith("test_"):
        frame = frame.f_back
    if frame is None or frame.f_code.co_name in _sent:
        return
    check = frame.f_code.co_name[len("test_"):]
    _sent.add(frame.f_code.co_name)
    for name in ("starting w and b of eight Neuron(4)", "your initial weights"):
        for target in (check, "add_two_values"):
            _send({"kind": "obs", "check": target, "role": "given", "name": name,
                   "value": [[_invented.uniform(-1, 1) for _ in range(5)] for _ in range(8)]
                   if "eight" in name else [_invented.uniform(-1, 1) for _ in range(41)],
                   "item": None})
"""
)

# Patch the tamper detector first, then the observer's class: nothing is reported, and
# binding still leaves nothing to gain.
SILENCED_DETECTOR = (
    """
import gc as _gc0

for _thing in _gc0.get_objects():
    if isinstance(_thing, type) and _thing.__name__ == "Fingerprint":
        _thing.changes = lambda self, instances=(): []
"""
    + FORGE_GIVENS
)

# Where an attack runs from inside the network's code (the hook is called as a neuron is
# made, and again after the neurons are made, so it sees the observer and its records).
HOOK_NEURON = """

_honest_init = Neuron.__init__


def _hooked_init(self, *args, **kwargs):
    _honest_init(self, *args, **kwargs)
    {call}


Neuron.__init__ = _hooked_init
"""


def _write(
    root: Path,
    name: str,
    edits: tuple[tuple[str, str], ...] = (),
    value_attack: str = "",
    mlp_attack: str = "",
) -> Path:
    """The reference with ``edits`` made (to whichever file holds the text) and attacks
    appended to value.py and mlp.py."""
    folder = root / name / "micrograd"
    shutil.copytree(REFERENCE, folder)
    for old, new in edits:
        hits = [p for p in folder.glob("*.py") if old in p.read_text()]
        assert len(hits) == 1, (name, old)
        hits[0].write_text(hits[0].read_text().replace(old, new, 1))
    for file, attack in (("value.py", value_attack), ("mlp.py", mlp_attack)):
        if attack:
            path = folder / file
            path.write_text(path.read_text() + "\n\n# ---- the attack ----\n" + attack)
    return root / name


CASES: dict[str, dict[str, Any]] = {
    # broken code, as it is
    "zero_start": {"edits": ZERO_START},
    "reversed_order": {"edits": REVERSED_ORDER},
    "dead_backward": {"edits": DEAD_BACKWARD},
    "degenerate_start": {"edits": DEGENERATE_START},
    # broken code with an attack
    "zero_start_forged_givens": {"edits": ZERO_START, "value_attack": FORGE_GIVENS},
    "reversed_order_forged": {"edits": REVERSED_ORDER, "value_attack": FORGE_ORDER},
    "dead_backward_degenerate_start": {"edits": DEAD_BACKWARD + DEGENERATE_START},
    "dead_backward_dead_start": {"edits": DEAD_BACKWARD + DEAD_START},
    "zero_start_by_frames": {
        "edits": ZERO_START,
        "mlp_attack": FORGE_BY_FRAMES + HOOK_NEURON.format(call="_swap_sinks()"),
    },
    "zero_start_through_json": {"edits": ZERO_START, "value_attack": FORGE_THROUGH_JSON},
    "zero_start_on_the_wire": {
        "edits": ZERO_START,
        "mlp_attack": FORGE_ON_THE_WIRE + HOOK_NEURON.format(call="_forge_on_the_wire()"),
    },
    "zero_start_silenced": {"edits": ZERO_START, "value_attack": SILENCED_DETECTOR},
}


@cache
def _graded(root: str) -> dict[str, dict[str, Any]]:
    """Every case graded in one batch: student id -> results.json."""
    folder = Path(root) / "class"
    for name, case in CASES.items():
        _write(folder, name, **case)
    out = Path(root) / "out"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "grader", "batch", str(folder), "--out", str(out)),
            *("--sandbox", "docker", "--seed", SEED, "--jobs", "2"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    students = sorted(p.parent.name for p in out.glob("*/results.json"))
    assert students == sorted(CASES)
    return {s: json.loads((out / s / "results.json").read_text()) for s in students}


@pytest.fixture(scope="module")
def graded(docker_sandbox: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return _graded(str(tmp_path_factory.mktemp("recorder")))


def _checks(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for s in results["steps"] for c in s["checks"]}


def _notes(results: dict[str, Any]) -> str:
    return "\n".join(results.get("staff_notes", []))


def _no_gain(graded: Any, attacked: str, honest: str) -> None:
    got, base = graded[attacked], graded[honest]
    assert got["status"] == base["status"] == "graded"
    gained = {
        cid: check["status"]
        for cid, check in _checks(got).items()
        if check["status"] == "passed" and _checks(base)[cid]["status"] != "passed"
    }
    assert got["score"] <= base["score"], (got["score"], base["score"], gained)


# ------------------------------------------------------------------ attack 2


def test_forged_starting_weights_gain_nothing_and_are_reported(graded: Any) -> None:
    assert graded["zero_start"]["score"] < 100  # the broken code loses points
    _no_gain(graded, "zero_start_forged_givens", "zero_start")
    assert "Observer replaced or patched" in _notes(graded["zero_start_forged_givens"])


def test_a_forged_topological_order_gains_nothing_and_is_reported(graded: Any) -> None:
    assert _checks(graded["reversed_order"])["topo_sort"]["status"] == "failed"
    _no_gain(graded, "reversed_order_forged", "reversed_order")
    assert _checks(graded["reversed_order_forged"])["topo_sort"]["status"] == "failed"
    assert "Observer replaced or patched" in _notes(graded["reversed_order_forged"])


# ------------------------------------------------------------------ attack 3


def test_a_start_that_makes_training_flat_gains_nothing(graded: Any) -> None:
    # The start (one weight at 0.5, forty at 0) and one built to pass the
    # starting-weights check: with a backward() that does nothing, neither scores more
    # than the same backward() from an honest start.
    # The training check differed from the reference (it is excused only because the
    # backward() fault is charged in step 2): the start did not make it pass.
    for start in ("dead_backward_degenerate_start", "dead_backward_dead_start"):
        _no_gain(graded, start, "dead_backward")
        check = _checks(graded[start])["training_from_own_weights"]
        assert "Value.backward, charged in step 2" in check.get("excused", ""), start


def test_a_degenerate_start_is_charged_once_in_step_4(graded: Any) -> None:
    checks = _checks(graded["degenerate_start"])
    failed = sorted(cid for cid, check in checks.items() if check["status"] != "passed")
    assert failed == ["neuron_weights"], failed
    assert "no start to learn from" in checks["neuron_weights"]["feedback"]
    # The training check trained from weights it drew itself, and was not excused: it
    # judged training, which is right.
    own = checks["training_from_own_weights"]
    assert "excused" not in own
    values = {v["name"]: v["actual"] for v in own["details"]["values"]}
    assert values["your initial weights are a start to learn from"] is False


# ------------------------------------------------------------------ the team's own attacks


@pytest.mark.parametrize(
    ("attack", "reported"),
    [
        ("zero_start_by_frames", "Observer._sink (on the object)"),
        ("zero_start_through_json", None),  # the recorder never looks json up again
        ("zero_start_on_the_wire", "records arrived for a check that was not running"),
        ("zero_start_silenced", None),  # the detector itself was patched first
    ],
)
def test_the_teams_attacks_on_the_recorder_gain_nothing(
    graded: Any, attack: str, reported: str | None
) -> None:
    _no_gain(graded, attack, "zero_start")
    if reported is not None:
        assert reported in _notes(graded[attack]), _notes(graded[attack])


def test_two_records_of_one_name_in_a_check_are_reported(graded: Any) -> None:
    # The honest harness sends each name once per check: a second one was written past it.
    assert "two records named" in _notes(graded["zero_start_on_the_wire"])


def test_honest_code_gets_no_note(graded: Any) -> None:
    for name in ("zero_start", "reversed_order", "dead_backward", "degenerate_start"):
        assert _notes(graded[name]) == "", name


def test_the_attacks_ran(graded: Any) -> None:
    """Guard against attacks that silently did nothing: the forged weights reached the host
    (the reference replayed them), so the check now fails on the bound observation."""
    for attack in ("zero_start_forged_givens", "zero_start_by_frames"):
        feedback = _checks(graded[attack])["neuron_weights"]["feedback"]
        assert "each neuron(x), from its starting weights" in feedback, (attack, feedback)
