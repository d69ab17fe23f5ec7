"""How a batch shows its progress: a bar on a terminal, one line per student elsewhere."""

from __future__ import annotations

from typing import Any

import click

from grader.batch.run import Done
from grader.models import inert, points


class LineProgress:
    """Not a terminal (a log, CI): one plain line per finished submission."""

    def __init__(self) -> None:
        self.count = self.total = 0

    def planned(self, to_grade: int, up_to_date: int, reasons: dict[str, int]) -> None:
        self.total = to_grade
        click.echo(_plan_line(to_grade, up_to_date, reasons))

    def finished(self, done: Done) -> None:
        self.count += 1
        click.echo(f"[{self.count}/{self.total}] {_line(done)}")  # _line makes it inert

    def close(self) -> None:
        pass


class BarProgress:
    """A terminal: click's progress bar, with counts and an ETA.

    click's bar is enough here (position, percentage, ETA from the mean time per item,
    redrawn in place) and click is already a dependency: tqdm or rich would add one for a
    nicer look only.
    """

    def __init__(self) -> None:
        self.bar: Any = None

    def planned(self, to_grade: int, up_to_date: int, reasons: dict[str, int]) -> None:
        click.echo(_plan_line(to_grade, up_to_date, reasons))
        if to_grade:
            self.bar = click.progressbar(
                length=to_grade, label="grading", show_eta=True, show_pos=True, item_show_func=_show
            )
            self.bar.render_progress()

    def finished(self, done: Done) -> None:
        if self.bar is not None:
            self.bar.update(1, _line(done))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.render_finish()
            self.bar = None


def _show(item: str | None) -> str | None:
    return item[:60] if item else item


def _plan_line(to_grade: int, up_to_date: int, reasons: dict[str, int]) -> str:
    """``3 to grade, 47 up to date (changed since the last run: content 3)``."""
    line = f"{to_grade} to grade, {up_to_date} up to date"
    if reasons and set(reasons) != {"new"}:
        line += (
            " (changed since the last run: "
            + ", ".join(f"{name} {count}" for name, count in reasons.items())
            + ")"
        )
    return line


def _line(done: Done) -> str:
    """One log line; the student id and message come from the submission: made inert."""
    if done.status != "graded":
        line = f"{done.student}: rejected ({done.duration:.1f} s): {done.message}"
    else:
        line = (
            f"{done.student}: {points(done.score)}/{points(done.max_score)} ({done.duration:.1f} s)"
        )
    return inert(line, one_line=True)
