"""Write what one grading produced: ``results.json`` (atomically) and the HTML report."""

from __future__ import annotations

from pathlib import Path

from grader.files import dump_json, write_atomic
from grader.models import GradeResult


def write_results(result: GradeResult, out_dir: Path) -> Path:
    """``out_dir/results.json`` plus the HTML report; returns the path of the results."""
    from grader.report import render_report  # Jinja2 loads only when a report is written

    path = out_dir / "results.json"
    write_atomic(path, dump_json(result.to_json()))
    render_report(result, out_dir)
    return path
