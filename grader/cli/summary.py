"""The short terminal summaries: after grading (``print_summary``) and after a student's
``micrograde check`` (``print_check_summary``), in one layout: one line per step, the one
diagnosis, then every failed check grouped under the method "where to look" names."""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path
from typing import Any

import click

from grader.models import CheckResult, GradeResult, inert, points

MAX_FAILURES = 3  # failed checks shown under one method; the report has them all
MAX_NOTES = 6
SENTENCE_BUDGET = 240  # characters of feedback per failed check, in whole sentences


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
    _steps(result)
    _failures(result)
    _notes(result)
    _report_link(out_dir)


def _steps(result: GradeResult) -> None:
    """One line per graded step, the same columns in ``grade`` and ``check``."""
    for step in result.steps:
        if not step.graded:
            continue
        ok = sum(c.status == "passed" for c in step.checks)
        colour = "green" if ok == len(step.checks) else "yellow" if ok else "red"
        counts = f"{ok}/{len(step.checks)}"
        earned = f"{points(step.score)}/{points(step.max_score)}"
        _say(
            f"  step {step.step} {step.title:<24} {earned:>7} points {counts:>5} checks", fg=colour
        )


def _failures(result: GradeResult) -> None:
    """The one diagnosis, then every failed check under the method "where to look" names,
    in the order they first fail; a check no method is pinned on comes last."""
    if result.diagnosis is not None:  # the one cause, before the failures it explains
        _say(f"  {_text(result.diagnosis.message)}", fg="yellow")
    graded = [(s.step, c) for s in result.steps if s.graded for c in s.checks]
    failed = [(step, c) for step, c in graded if c.status != "passed"]
    if result.diagnosis is not None and result.diagnosis.kind == "syntax_error":
        # Every failure repeats Python's complaint: once is enough.
        _say(f"  ({len(failed)} failed check{'s' * (len(failed) > 1)}: see the report)")
        return
    groups: dict[str, list[tuple[int, CheckResult]]] = {}
    for step, check in failed:
        groups.setdefault(check.blame or "", []).append((step, check))
    for blame in sorted(groups, key=lambda b: b == ""):  # stable: first failure first
        header = f"Look at {_text(blame)}:" if blame else "Not pinned on one method:"
        _say(f"  {header}", bold=True)
        shown = groups[blame][:MAX_FAILURES]
        for step, check in shown:
            _say(_failure_line(check, step, blame))
        more = len(groups[blame]) - len(shown)
        if more:
            _say(f"      … and {more} more here (see the report)")
    excused = sum(bool(c.excused) for _, c in graded)
    if excused:
        _say(
            f"  {excused} other check{'s' * (excused > 1)} passed: "
            f"{'they' if excused > 1 else 'it'} differed only because of "
            + (
                "the faults above, which cost points once, in their own checks"
                if len(failed) > 1
                else "the fault above, which costs points once, in its own check"
            )
            + " (see the report)"
        )


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
    """A student's view of the public checks: the same layout as ``print_summary``."""
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
    _steps(result)
    _failures(result)


def _failure_line(check: CheckResult, step: int, blame: str) -> str:
    """``  failed step 2 Backward of *: <feedback>``: whole sentences, wrapped to the
    terminal, never cut inside one; the "Look at ..." the group's header says is left out."""
    feedback = _text(check.feedback)
    said = f"Look at {blame}."
    if blame and feedback.startswith(said):
        feedback = feedback[len(said) :].lstrip()
    head = f"{check.status:>7} step {step} "
    text = f"{head}{_text(check.title)}: {_sentences(feedback, SENTENCE_BUDGET)}"
    width = max(60, min(shutil.get_terminal_size((100, 24)).columns, 110))
    lines = textwrap.wrap(
        text, width=width, initial_indent="    ", subsequent_indent=" " * (4 + len(head))
    )
    status = click.style(check.status, fg=_COLOURS[check.status])
    lines[0] = lines[0].replace(check.status, status, 1)
    return "\n".join(lines)


def _sentences(text: str, budget: int) -> str:
    """The first sentences of ``text`` that fit in ``budget`` characters (at least one,
    whole, however long), and a pointer to the rest."""
    parts = re.split(r"(?<=[.;])\s+(?=\S)", text)
    kept = parts[0]
    for part in parts[1:]:
        if len(kept) + 1 + len(part) > budget:
            return kept + " (more in the report)"
        kept += " " + part
    return kept
