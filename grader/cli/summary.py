"""The short terminal summaries: after grading (``print_summary``) and after a student's
``micrograde check`` (``print_check_summary``: one line per step, its first failure)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from grader.models import CheckResult, GradeResult, inert, points

MAX_FAILURES = 3
MAX_NOTES = 6


def _say(line: str, **style: Any) -> None:
    """One line on the terminal. Every text from a result that goes into ``line`` has been
    through ``_text`` already; only the styles added here reach the terminal as codes."""
    click.secho(line, **style)


def _text(value: str) -> str:
    """Text from a result (it may quote the submission), unable to act on the terminal."""
    return inert(value, one_line=True)


_COLOURS = {
    "passed": "green",
    "failed": "red",
    "error": "red",
    "timeout": "magenta",
    "not_run": "bright_black",
}


def print_summary(result: GradeResult, out_dir: Path | None = None) -> None:
    if result.status == "rejected":
        _say(f"{_text(result.submission)}: rejected: {_text(result.message)}", fg="red", bold=True)
        _report_link(out_dir)
        return
    _say(
        f"{_text(result.submission)}: {points(result.score)}/{points(result.max_score)} "
        f"(seed {result.seed}, {result.sandbox} sandbox, {result.duration:.1f} s)",
        bold=True,
    )
    for step in result.steps:
        if not step.graded:
            continue
        passed = sum(c.status == "passed" for c in step.checks)
        colour = "green" if passed == len(step.checks) else "yellow" if passed else "red"
        _say(
            f"  step {step.step} {step.title:<24} {points(step.score):>5}/"
            f"{points(step.max_score):<4} {passed}/{len(step.checks)} checks",
            fg=colour,
        )
    if result.diagnosis is not None:  # the one cause, before the failures it explains
        _say(f"  {_text(result.diagnosis.message)}", fg="yellow")
    failures = [c for s in result.steps if s.graded for c in s.checks if c.status != "passed"]
    for check in failures[:MAX_FAILURES]:
        _say(_failure_line(check))
    if len(failures) > MAX_FAILURES:
        _say(f"  … and {len(failures) - MAX_FAILURES} more (see the report)")
    _notes(result)
    _report_link(out_dir)


def _notes(result: GradeResult) -> None:
    """How the submission was read and what its top-level code did, told once each."""
    for note in result.notes[:MAX_NOTES]:
        _say(f"  note: {_text(note)}")
    more = len(result.notes) - MAX_NOTES
    if more > 0:
        _say(f"  … and {more} more note{'s' * (more > 1)} (see the report)")


def _report_link(out_dir: Path | None) -> None:
    if out_dir is not None and (out_dir / "index.html").exists():
        _say(f"report: {(out_dir / 'index.html').resolve().as_uri()}")


def print_check_summary(result: GradeResult) -> None:
    """A student's view: the score per step and, under each step, its first failure."""
    if result.status == "rejected":
        _say(
            f"{_text(result.submission)}: could not be checked: {_text(result.message)}",
            fg="red",
            bold=True,
        )
        return
    graded = [c for s in result.steps if s.graded for c in s.checks]
    passed = sum(c.status == "passed" for c in graded)
    _say(
        f"{_text(result.submission)}: {passed} of {len(graded)} public checks passed, "
        f"{points(result.score)}/{points(result.max_score)} points "
        f"({result.duration:.1f} s)",
        bold=True,
        fg="green" if passed == len(graded) else None,
    )
    for step in result.steps:
        if not step.graded:
            continue
        ok = sum(c.status == "passed" for c in step.checks)
        colour = "green" if ok == len(step.checks) else "yellow" if ok else "red"
        counts = f"{ok}/{len(step.checks)}"
        earned = f"{points(step.score)}/{points(step.max_score)}"
        _say(
            f"  step {step.step} {step.title:<24} {counts:>5} checks {earned:>9} points", fg=colour
        )
        failed = [c for c in step.checks if c.status != "passed"]
        if failed:  # the first one only: the counts above say how many more there are
            _say("  " + _failure_line(failed[0]))


def _failure_line(check: CheckResult) -> str:
    status = click.style(f"{check.status:>7}", fg=_COLOURS[check.status])
    feedback = _text(check.feedback)
    text = feedback if len(feedback) <= 160 else feedback[:159] + "…"
    return f"  {status} {_text(check.title)}: {text}"
