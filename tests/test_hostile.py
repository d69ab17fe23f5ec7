"""Hostile submissions against the real Docker sandbox.

Each submission is the reference solution (reference/step_5/micrograd) with one attack
appended to its value.py, graded by ``grade_submission`` on the docker backend with tight
time budgets (helpers in hostile_grading.py). For each one the test asserts:

* it is graded within its limit (wall time <= the limit that applies + a grace);
* the checks it broke get a clear status (timeout or error) with a message that says what
  happened, and the checks it did not break still pass (partial results survive);
* a correct submission graded again and again in another thread meanwhile keeps full marks;
* afterwards (``docker_clean_host``): no container of this process, no process of a
  removed container, nothing left in the temporary directory.
"""

from __future__ import annotations

import hashlib
import resource
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hostile_grading import (
    GRACE,
    assert_only_broken,
    checks_calling,
    explain,
    grade_alongside,
    hostile,
    tight,
)

from grader.sandbox.docker import EXIT_GRACE, DockerSandbox

pytestmark = [pytest.mark.docker, pytest.mark.slow]


# ---------------------------------------------------------------------- endless loops


def test_endless_loop_at_import(
    docker_sandbox: DockerSandbox, docker_clean_host: Path, tmp_path: Path
) -> None:
    settings = tight(import_seconds=2.0, check_seconds=2.0)
    graded = grade_alongside(docker_sandbox, hostile(tmp_path, "while True:\n    pass\n"), settings)
    budget = settings.time
    # micrograd.value hangs on import: one timeout, then every other check is refused at
    # once, micrograd.mlp's too (it imports micrograd.value, refused there as well).
    assert graded.seconds <= budget.import_seconds + budget.check_seconds + GRACE
    timeouts = {i: c for i, c in graded.checks.items() if c.status == "timeout"}
    assert list(timeouts) == ["add_two_values"], explain(graded)
    for check in timeouts.values():
        assert "did not finish in time" in check.feedback
        assert "endless loop" in check.feedback
    assert "importing micrograd.value" in timeouts["add_two_values"].feedback
    others = [c for i, c in graded.checks.items() if i not in timeouts]
    assert all(c.status == "error" and "not tried again" in c.feedback for c in others)


SPIN = """
def _spin(self):
    while True:
        pass
Value.backward = _spin
"""
# The loop a student writes: around calls that return at once, so a stack dumped at one
# instant is most often inside an operator's _backward; the loop is backward()'s.
AGAIN = """
def _again(self):
    order = self.topo_sort()
    self.grad = 1
    while True:
        for node in reversed(order):
            node._backward()
Value.backward = _again
"""


@pytest.mark.parametrize("attack", [SPIN, AGAIN], ids=["spin", "around-operators"])
def test_endless_loop_in_backward_costs_only_the_gradient_checks(
    docker_sandbox: DockerSandbox, docker_clean_host: Path, tmp_path: Path, attack: str
) -> None:
    # Short checks and roomy steps, so that every gradient check gets its own timeout
    # and the checks after them in the same step still run. (The runner adds the import
    # allowance to the deadline of the first check of each restart: keep it short too.)
    settings = tight(check_seconds=2.0, import_seconds=2.0, step_seconds=60.0, total_seconds=200.0)
    settings = replace(settings, time=replace(settings.time, max_attempts=40))
    graded = grade_alongside(docker_sandbox, hostile(tmp_path, attack), settings)
    assert graded.seconds <= settings.time.total_seconds + GRACE
    assert_only_broken(graded, "backward", {"timeout"}, "Value.backward", "still running", "2 s")
    # At most one check waited out its limit; later ones were refused the looping method
    # at once (and one that only called it was excused by a counterfactual run).
    assert [c.status for c in graded.checks.values()].count("timeout") <= 1, explain(graded)


def test_threads_that_never_end_do_not_hold_the_grader(
    docker_sandbox: DockerSandbox, docker_clean_host: Path, tmp_path: Path
) -> None:
    attack = """
    import threading, time
    for _ in range(8):
        threading.Thread(target=time.sleep, args=(10**6,), daemon=False).start()
    """
    graded = grade_alongside(docker_sandbox, hostile(tmp_path, attack), tight())
    assert graded.result.score == 100, explain(graded)
    assert graded.seconds <= EXIT_GRACE + GRACE


def test_ignoring_sigterm_and_cancelling_alarms_changes_nothing(
    docker_sandbox: DockerSandbox, docker_clean_host: Path, tmp_path: Path
) -> None:
    attack = """
    import signal
    for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGHUP):
        signal.signal(_sig, signal.SIG_IGN)
    signal.alarm(0)

    def _tanh(self):
        while True:
            signal.alarm(0)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
    Value.tanh = _tanh
    """
    settings = tight(check_seconds=2.0, import_seconds=2.0, step_seconds=30.0)
    settings = replace(settings, time=replace(settings.time, max_attempts=20))
    graded = grade_alongside(docker_sandbox, hostile(tmp_path, attack), settings)
    assert graded.seconds <= settings.time.total_seconds + GRACE
    assert_only_broken(graded, "tanh", {"timeout"}, "did not finish within 2 s")


# ------------------------------------------------------------------ resource exhaustion


def test_fork_bomb(docker_sandbox: DockerSandbox, docker_clean_host: Path, tmp_path: Path) -> None:
    attack = """
    import os

    def _tanh(self):
        while True:
            os.fork()
    Value.tanh = _tanh
    """
    # On tanh, which few checks call: each call is contained the same way, and every
    # check that calls it costs the process once more.
    settings = tight(check_seconds=3.0)
    graded = grade_alongside(docker_sandbox, hostile(tmp_path, attack), settings)
    assert graded.seconds <= settings.time.total_seconds + GRACE
    used, _unknown = checks_calling("tanh")
    # Everything graded before the first call to relu survives; relu itself never passes.
    order = list(graded.checks)
    first = min(used, key=order.index)
    assert all(graded.checks[i].status == "passed" for i in order[: order.index(first)])
    assert graded.checks[first].status in ("error", "timeout", "failed")


def test_memory_bomb(
    docker_sandbox: DockerSandbox, docker_clean_host: Path, tmp_path: Path
) -> None:
    attack = """
    def _tanh(self):
        hoard = []
        while True:
            hoard.append(b"\\1" * (32 << 20))
    Value.tanh = _tanh
    """
    settings = tight(step_seconds=60.0)
    settings = replace(settings, time=replace(settings.time, max_attempts=20))
    graded = grade_alongside(docker_sandbox, hostile(tmp_path, attack), settings)
    assert graded.seconds <= settings.time.total_seconds + GRACE
    # Killed for memory, it leaves no stack to say where: a later check that calls tanh may
    # meet it again and run out of time instead.
    assert_only_broken(graded, "tanh", {"error", "timeout"}, "ran out of memory")


def test_recursion_deep_enough_to_crash_the_interpreter(
    docker_sandbox: DockerSandbox, docker_clean_host: Path, tmp_path: Path
) -> None:
    attack = """
    import sys

    class _Deep:
        def __repr__(self):
            return repr(self)  # through C each time: the C stack overflows

    def _sub(self, other):
        sys.setrecursionlimit(10**6)
        repr(_Deep())
    Value.__sub__ = _sub
    """
    settings = tight()
    settings = replace(settings, time=replace(settings.time, max_attempts=20))
    graded = grade_alongside(docker_sandbox, hostile(tmp_path, attack), settings)
    assert graded.seconds <= settings.time.total_seconds + GRACE
    assert_only_broken(graded, "__sub__", {"error"}, "signal 11")


def test_one_gigabyte_on_stdout(
    docker_sandbox: DockerSandbox, docker_clean_host: Path, tmp_path: Path
) -> None:
    # Straight to file descriptor 1, past print() (the harness keeps its record stream
    # elsewhere, so this lands in pytest's capture file on the size-capped /tmp).
    attack = """
    import os

    def _div(self, other):
        out = 1
        chunk = b"x" * (1 << 20)
        for _ in range(1024):
            os.write(out, chunk)
    Value.__truediv__ = _div
    """
    settings = tight()
    settings = replace(settings, time=replace(settings.time, max_attempts=20))
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    graded = grade_alongside(docker_sandbox, hostile(tmp_path, attack), settings)
    assert graded.seconds <= settings.time.total_seconds + GRACE
    assert_only_broken(graded, "__truediv__", {"error"}, "caps how much a check may print")
    # The grader never held the flood: its peak memory grew by far less than a gigabyte.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_kib < 200 * 1024


def test_one_gigabyte_printed(
    docker_sandbox: DockerSandbox, docker_clean_host: Path, tmp_path: Path
) -> None:
    # Through print(): pytest captures it in a file on the size-capped /tmp.
    attack = """
    def _div(self, other):
        chunk = "x" * (1 << 20)
        for _ in range(1024):
            print(chunk)
    Value.__truediv__ = _div
    """
    settings = tight()
    graded = grade_alongside(docker_sandbox, hostile(tmp_path, attack), settings)
    assert graded.seconds <= settings.time.total_seconds + GRACE
    assert_only_broken(graded, "__truediv__", {"error"})


def test_filling_tmp_and_the_working_directory(
    docker_sandbox: DockerSandbox, docker_clean_host: Path, tmp_path: Path
) -> None:
    attack = """
    import os
    for _where in ("/tmp", os.getcwd(), os.path.expanduser("~"), "/dev/shm", "/workspace"):
        try:
            with open(os.path.join(_where, "filler-" + str(len(os.listdir(_where)))), "wb") as f:
                while True:
                    f.write(b"\\0" * (1 << 20))
        except OSError:
            pass
    """
    graded = grade_alongside(docker_sandbox, hostile(tmp_path, attack), tight())
    assert graded.seconds <= tight().time.total_seconds + GRACE
    assert graded.result.score == 100, explain(graded)


def test_a_hundred_thousand_small_files(
    docker_sandbox: DockerSandbox, docker_clean_host: Path, tmp_path: Path
) -> None:
    attack = """
    import os
    os.makedirs("/tmp/many", exist_ok=True)
    for _i in range(100_000):
        open(f"/tmp/many/{_i}", "w").close()
    """
    settings = tight(import_seconds=20.0)
    graded = grade_alongside(docker_sandbox, hostile(tmp_path, attack), settings)
    assert graded.seconds <= settings.time.total_seconds + GRACE
    assert graded.result.score == 100, explain(graded)


# ------------------------------------------------------------ escaping and persisting


@pytest.fixture
def host_files() -> Iterator[None]:
    """/etc/passwd and the host's /tmp are as they were."""
    before = hashlib.sha256(Path("/etc/passwd").read_bytes()).hexdigest()
    tmp_before = set(Path("/tmp").iterdir())
    yield
    assert hashlib.sha256(Path("/etc/passwd").read_bytes()).hexdigest() == before
    planted = [p for p in set(Path("/tmp").iterdir()) - tmp_before if "planted" in p.name]
    assert planted == []


def test_writing_outside_the_workspace_and_planting_symlinks(
    docker_sandbox: DockerSandbox, docker_clean_host: Path, tmp_path: Path, host_files: None
) -> None:
    attack = """
    import os
    _failed = []
    for _target in ("/etc/passwd", "/harness/mg_run.py", "/workspace/micrograd/value.py",
                    "/workspace/planted", "/opt/venv/lib/python3.11/site-packages/planted.pth",
                    "/usr/lib/python3.11/planted.py", "/planted"):
        try:
            with open(_target, "a") as f:
                f.write("import os; os._exit(0)\\n")
        except OSError:
            _failed.append(_target)
    for _link, _to in (("/tmp/planted-passwd", "/etc/passwd"), ("planted-link", "/"),
                       ("/tmp/results.json", "/etc/shadow")):
        try:
            os.symlink(_to, _link)
        except OSError:
            pass
    if len(_failed) != 7:  # anything written where it should not be: lose the marks
        Value.__add__ = lambda self, other: Value(0)
    """
    graded = grade_alongside(docker_sandbox, hostile(tmp_path, attack), tight())
    assert graded.result.score == 100, explain(graded)
    assert graded.seconds <= tight().time.total_seconds + GRACE


PLANT = """
import os
for _where in ("/tmp", "/dev/shm", os.path.expanduser("~"), os.getcwd(), "/workspace",
               "/harness", "/var/tmp", "/run/lock"):
    try:
        with open(os.path.join(_where, "planted-by-the-first"), "w") as f:
            f.write("the next submission should never see this")
    except OSError:
        pass
"""

SNOOP = """
import glob, os
_seen = [p for where in ("/tmp", "/dev/shm", os.path.expanduser("~"), os.getcwd(),
                         "/workspace", "/harness", "/var/tmp", "/run/lock")
         for p in glob.glob(os.path.join(where, "*planted*"))]
if _seen:
    Value.__add__ = lambda self, other: Value(0)
"""


def test_files_planted_for_the_next_submission_are_never_seen(
    docker_sandbox: DockerSandbox, docker_clean_host: Path, tmp_path: Path, host_files: None
) -> None:
    planter = grade_alongside(docker_sandbox, hostile(tmp_path, PLANT, "planter"), tight())
    assert planter.result.score == 100, explain(planter)
    snooper = grade_alongside(docker_sandbox, hostile(tmp_path, SNOOP, "snooper"), tight())
    assert snooper.result.score == 100, explain(snooper)


@pytest.fixture
def listener() -> Iterator[tuple[int, list[Any]]]:
    """A TCP server on the host's loopback; yields its port and the connections it got."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    accepted: list[Any] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                accepted.append(server.accept())
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


def test_no_network_but_loopback(
    docker_sandbox: DockerSandbox,
    docker_clean_host: Path,
    tmp_path: Path,
    listener: tuple[int, list[Any]],
) -> None:
    port, accepted = listener
    host_address = socket.gethostbyname(socket.gethostname())
    attack = f"""
    import os, socket
    _reached = []
    for _address in ("127.0.0.1", {host_address!r}, "172.17.0.1", "1.1.1.1"):
        try:
            socket.create_connection((_address, {port}), timeout=1).close()
            _reached.append(_address)
        except OSError:
            pass
    try:
        socket.getaddrinfo("pypi.org", 443)
        _reached.append("dns")
    except OSError:
        pass
    if _reached or sorted(os.listdir("/sys/class/net")) != ["lo"]:
        Value.__add__ = lambda self, other: Value(0)
    """
    graded = grade_alongside(docker_sandbox, hostile(tmp_path, attack), tight())
    assert graded.result.score == 100, explain(graded)
    assert accepted == []
