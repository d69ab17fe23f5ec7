"""The trust boundary's second round (issue 14): attacks on the Docker grading path.

Each attack is a submission (the reference solution with the attack appended to its
value.py) graded by ``micrograde grade --sandbox docker`` as a course would run it. The
attacks are written the way a student with time and the grader's source would write them;
each test states what the attack must not achieve.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hostile_grading import hostile

from grader.exercise import load_exercise
from grader.rubric import load_rubric

pytestmark = [pytest.mark.docker]

SEED = "4242"

# Finds the channel the harness sends records on: the descriptor named in the harness's
# environment when there is one, else every pipe or socket the process holds but stdin,
# stdout and stderr. The student writes raw lines on it, past any recorder.
RAW_CHANNEL = """
import os as _os


def _channels():
    named = _os.environ.get("MG_RECORD_FD")
    if named:
        return [int(named)]
    found = []
    for entry in _os.listdir("/proc/self/fd"):
        fd = int(entry)
        try:
            target = _os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if fd > 2 and target.startswith(("pipe:", "socket:")):
            found.append(fd)
    return found


def _send(line):
    for fd in _channels():
        try:
            _os.write(fd, line.encode() + b"\\n")
        except OSError:
            pass
"""


def grade_cli(
    source: Path, out: Path, *extra: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any] | None]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "grade",
            str(source),
            "--sandbox",
            "docker",
            "--seed",
            SEED,
            "--out",
            str(out),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    path = out / "results.json"
    return done, json.loads(path.read_text()) if path.exists() else None


def checks_of(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for s in results["steps"] for c in s["checks"]}


def points(check_id: str) -> float:
    exercise = load_exercise()
    return load_rubric(exercise).entry(exercise.check(check_id).step, check_id).points


# ------------------------------------------------------------------ 1. crashing numbers


def test_a_401_digit_integer_fails_its_check_and_crashes_nothing(
    docker_sandbox: Any, tmp_path: Path
) -> None:
    # The forged "data" is sent while add_two_values reads out._op, after the honest
    # "data" observation, so the host sees it last.
    attack = (
        RAW_CHANNEL
        + """
_sent = []


def _op_of(self):
    if not _sent and self.__dict__.get("_label") == "+":
        _sent.append(1)
        _send('{"kind": "obs", "check": "add_two_values", "role": "value", "name": "data", '
              '"value": 1' + "0" * 400 + ', "tol": [1e-6, 1e-9], "blame": null}')
    return self.__dict__.get("_label", "")


def _set_op(self, value):
    self.__dict__["_label"] = value


Value._op = property(_op_of, _set_op)
"""
    )
    done, results = grade_cli(hostile(tmp_path, attack), tmp_path / "out")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr + done.stdout
    assert results is not None and results["status"] == "graded"
    check = checks_of(results)["add_two_values"]
    assert check["status"] == "failed"
    assert "record(s) the grader cannot read (an integer of 401 digits" in check["feedback"]
    assert results["score"] == 100 - points("add_two_values")


# ------------------------------------------------------- 4. escape sequences in the summary

# Cursor up, erase the line, a green forged score, a window title, "conceal", a
# right-to-left override, a zero-width space, a C1 control and a line of its own.
ESCAPES = (
    "\x1b[1A\x1b[2K\x1b[32mforged: 100/100\x1b[0m\x1b]0;grader owned\x07\x1b[8m"
    "\u202etxt.exe\u200b\x9b\r\nfake-line: 100/100"
)


def _unsafe_characters(text: str) -> list[str]:
    """Control characters (but tab and newline), format characters (bidi, zero-width) and
    line separators: what can act on a terminal or hide text (Unicode's own categories)."""
    return sorted(
        {
            f"U+{ord(c):04X}"
            for c in text
            if (unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")) and c not in "\t\n"
        }
    )


def test_no_control_or_bidi_character_from_a_submission_reaches_terminal_log_or_csv(
    docker_sandbox: Any, tmp_path: Path
) -> None:
    attack = f"""
def _boom(self, other):
    raise RuntimeError({ESCAPES!r})


Value.__mul__ = _boom
"""
    source = hostile(tmp_path, attack, name="escapes")
    done, results = grade_cli(source, tmp_path / "out")
    assert done.returncode == 0, done.stderr[-2000:]
    assert results is not None and "forged: 100/100" in json.dumps(results)  # kept in the data
    shown = done.stdout + done.stderr
    assert "forged: 100/100" in shown  # the text is shown, made inert
    assert _unsafe_characters(shown) == []
    assert not any(line.startswith("fake-line") for line in shown.splitlines())
    # In a class: the log lines and the gradebook's cells. One student's import raises
    # the escapes (every check fails the same way, so the message quotes them); another
    # hands in a file whose name holds them (the rejection names the file).
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copytree(source, folder / "escapes_101")
    (folder / "importfail_102" / "micrograd").mkdir(parents=True)
    (folder / "importfail_102" / "micrograd" / "value.py").write_text(
        f"raise RuntimeError({ESCAPES!r})\n\n\nclass Value:\n    pass\n"
    )
    (folder / "badname_103_5003_\x1b[31mred\u202e.txt").write_text("not code")
    batch = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "batch",
            str(folder),
            "--out",
            str(tmp_path / "b"),
            "--sandbox",
            "docker",
            "--seed",
            SEED,
            "--jobs",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert batch.returncode == 0, batch.stderr[-2000:]
    assert _unsafe_characters(batch.stdout + batch.stderr) == []
    for name in ("gradebook.csv", "gradebook-checks.csv"):
        text = (tmp_path / "b" / name).read_text(encoding="utf-8")
        assert _unsafe_characters(text) == [], name
    cells = (tmp_path / "b" / "gradebook.csv").read_text(encoding="utf-8")
    assert "\\x1b[31mred\\u202e.txt cannot be graded" in cells  # shown, escaped


# ------------------------------------------------------------ 5. a 50 MB results.json


@pytest.mark.parametrize("characters", [1_000_000, 19_000], ids=["1MB", "19k"])
def test_a_results_json_stays_under_a_megabyte_whatever_the_output(
    docker_sandbox: Any, tmp_path: Path, characters: int
) -> None:
    # The harness's joiner of a check's output, found through the garbage collector (the
    # harness is not importable by name) and patched so every check reports a flood.
    attack = f"""
import gc as _gc

for _thing in _gc.get_objects():
    if callable(_thing) and getattr(_thing, "__name__", "") == "_joined" \\
            and "mg_harness" in getattr(_thing, "__module__", ""):
        _thing.__globals__["_joined"] = lambda stages, stream: "x" * {characters}
"""
    done, results = grade_cli(hostile(tmp_path, attack), tmp_path / "out")
    assert done.returncode == 0, done.stderr[-2000:]
    assert results is not None and results["status"] == "graded"
    size = (tmp_path / "out" / "results.json").stat().st_size
    assert size < 1_000_000, size
    if characters < 20_000:  # lines the wire accepts: kept in part, and the result says so
        assert any("more than the grader keeps" in note for note in results["notes"])
        assert results["score"] == 100  # the output is not part of any verdict
    # The patched harness was noticed, and staff are told (students are not).
    assert any("plugin._joined" in note for note in results.get("staff_notes", [])), results.get(
        "staff_notes"
    )


# ------------------------------------------------------------ 6. hidden checks' code


def test_no_hidden_checks_code_reaches_what_the_student_sees(
    docker_sandbox: Any, tmp_path: Path
) -> None:
    # Every time Value.__add__ runs, print the names of every test function found in any
    # readable Python file of the container: in visible checks that output is shown to the
    # student. (The hidden checks' own output is not.)
    attack = """
import os as _os, re as _re

_cache = []

def _test_names():
    if _cache:
        return _cache[0]
    found = set()
    for top in ("/harness", "/tmp", "/workspace", "/opt", "/usr/lib/python3", "/"):
        for folder, dirs, files in _os.walk(top):
            dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")]
            for name in files:
                if name.endswith(".py"):
                    try:
                        text = open(_os.path.join(folder, name), errors="replace").read()
                    except OSError:
                        continue
                    found.update(_re.findall(r"def (test_[a-z_]+)", text))
        if found:
            break
    _cache.append(sorted(found))
    return _cache[0]

_add = Value.__add__

def _spying_add(self, other):
    print("TESTS:", " ".join(_test_names()))
    return _add(self, other)

Value.__add__ = _spying_add
"""
    done, results = grade_cli(hostile(tmp_path, attack), tmp_path / "out")
    assert done.returncode == 0, done.stderr[-2000:]
    assert results is not None
    exercise = load_exercise()
    rubric = load_rubric(exercise)
    hidden = {
        c for s in rubric.steps.values() for c, e in s.entries.items() if e.visibility == "hidden"
    }
    assert hidden  # the exercise has hidden checks, one per step
    visible_output = json.dumps(
        [c for c in checks_of(results).values() if c["visibility"] == "visible"]
    )
    assert "test_add_two_values" in visible_output  # the spy worked and was shown
    for check_id in hidden:
        assert f"test_{check_id}" not in visible_output, check_id
    report = "".join(p.read_text() for p in (tmp_path / "out").glob("*.html"))
    for check_id in hidden:
        assert f"test_{check_id}" not in report, check_id
    # The hidden checks did run (their code arrived after the visible ones) and were graded.
    assert all(checks_of(results)[c]["status"] != "not_run" for c in hidden)
