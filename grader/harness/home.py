"""Home mode: plain ``pytest`` in a student's hand-out folder, checked against an answer key.

A hand-out (``micrograde handout``) ships this harness as ``tests/mg_harness`` and a
``tests/conftest.py`` whose ``pytest_configure`` calls ``setup(config, root)``. ``setup``
loads the student's classes from ``root/micrograd`` and installs the ``KEY`` mode of
``observe``: every observation is compared at once with the reference's observation of the
same name in ``root/answer_key.json`` (made for one public seed). A check without a key
entry is skipped; the grader runs it.

When a check fails, the report says what a student can act on -- the method to look at,
what was expected and what their code gave, the check's inputs, and the lines of *their*
code that raised -- instead of a traceback through this harness. ``--tb=...`` brings
pytest's own tracebacks back.

Like the rest of the harness this module is relocatable: stdlib and pytest only.
"""

from __future__ import annotations

import json
import linecache
import re
import sys
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from . import fixtures
from .encode import describe
from .errorinfo import describe_exception
from .loader import Loader
from .observe import Mode

KEY_FILE = "answer_key.json"
KEY_SCHEMA = 1
PACKAGE = "micrograd"
# The exercise's own layout, and Karpathy's original names (engine.py, nn.py).
LAYOUTS = (
    {"value": ("Value",), "mlp": ("Neuron", "Layer", "MLP")},
    {"engine": ("Value",), "nn": ("Neuron", "Layer", "MLP")},
)
HARNESS_DIR = Path(__file__).resolve().parent
MAX_INPUTS = 6
_BLAME = re.compile(r"^(.*) \[([^\[\]]+)\]$", re.DOTALL)


class KeyFileError(ValueError):
    """The answer key is missing or is not one this harness can read."""


def load_key(path: Path) -> dict[str, Any]:
    """Read and check an answer key: ``{"schema": 1, "seed": int, "checks": {...}}``."""
    try:
        key = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeyFileError(f"{path} is missing: it comes with the hand-out") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise KeyFileError(f"{path} cannot be read: {exc}") from None
    if type(key) is not dict or key.get("schema") != KEY_SCHEMA:
        raise KeyFileError(f"{path} is not an answer key of schema {KEY_SCHEMA}")
    checks = key.get("checks")
    if (
        type(key.get("seed")) is not int
        or type(checks) is not dict
        or not all(
            type(records) is list and all(type(r) is dict for r in records)
            for records in checks.values()
        )
    ):
        raise KeyFileError(f"{path} is damaged: get a fresh copy from the hand-out")
    return key


def classes_for(root: Path) -> dict[str, str]:
    """Where each class lives under ``root``: ``micrograd.value`` or Karpathy's ``engine``."""
    found: dict[str, str] = {}
    for layout in LAYOUTS:
        for module, names in layout.items():
            if (root / PACKAGE / f"{module}.py").is_file():
                found.update({name: f"{PACKAGE}.{module}" for name in names if name not in found})
    for module, names in LAYOUTS[0].items():  # so a missing file is reported by its usual name
        found.update({name: f"{PACKAGE}.{module}" for name in names if name not in found})
    return found


def setup(config: pytest.Config, root: Path, key: Mapping[str, Any] | None = None) -> None:
    """Check the code in ``root/micrograd`` against ``key`` (default: ``root/answer_key.json``)."""
    root = root.resolve()
    if key is None:
        try:
            key = load_key(root / KEY_FILE)
        except KeyFileError as exc:
            raise pytest.UsageError(str(exc)) from None
    _before_installed_packages(str(root))
    loader = Loader(str(root), classes_for(root), [], _ignore)
    fixtures.install(fixtures.Context(Mode.KEY, int(key["seed"]), loader, key=dict(key["checks"])))
    manager = config.pluginmanager
    if not manager.is_registered(fixtures):
        manager.register(fixtures, "mg_harness_fixtures")
    previous = manager.get_plugin("mg_harness_home")
    if previous is not None:  # set up twice in one session: the latest key wins
        manager.unregister(previous)
    manager.register(Reporter(root, key), "mg_harness_home")


def _before_installed_packages(folder: str) -> None:
    """Put ``folder`` on sys.path after the standard library, before installed packages.

    The student's package must win over an installed one ("micrograd" on PyPI is
    Karpathy's), which the loader alone would not do: it puts the folder last. A stray
    ``random.py`` beside it must still not shadow the standard library's.
    """
    paths = [path for path in sys.path if path != folder]
    at = next(
        (
            index
            for index, path in enumerate(paths)
            if path.endswith(("site-packages", "dist-packages"))
        ),
        len(paths),
    )
    sys.path[:] = paths[:at] + [folder] + paths[at:]


def _ignore(record: dict[str, Any]) -> None:
    """The loader announces imports for the sandbox's clock; at home nobody listens."""


@dataclass(frozen=True)
class Crash:
    """What pytest's one-line summary (``FAILED ... - message``) shows."""

    path: str
    lineno: int
    message: str


class Explanation:
    """A failure report in plain words, in the shape pytest prints (``toterminal``)."""

    def __init__(self, lines: list[str], crash: Crash) -> None:
        self.lines = lines
        self.reprcrash = crash

    def toterminal(self, out: Any) -> None:
        out.line(self.lines[0], red=True, bold=True)
        for line in self.lines[1:]:
            out.line(line)

    def __str__(self) -> str:
        return "\n".join(self.lines)


class Reporter:
    """The pytest hooks of home mode (registered as a plugin object by ``setup``)."""

    def __init__(self, root: Path, key: Mapping[str, Any]) -> None:
        self.root = root
        self.seed = int(key["seed"])
        self.key: Mapping[str, list[dict[str, Any]]] = key["checks"]

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        return [
            f"micrograd: checking {self.root / PACKAGE} against the answer key "
            f"(seed {self.seed}); use --tb=short for full tracebacks"
        ]

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, Any]:
        report = yield
        excinfo = call.excinfo
        if report.failed and excinfo is not None and item.config.option.tbstyle == "auto":
            report.longrepr = self.explain(item, excinfo)
        return report

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if terminalreporter.stats.get("skipped"):
            terminalreporter.write_line(
                "skipped checks are checked by the grader only: they "
                "need data from your own run, which no key can hold"
            )

    def explain(self, item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:
        check = fixtures.check_id(item.name)
        observer = getattr(item, "funcargs", {}).get("observe")
        # The item the test said it is on (``Value.__mul__:forward``), shown as its method.
        on = getattr(observer, "current_item", None)
        blame = on.split(":")[0] if type(on) is str else None
        if _from_harness(excinfo):
            message, named = _split_blame(str(excinfo.value))
            lines = [message] + [f"  look at {named or blame}"] * bool(named or blame)
        else:
            lines = self._error_lines(excinfo.value, blame)
        lines += self._input_lines(check)
        where = _test_line(item, excinfo)
        if where:
            code = linecache.getline(str(item.path), where[1]).strip()
            lines.append(f"  checked at {where[0]}:{where[1]}" + (f": {code}" if code else ""))
        path, lineno = where or (item.nodeid, 0)
        return Explanation(lines, Crash(path, lineno, lines[0]))

    def _error_lines(self, exc: BaseException, blame: str | None) -> list[str]:
        info = describe_exception(exc, str(self.root / PACKAGE))
        frames = info["frames"]
        missing = info.get("not_implemented")
        if missing:
            where = f" ({_place(frames[-1])})" if frames else ""
            return [
                f"{missing} is not implemented yet{where}",
                "  it still raises NotImplementedError: replace that line with your code",
            ]
        called = _CALLED.match(str(info["message"]))
        culprit = frames[-1]["function"] if frames else called.group(1) if called else blame
        lines = [f"{info['type']}{f' in {culprit}' if culprit else ''}: {info['message']}"]
        if "cause" in info and info["cause"]["message"] not in info["message"]:
            lines.append(f"  caused by {info['cause']['type']}: {info['cause']['message']}")
        lines += [
            f"  {_place(frame)}, in {frame['function']}: {frame['code']}" for frame in frames[-5:]
        ]
        return lines

    def _input_lines(self, check: str) -> list[str]:
        inputs = [
            (r.get("name"), r.get("value"))
            for r in self.key.get(check, [])
            if r.get("role") == "input"
        ]
        if not inputs:
            return []
        shown = [f"{name} = {describe(value, 80)}" for name, value in inputs[:MAX_INPUTS]]
        more = len(inputs) - MAX_INPUTS
        return ["  inputs: " + ", ".join(shown) + (f" and {more} more" if more > 0 else "")]


# "Layer.__init__() got an unexpected keyword argument 'nonlin'": the method called wrong.
_CALLED = re.compile(r"^((?:Value|Neuron|Layer|MLP)\.\w+)\(\) (?:got|takes|missing)")


def _split_blame(message: str) -> tuple[str, str | None]:
    """A graph comparison ends its message with ``[the method to blame]``: split it off."""
    found = _BLAME.match(message)
    return (found.group(1), found.group(2)) if found else (message, None)


def _place(frame: Mapping[str, Any]) -> str:
    return f"{PACKAGE}/{frame['file']}, line {frame['line']}"


def _from_harness(excinfo: pytest.ExceptionInfo[BaseException]) -> bool:
    """An answer-key comparison that failed (an assert in this harness, not the student's)."""
    last = excinfo.traceback[-1] if excinfo.traceback else None
    return (
        isinstance(excinfo.value, AssertionError)
        and last is not None
        and Path(str(last.path)).resolve().parent == HARNESS_DIR
    )


def _test_line(
    item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException]
) -> tuple[str, int] | None:
    """The line of the staged test where the failure surfaced (relative to the rootdir)."""
    test_file = Path(str(item.path)).resolve()
    for entry in reversed(excinfo.traceback):
        if Path(str(entry.path)).resolve() == test_file:
            try:
                shown = test_file.relative_to(item.config.rootpath)
            except ValueError:
                shown = test_file
            return str(shown), entry.lineno + 1
    return None
