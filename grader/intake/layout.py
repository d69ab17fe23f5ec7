"""Decide where the student's files sit in the workspace so their own imports keep working.

The workspace root goes on ``sys.path``, so the layout decides the module names: a package
must stay a package (``micrograd/value.py`` imports as ``micrograd.value``) and loose files
must stay loose (``from value import Value``). Wrapper folders that LMS downloads add
(``alice/``, ``micrograd-main/``) are peeled off; the folder of a package is not.
"""

from __future__ import annotations

import keyword
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath

from grader.intake.model import Shape

Files = dict[PurePosixPath, bytes]

# Besides the standard library: the names the sandbox itself imports (the test runner, its
# plugins and this project's package). The workspace comes last on sys.path, so a student
# module with one of these names could never be imported under it.
_TOOL_NAMES = frozenset(
    {
        "pytest",
        "_pytest",
        "py",
        "pluggy",
        "iniconfig",
        "packaging",
        "pytest_jsonreport",
        "pytest_metadata",
        "grader",
    }
)
_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+([A-Za-z_]\w*)|import[ \t]+([A-Za-z_]\w*))", re.MULTILINE
)
_RELATIVE = re.compile(r"^[ \t]*from[ \t]+\.", re.MULTILINE)
_MAX_WRAPPERS = 4
PACKAGE = "micrograd"


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def imported_names(files: Iterable[bytes]) -> set[str]:
    """The top-level module names that the given sources import absolutely."""
    names: set[str] = set()
    for data in files:
        for plain_from, plain_import in _IMPORT.findall(_text(data)):
            names.add(plain_from or plain_import)
    return names


def strip_wrappers(files: Files) -> Files:
    """Peel off folders that only wrap the submission (``alice/``, ``submission/``)."""
    for _ in range(_MAX_WRAPPERS):
        tops = {path.parts[0] for path in files}
        if len(tops) != 1 or any(len(path.parts) == 1 for path in files):
            break
        top = tops.pop()
        if _is_package(top, files):
            break
        files = {PurePosixPath(*path.parts[1:]): data for path, data in files.items()}
    return files


def _is_package(top: str, files: Files) -> bool:
    """Whether the only top folder is the student's package rather than a wrapper."""
    if PurePosixPath(top, "__init__.py") in files:
        return True
    children = {path: data for path, data in files.items() if len(path.parts) == 2}
    if any(_RELATIVE.search(_text(data)) for data in children.values()):
        return True
    imported = imported_names(files.values())
    if top in imported:
        return True
    # ``from value import Value`` between files of the folder: loose files in a wrapper.
    if imported & {PurePosixPath(path.name).stem for path in children}:
        return False
    return top == PACKAGE


def nest_bare_package(files: Files) -> tuple[Files, list[str]]:
    """Put back the package folder when a student archived a package's contents only.

    Top-level files that import relatively (``from .value import Value``), or that import
    ``micrograd`` while nothing at the top is called that (and no top file imports a
    sibling as a loose module), only work inside a folder named ``micrograd``.
    """
    top_files = {path: data for path, data in files.items() if len(path.parts) == 1}
    if any(path.parts[0] in (PACKAGE, PACKAGE + ".py") for path in files):
        return files, []
    relative = any(_RELATIVE.search(_text(data)) for data in top_files.values())
    imported = imported_names(top_files.values())
    siblings = {path.stem for path in top_files}
    if not relative and (PACKAGE not in imported or imported & siblings):
        return files, []
    note = (
        f"your files import from a package (from {PACKAGE} ... or from . ...) but were "
        f"handed in without its folder; placed them in a folder {PACKAGE}/"
    )
    return {PurePosixPath(PACKAGE, path): data for path, data in files.items()}, [note]


def _in_stdlib(name: str) -> bool:
    # sys.stdlib_module_names leaves out the standard library's own "test" package.
    return name in sys.stdlib_module_names or name in sys.builtin_module_names or name == "test"


def reserved(name: str) -> bool:
    """Whether a top-level module name would lose to the standard library or the sandbox."""
    return _in_stdlib(name) or name in _TOOL_NAMES or name.startswith("micrograde")


def module_name(path: PurePosixPath) -> str:
    """The dotted import name of a source file relative to the workspace root."""
    parts = list(path.with_suffix("").parts)
    if len(parts) > 1 and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def make_importable(
    files: Files, chosen: Mapping[str, PurePosixPath]
) -> tuple[Files, dict[str, PurePosixPath], list[str]]:
    """Rename the folders and files on the way to each chosen module until it can be imported."""
    chosen = dict(chosen)
    notes: list[str] = []
    for name in list(chosen):
        depth = 0
        while depth < len(chosen[name].parts):
            path = chosen[name]
            old = PurePosixPath(*path.parts[: depth + 1])
            new = _importable(old, is_file=depth == len(path.parts) - 1, files=files)
            if new != old:
                files = _rename(files, old, new)
                chosen = {key: _moved(value, old, new) for key, value in chosen.items()}
                notes.append(_rename_note(old, new))
            depth += 1
    return files, chosen, notes


def _importable(path: PurePosixPath, is_file: bool, files: Files) -> PurePosixPath:
    """The name ``path`` must have to be importable, given what already sits beside it."""
    stem = path.stem if is_file else path.name
    top = len(path.parts) == 1
    if is_file and stem == "__init__" and not top:
        return path
    wanted = stem
    if not stem.isidentifier():
        wanted = re.sub(r"\W+", "_", stem).strip("_") or "module"
    if wanted[0].isdigit() or keyword.iskeyword(wanted):
        wanted = "student_" + wanted
    if wanted == "__init__":  # a package's __init__.py handed in without its folder
        wanted = "student_init"
    if top and reserved(wanted):
        wanted = "student_" + wanted
    suffix = ".py" if is_file else ""
    if wanted == stem and path.suffix == suffix:  # a ".PY" file needs its suffix fixed too
        return path
    taken = _names_beside(path, files)
    candidate, number = wanted, 2
    while candidate in taken:
        candidate, number = f"{wanted}_{number}", number + 1
    return path.with_name(candidate + suffix)


def _names_beside(path: PurePosixPath, files: Files) -> set[str]:
    """Module names (file stems and folder names) used by others in the folder of ``path``."""
    level = len(path.parts)
    names: set[str] = set()
    for other in files:
        if other.is_relative_to(path):
            continue
        if len(other.parts) >= level and other.parts[: level - 1] == path.parts[:-1]:
            entry = PurePosixPath(other.parts[level - 1])
            names.add(entry.stem if len(other.parts) == level else entry.name)
    return names


def _moved(path: PurePosixPath, old: PurePosixPath, new: PurePosixPath) -> PurePosixPath:
    if path == old or path.is_relative_to(old):
        return new / path.relative_to(old)
    return path


def _rename(files: Files, old: PurePosixPath, new: PurePosixPath) -> Files:
    return {_moved(path, old, new): data for path, data in files.items()}


def _rename_note(old: PurePosixPath, new: PurePosixPath) -> str:
    stem = old.stem if old.suffix.lower() == ".py" else old.name
    if len(old.parts) == 1 and reserved(stem):
        owner = "Python's own" if _in_stdlib(stem) else "the grader's"
        why = (
            f"a module named {stem} would be shadowed by {owner} {stem} module, "
            "so other files that import it by that name will not find it either"
        )
    elif old.stem == new.stem:
        why = "Python only imports source files whose names end in .py"
    else:
        why = (
            "Python can only import names made of letters, digits and underscores "
            "that do not start with a digit and are not keywords"
        )
    return f"renamed {old} to {new}: {why}"


def add_init_files(files: Files, chosen: Iterable[PurePosixPath]) -> tuple[Files, list[str]]:
    """Give each folder on the way to a chosen module the ``__init__.py`` it lacks."""
    files = dict(files)
    notes: list[str] = []
    for path in sorted(set(chosen)):
        for depth in range(1, len(path.parts)):
            init = PurePosixPath(*path.parts[:depth], "__init__.py")
            if init not in files:
                files[init] = b""
                notes.append(
                    f"added the missing {init} so that {init.parent}/ imports as a package"
                )
    return files, notes


def classify(chosen: Mapping[str, PurePosixPath]) -> Shape:
    """Name the layout the chosen modules form."""
    value = chosen["Value"]
    rest = [chosen[name] for name in ("Neuron", "Layer", "MLP") if name in chosen]
    if len(value.parts) == 1:
        if all(path == value for path in rest):
            return "single_file"
        return "loose_files" if all(len(path.parts) == 1 for path in rest) else "other"
    if value.name == "value.py" and all(path == value.parent / "mlp.py" for path in rest):
        return "package"
    if value.name == "engine.py" and all(path == value.parent / "nn.py" for path in rest):
        return "karpathy"
    return "other"
