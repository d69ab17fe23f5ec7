"""Plans for code whose top level is replayed one statement at a time: notebooks and scripts.

A notebook becomes a generated module beside its folder's helper files and the files its
``%%writefile`` cells write. A single-file script stays where it is, and a generated
module beside it runs its statements (tracebacks name the script's own file and lines);
the classes are taken from the generated module. Either way the manifest's ``toplevel``
describes the statements, so the host can check what the sandbox reports about them and
write the notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from types import MappingProxyType

from grader.errors import SubmissionRejected
from grader.intake.layout import add_init_files, module_name
from grader.intake.locate import choose_modules, decode_source, scan_text
from grader.intake.magics import normalise_newlines
from grader.intake.model import CLASS_NAMES, Gathered, Manifest, Plan, Source, TopLevel, list_paths
from grader.intake.notebook import NOTEBOOK_MODULE, NotebookModule, build_notebook_module
from grader.intake.statements import mark_needed, split
from grader.intake.stepwise import render

Files = dict[PurePosixPath, bytes]
SCRIPT_MODULE = "student_script"


def free_name(wanted: str, files: Mapping[PurePosixPath, bytes]) -> str:
    """``wanted``, or ``wanted_2``... whichever no top-level file or folder uses."""
    tops = {path.parts[0] for path in files}
    name, number = wanted, 2
    while name in tops or name + ".py" in tops:
        name, number = f"{wanted}_{number}", number + 1
    return name


def wrap_script(
    files: Files, script: PurePosixPath, classes: Mapping[str, str]
) -> tuple[Files, dict[str, str], dict[str, TopLevel]]:
    """Add the generated module that replays ``script``; the classes move to it.

    A script that cannot be decoded or parsed is left as it is: importing it reports why.
    """
    text, _ = decode_source(files[script])
    statements = split(normalise_newlines(text), str(script)) if text is not None else None
    if text is None or statements is None:
        return files, dict(classes), {}
    source = Source(0, normalise_newlines(text), mark_needed([statements])[0])
    name = free_name(SCRIPT_MODULE, files)
    files = dict(files)
    files[PurePosixPath(name + ".py")] = render(str(script), [source], script.name).encode()
    moved = {
        cls: name if module == module_name(script) else module for cls, module in classes.items()
    }
    return files, moved, {name: TopLevel("script", script.name, (source,))}


def plan_notebook(gathered: Gathered) -> Plan | None:
    """Lay out the first notebook (shallowest, then by name) that defines Value."""
    reasons: list[str] = []
    for path in sorted(gathered.notebooks, key=lambda item: (len(item.parts), str(item))):
        try:
            module = build_notebook_module(gathered.notebooks[path], str(path))
        except SubmissionRejected as rejected:
            reasons.append(rejected.reason)
            continue
        if "Value" in module.classes or "Value" in _written_classes(module):
            return _notebook_plan(gathered, path, module)
    if reasons:
        raise SubmissionRejected(reasons[0])
    return None


def _written_classes(module: NotebookModule) -> dict[str, PurePosixPath]:
    """The classes that only the files of ``%%writefile`` cells define, and where."""
    scans = {
        path: scan_text(text, str(path))
        for path, text in module.written.items()
        if path.suffix == ".py"
    }
    chosen, _ = choose_modules(scans)
    return {name: path for name, path in chosen.items() if name not in module.classes}


def _notebook_plan(gathered: Gathered, path: PurePosixPath, module: NotebookModule) -> Plan:
    """The workspace is the notebook's folder: its helper .py files sit beside the module."""
    folder = path.parent
    files = {
        source.relative_to(folder): data
        for source, data in gathered.sources.items()
        if source.is_relative_to(folder)
    }
    notes = list(gathered.notes) + list(module.notes)
    replaced = sorted(str(p) for p in module.written if p in files)
    if replaced:
        notes.append(f"used the version of {', '.join(replaced)} that %%writefile cells write")
    files.update({p: text.encode("utf-8") for p, text in module.written.items()})
    written = _written_classes(module)
    files, init_notes = add_init_files(files, written.values())
    name = free_name(NOTEBOOK_MODULE, files)
    files[PurePosixPath(name + ".py")] = module.text.encode("utf-8")
    others = [other for other in gathered.notebooks if other != path]
    if others:
        notes.append(f"graded the notebook {path}; ignored {list_paths(others)}")
    left = sum(not source.is_relative_to(folder) for source in gathered.sources)
    if left:
        notes.append(f"ignored {left} Python file(s) outside the notebook's folder")
    classes = {
        cls: name if cls in module.classes else module_name(written[cls])
        for cls in CLASS_NAMES
        if cls in module.classes or cls in written
    }
    toplevel = {name: TopLevel("notebook", str(path), module.sources)}
    manifest = Manifest(
        MappingProxyType(classes), "notebook", tuple(notes + init_notes), MappingProxyType(toplevel)
    )
    return Plan(files, manifest)
