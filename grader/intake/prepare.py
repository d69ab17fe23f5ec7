"""The intake pipeline: gather a submission into memory, decide its layout, write it out.

Reading everything first (under ``IntakeLimits``) and writing only at the end means a
rejected submission leaves the workspace empty, and every write goes through one function
that refuses paths outside the workspace.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

from grader.errors import SubmissionRejected
from grader.intake.archive import gather_zip
from grader.intake.folder import gather_file, gather_folder
from grader.intake.layout import (
    add_init_files,
    classify,
    make_importable,
    module_name,
    nest_bare_package,
    strip_wrappers,
)
from grader.intake.locate import choose_modules, scan_bytes
from grader.intake.model import Gathered, IntakeLimits, Manifest, Plan, TopLevel, list_paths
from grader.intake.paths import write_tree
from grader.intake.replay import plan_notebook, wrap_script

# Frozen, so one shared default is safe (and ruff's B008 stays quiet).
DEFAULT_LIMITS = IntakeLimits()
_ACCEPTED = "a folder, a .py file, a .ipynb notebook or a .zip archive"


def prepare_submission(
    source: Path, workspace: Path, limits: IntakeLimits = DEFAULT_LIMITS
) -> Manifest:
    """Copy the student's Python sources into ``workspace`` and say where the classes are.

    ``source`` is a folder, a .py file, a .ipynb notebook or a .zip archive; ``workspace``
    must be an existing empty folder. Raises SubmissionRejected with a plain-English reason
    when nothing gradable is there; nothing is written in that case.
    """
    _check_workspace(workspace)
    gathered = gather(source, limits)
    plan = plan_sources(gathered) or plan_notebook(gathered)
    if plan is None:
        searched = list(gathered.sources) + list(gathered.notebooks)
        raise SubmissionRejected(f"no class named Value was found in: {list_paths(searched)}")
    write_tree(workspace, plan.files)
    return plan.manifest


def _check_workspace(workspace: Path) -> None:
    # A wrong workspace is the caller's bug, not the student's: a plain ValueError.
    if workspace.is_symlink() or not workspace.is_dir():
        raise ValueError(f"the workspace {workspace} must be an existing folder")
    if any(workspace.iterdir()):
        raise ValueError(f"the workspace {workspace} must be empty")


def gather(source: Path, limits: IntakeLimits) -> Gathered:
    """Read what the student handed in, whatever its kind, and check there is something."""
    if source.is_symlink():
        raise SubmissionRejected(f"{source.name} is a symbolic link; hand in the file itself")
    if not source.exists():
        raise SubmissionRejected(f"{source.name} does not exist")
    if source.is_dir():
        gathered = _open_lone_archive(source, gather_folder(source, limits), limits)
    else:
        gathered = _gather_one_file(source, limits)
    _require_something(source, gathered)
    return gathered


def _gather_one_file(source: Path, limits: IntakeLimits) -> Gathered:
    suffix = source.suffix.lower()
    if not source.is_file():
        raise SubmissionRejected(f"{source.name} is not a regular file or folder")
    if suffix == ".zip":
        return gather_zip(source, limits)
    if suffix == ".py":
        return gather_file(source, "source", limits)
    if suffix == ".ipynb":
        return gather_file(source, "notebook", limits)
    kind = f"{suffix} files" if suffix else "files without an extension"
    raise SubmissionRejected(
        f"{source.name} cannot be graded: {kind} are not accepted; hand in {_ACCEPTED}"
    )


def _open_lone_archive(folder: Path, gathered: Gathered, limits: IntakeLimits) -> Gathered:
    """A folder that holds no source but one archive (a typical LMS download) means the archive."""
    if not gathered.archives:
        return gathered
    if gathered.sources or gathered.notebooks:
        note = f"ignored {list_paths(gathered.archives)}: the folder already holds sources"
        return _add_notes(gathered, (note,))
    if len(gathered.archives) > 1:
        raise SubmissionRejected(
            f"the folder holds several archives ({list_paths(gathered.archives)}) and no "
            "Python source; hand in one"
        )
    inner = gather_zip(folder.joinpath(*gathered.archives[0].parts), limits)
    return _add_notes(inner, gathered.notes, front=True)


def _add_notes(gathered: Gathered, notes: tuple[str, ...], front: bool = False) -> Gathered:
    merged = notes + gathered.notes if front else gathered.notes + notes
    return Gathered(
        gathered.sources,
        gathered.notebooks,
        gathered.archives,
        gathered.others,
        gathered.entry_count,
        merged,
    )


def _require_something(source: Path, gathered: Gathered) -> None:
    if gathered.sources or gathered.notebooks:
        return
    if gathered.entry_count == 0:
        kind = "folder" if source.is_dir() else "archive"
        raise SubmissionRejected(
            f"the {kind} {source.name} is empty (system files such as __MACOSX/ and "
            ".DS_Store do not count)"
        )
    raise SubmissionRejected(
        f"no Python source (.py) or notebook (.ipynb) was found in {source.name}; it holds "
        f"only: {list_paths(gathered.others + gathered.archives)}"
    )


def plan_sources(gathered: Gathered) -> Plan | None:
    """Lay out the .py sources, or None when none of them defines Value."""
    if not gathered.sources:
        return None
    files, nest_notes = nest_bare_package(strip_wrappers(dict(gathered.sources)))
    scans = {path: scan_bytes(data, str(path)) for path, data in files.items()}
    chosen, choice_notes = choose_modules(scans)
    if "Value" not in chosen:
        return None
    problems = [scans[path].problem for path in sorted(set(chosen.values()))]
    unparsable = tuple(
        (str(path), *syntax)
        for path in sorted(set(chosen.values()))
        if (syntax := scans[path].syntax) is not None
    )
    parse_notes = {
        str(path): scans[path].problem or ""
        for path in sorted(set(chosen.values()))
        if scans[path].syntax is not None
    }
    files, chosen, rename_notes = make_importable(files, chosen)
    files, init_notes = add_init_files(files, chosen.values())
    ignored = [f"ignored {list_paths(tuple(gathered.notebooks))}: the .py sources define Value"]
    notes = (
        list(gathered.notes)
        + nest_notes
        + choice_notes
        + rename_notes
        + init_notes
        + [problem for problem in problems if problem]
        + (ignored if gathered.notebooks else [])
    )
    classes = {name: module_name(path) for name, path in chosen.items()}
    shape = classify(chosen)
    toplevel: dict[str, TopLevel] = {}
    if shape == "single_file":
        files, classes, toplevel = wrap_script(files, chosen["Value"], classes)
    manifest = Manifest(
        MappingProxyType(classes),
        shape,
        tuple(notes),
        MappingProxyType(toplevel),
        unparsable,
        MappingProxyType(parse_notes),
    )
    return Plan(files, manifest)
