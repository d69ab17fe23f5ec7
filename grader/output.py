"""Write what grading produced: results.json (atomically) and the HTML report."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from grader.models import GradeResult


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so a reader (or a crash) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates 0600; results and reports are meant to be shared (web servers, TAs).
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def dump_json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()


def write_results(result: GradeResult, out_dir: Path) -> Path:
    """``out_dir/results.json`` plus the HTML report; returns the path of the results."""
    path = out_dir / "results.json"
    write_atomic(path, dump_json(result.to_json()))
    _write_report(result, out_dir)
    return path


def _write_report(result: GradeResult, out_dir: Path) -> None:
    from grader.report import render_report  # Jinja2 loads only when a report is written

    render_report(result, out_dir)
