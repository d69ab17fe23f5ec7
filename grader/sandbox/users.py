"""Sandbox users: the local backend runs student code as a dedicated, unprivileged account.

When micrograde runs as root and settings name sandbox users (``[local] users``, one per
parallel job), every run of the local backend takes a free one and starts the harness as
that user. ``subprocess`` itself switches (``user=``, ``group=``, ``extra_groups=[]``): no
``preexec_fn``, which is unsafe once the grader runs threads. What that user gets:

    reads        the interpreter and its packages (pytest, pytest-json-report, packages
                 staff allow) and its run directory: the harness bundle and its workspace
    writes       its own HOME and TMPDIR in the run directory, nothing the grader writes
    never reads  the secrets (the reference solution, the rubrics, the staged tests' source
                 with the hidden checks, a checkout's history and worked examples), the
                 class folder, the output folder, other runs' directories; expected values
                 exist only in the grader's memory, a process of another user
    limits       RLIMIT_NPROC for that user, besides the backend's other rlimits
    afterwards   every process of that user is killed (``cleanup.py``)

``verify`` asks the kernel, as each user (a probe process), before anything is graded, and
refuses to start when a secret or a private folder is readable or the interpreter is not.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import queue
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.errors import ConfigError
from grader.exercise import Exercise

CHECKOUT = Path(__file__).resolve().parents[2]
SECRET_PARTS = (
    ("reference", "the reference solution"),
    ("rubrics", "the rubrics, which name the hidden checks"),
    ("tests", "the staged tests, hidden checks included"),
    ("examples", "worked solutions"),
    (".git", "the history, which holds the reference solution"),
)
NEW_USER = "useradd --system --user-group --no-create-home --shell /usr/sbin/nologin"


@dataclass(frozen=True)
class SandboxUser:
    name: str
    uid: int
    gid: int


@dataclass(frozen=True)
class Private:
    """A path no sandbox user may read, and what it is (for the message that refuses)."""

    path: Path
    what: str


def resolve_users(names: Sequence[str]) -> tuple[SandboxUser, ...]:
    """The accounts ``[local] users`` names, each unprivileged with a group of its own."""
    if not names:
        return ()
    if os.geteuid() != 0:
        raise ConfigError(
            "settings name sandbox users ([local] users) but micrograde does not run as "
            "root, so it cannot switch to them: run it as root, or remove [local] users"
        )
    users = tuple(_account(name) for name in names)
    if len({u.uid for u in users}) < len(users) or len({u.gid for u in users}) < len(users):
        raise ConfigError(
            "[local] users: two of them share an account or a group; each sandbox user "
            f"needs both of its own (e.g. `{NEW_USER} NAME`)"
        )
    for user in users:
        _check_group(user)
    return users


def _account(name: str) -> SandboxUser:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise ConfigError(
            f"[local] users: there is no user {name!r} on this machine: create it with "
            f"`{NEW_USER} {name}`"
        ) from None
    if entry.pw_uid == 0 or entry.pw_gid == 0:
        raise ConfigError(f"[local] users: {name!r} is root or in root's group")
    return SandboxUser(name, entry.pw_uid, entry.pw_gid)


def _check_group(user: SandboxUser) -> None:
    """Run directories are readable by the user's group: nobody else may be in it."""
    members = set(grp.getgrgid(user.gid).gr_mem) - {user.name}
    members |= {e.pw_name for e in pwd.getpwall() if e.pw_gid == user.gid} - {user.name}
    if members:
        raise ConfigError(
            f"[local] users: the group of {user.name!r} (gid {user.gid}) also holds "
            f"{', '.join(sorted(members))}: give each sandbox user a group of its own"
        )


class UserPool:
    """Hands each running sandbox a user no other running sandbox has."""

    def __init__(self, users: Sequence[SandboxUser]) -> None:
        self.users = tuple(users)
        self._free: queue.Queue[SandboxUser] = queue.Queue()
        for user in self.users:
            self._free.put(user)

    def acquire(self) -> SandboxUser:
        return self._free.get()

    def release(self, user: SandboxUser) -> None:
        self._free.put(user)


def exercise_secrets(exercise: Exercise) -> tuple[Private, ...]:
    """What holds answers: in the exercise graded with, and in the checkout micrograde runs
    from (an installed micrograde sits in site-packages, which is no checkout)."""
    roots = [exercise.root]
    if (CHECKOUT / "reference").is_dir() and (CHECKOUT / "tests" / "steps").is_dir():
        roots.append(CHECKOUT)
    found: list[Private] = []
    for root in dict.fromkeys(roots):
        for name, what in SECRET_PARTS:
            if (root / name).exists():
                found.append(Private(root / name, what))
    return tuple(found)


def secure_run_directory(
    root: Path, user: SandboxUser, readable: Sequence[Path], writable: Sequence[Path]
) -> None:
    """``root`` for ``user`` alone: its group may enter; ``readable`` trees stay root's and
    read-only; the ``writable`` folders become the user's own (mode 700)."""
    os.chown(root, 0, user.gid)
    os.chmod(root, 0o750)
    for tree in readable:
        for folder, _dirs, files in os.walk(tree):
            os.chmod(folder, 0o755)
            for name in files:
                path = os.path.join(folder, name)
                if not os.path.islink(path):
                    os.chmod(path, 0o644)
    for own in writable:
        os.chown(own, user.uid, user.gid)
        os.chmod(own, 0o700)


_PROBE = r"""
import json, os, sys
request = json.loads(sys.argv[1])
def reachable(path):
    return os.access(path, os.R_OK) or (os.path.isdir(path) and os.access(path, os.X_OK))
answer = {"ids": [os.getuid(), os.geteuid(), os.getgid(), os.getegid()],
          "groups": os.getgroups(), "readable": [p for p in request["private"] if reachable(p)]}
try:
    import pytest, pytest_jsonreport.plugin
except Exception as exc:
    answer["imports"] = f"{type(exc).__name__}: {exc}"
try:
    open(request["file"]).close()
    open(os.path.join(request["home"], "probe"), "w").close()
except OSError as exc:
    answer["run_directory"] = f"{type(exc).__name__}: {exc}"
print(json.dumps(answer))
"""


def verify(users: Sequence[SandboxUser], python: str, private: Sequence[Private]) -> None:
    """Refuse (``ConfigError``) unless every user runs ``python`` with pytest, can use a run
    directory like the real ones, holds no other group and reads nothing in ``private``."""
    problems = []
    for user in users:
        problems += _probe(user, python, private)
    if problems:
        raise ConfigError("the sandbox users are not isolated:\n  - " + "\n  - ".join(problems))


def _probe(user: SandboxUser, python: str, private: Sequence[Private]) -> list[str]:
    root = Path(tempfile.mkdtemp(prefix="micrograde-probe-"))
    try:
        (root / "harness").mkdir()
        (root / "harness" / "file").write_text("probe\n")
        (root / "home").mkdir()
        secure_run_directory(root, user, [root / "harness"], [root / "home"])
        request = {
            "private": [str(p.path) for p in private],
            "file": str(root / "harness" / "file"),
            "home": str(root / "home"),
        }
        return _judge(user, python, _ask(user, python, request), private)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _ask(user: SandboxUser, python: str, request: Mapping[str, object]) -> dict[str, object] | str:
    try:
        done = subprocess.run(
            [python, "-I", "-c", _PROBE, json.dumps(request)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd="/",
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            user=user.uid,
            group=user.gid,
            extra_groups=[],  # user= alone keeps root's supplementary groups
            umask=0o077,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    try:
        answer: dict[str, object] = json.loads(done.stdout)
    except ValueError:
        return (done.stderr or done.stdout).strip()[-500:]
    return answer


def _judge(
    user: SandboxUser, python: str, answer: dict[str, object] | str, private: Sequence[Private]
) -> list[str]:
    if isinstance(answer, str):
        return [
            f"{user.name} cannot run {python} ({answer}): install micrograde in a virtual "
            "environment every sandbox user can read (for example under /opt) and run it "
            "from there"
        ]
    problems = []
    if answer["ids"] != [user.uid, user.uid, user.gid, user.gid] or answer["groups"]:
        problems.append(f"{user.name} did not get exactly its own ids and no other group")
    if "imports" in answer:
        problems.append(f"{user.name} cannot import pytest with {python}: {answer['imports']}")
    if "run_directory" in answer:
        problems.append(
            f"{user.name} cannot use a run directory in {tempfile.gettempdir()}: "
            f"{answer['run_directory']} (point TMPDIR at a folder every user can enter)"
        )
    readable = set(answer["readable"])  # type: ignore[call-overload]
    for item in private:
        if str(item.path) in readable:
            problems.append(
                f"{user.name} can read {item.path} ({item.what}): make it private, "
                f"e.g. `chmod -R go-rwx {item.path}`"
            )
    return problems
