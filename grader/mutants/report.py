"""The mutation report: ``mutants.json`` for tools and CI, ``mutants.html`` for staff."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from grader.files import dump_json, write_atomic
from grader.mutants.run import MutantOutcome, MutantsRequest, summarize


def write_report(request: MutantsRequest, outcomes: Sequence[MutantOutcome]) -> Path:
    """Write DIR/mutants.json and DIR/mutants.html; returns the JSON's path."""
    from grader.report.render import environment  # Jinja2 loads only when writing

    summary = summarize(outcomes)
    data = {
        "schema": 1,
        "seeds": list(request.seeds),
        "repeat": request.repeat,
        "summary": summary.to_json(),
        "mutants": [o.to_json() for o in outcomes],
    }
    path = request.out_dir / "mutants.json"
    write_atomic(path, dump_json(data))
    html = environment().get_template("mutants.html").render(**data)
    write_atomic(request.out_dir / "mutants.html", html.encode("utf-8"))
    return path
