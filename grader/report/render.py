"""Render a ``GradeResult`` into static HTML pages: ``index.html`` and ``step-<k>.html``.

Jinja2 with autoescaping on and strict undefined: every string from the result is escaped
(student output is hostile), and a template that names a missing field fails loudly in the
tests instead of printing nothing. The only ``Markup`` that reaches a template is SVG built
by ``grader.report.svg``, which escapes its own text. Pages load nothing: the stylesheet is
inline, there is no script, and a Content-Security-Policy forbids anything else.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import jinja2

from grader import __version__
from grader.files import write_atomic
from grader.models import GradeResult
from grader.report import palette
from grader.report.views import STATUS_LABELS, ReportView, StepView, report_view

_STEP_PAGE = re.compile(r"^step-\d+\.html$")


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("grader.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(
        css_variables=palette.css_variables(), version=__version__, status_labels=STATUS_LABELS
    )
    return env


def render_pages(result: GradeResult) -> dict[str, str]:
    """File name -> HTML for every page of the report (no files are written)."""
    view = report_view(result)
    pages = {"index.html": _render("index.html", view, None)}
    for step in view.steps:
        if step.graded:
            pages[step.page] = _render("step.html", view, step)
    return pages


def render_report(result: GradeResult, out_dir: Path) -> None:
    """Write the report into ``out_dir``, replacing the step pages of an earlier grading."""
    pages = render_pages(result)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("step-*.html"):
        # A page left by an earlier grading into the same folder would show feedback that
        # the new index does not link to (or contradicts): only this grading's pages stay.
        if _STEP_PAGE.match(stale.name) and stale.name not in pages:
            stale.unlink()
    for name, html in pages.items():
        write_atomic(out_dir / name, html.encode("utf-8"))


def _render(template: str, view: ReportView, step: StepView | None) -> str:
    return environment().get_template(template).render(report=view, result=view.result, step=step)
