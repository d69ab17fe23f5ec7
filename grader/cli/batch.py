"""The class-level commands: ``batch``, ``gradescope`` and ``export gradescope``.

``batch`` grades a class folder and can be interrupted and rerun at any time: exit 0 when
the gradebook is complete (rejected submissions are results too), 130 after Ctrl-C (or
SIGTERM) with what is done kept, 3 when the sandbox failed for some submissions (rerun to
retry them). ``gradescope`` is what Gradescope's ``run_autograder`` calls; ``export
gradescope`` writes the autograder.zip to upload there.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import click

from grader.batch import BatchRequest, BatchSummary, Done, run_batch
from grader.batch_stop import stoppable
from grader.cli_options import parse_steps, sandbox_option, settings_option, steps_option
from grader.exercise import load_exercise
from grader.gradebook import number
from grader.gradescope import RESULTS_PATH, SUBMISSION_DIR, run_gradescope
from grader.gradescope_export import export_gradescope as build_zip
from grader.rubric import load_rubric
from grader.sandbox.select import LOCAL_WARNING, open_sandbox
from grader.settings import load_settings


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@click.command()
@click.argument("submissions", type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Folder for the gradebooks, the overview page (index.html) "
                                  "and one folder of results per student. Rerun to resume.")
@click.option("--jobs", type=click.IntRange(1, 256), default=_cores, show_default="CPU cores",
              help="Submissions graded at the same time.")
@sandbox_option
@steps_option
@click.option("--seed", type=click.IntRange(0, 2**31 - 1),
              help="The batch's seed (default: chosen by the first run and kept in "
                   "DIR/batch.json); a different seed regrades every submission.")
@settings_option()
def batch(submissions: Path, out_dir: Path, jobs: int, sandbox: str, steps_text: str | None,
          seed: int | None, settings_path: Path | None) -> None:
    """Grade a class: SUBMISSIONS is a folder (or .zip) with one entry per student.

    Canvas and Moodle download names are understood (see docs/batch.md). Rerunning the
    same command resumes: only new or changed submissions are graded again.
    """
    steps = parse_steps(steps_text)
    settings = load_settings(settings_path)
    exercise = load_exercise()
    rubric = load_rubric(exercise)
    opened = open_sandbox(sandbox, exercise, settings)
    warning = opened.warning or (LOCAL_WARNING if not opened.sandbox.is_security_boundary
                                 else None)
    if warning:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    wrapped = stoppable(opened.sandbox)
    request = BatchRequest(submissions, out_dir, jobs, seed, steps)
    progress = BarProgress() if sys.stdout.isatty() else LineProgress()
    try:
        with _sigterm_as_interrupt():
            summary = run_batch(request, exercise=exercise, rubric=rubric, sandbox=wrapped,
                                settings=settings, progress=progress)
    except KeyboardInterrupt:  # outside the grading itself (reading, or the gradebook)
        progress.close()
        click.secho("interrupted: run the same command again to finish (results already "
                    "written are kept)", fg="yellow", err=True)
        sys.exit(130)
    finally:
        wrapped.close()
    progress.close()
    sys.exit(_report(summary, jobs))


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a closed session, a scheduler's stop) stops the batch as cleanly as Ctrl-C."""
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _report(summary: BatchSummary, jobs: int) -> int:
    out = summary.out_dir
    done = summary.up_to_date + summary.graded_now
    if summary.interrupted:
        click.secho(f"interrupted: {done} of {summary.total} submissions are graded and saved "
                    f"in {out}; run the same command again to grade the other "
                    f"{summary.total - done} (finished results are kept)", fg="yellow", err=True)
        return 130
    if summary.stopped:
        click.secho(f"stopped: {summary.stopped}. Fix the sandbox (`micrograde sandbox check`)"
                    f", then run the same command again: {done} finished results are kept",
                    fg="red", err=True)
        return 3
    click.echo(f"{summary.total} submissions: {summary.graded_now} graded now, "
               f"{summary.up_to_date} up to date; {summary.rejected} rejected "
               f"(seed {summary.seed}, {jobs} jobs)")
    click.echo(f"gradebook: {out / 'gradebook.csv'}")
    click.echo(f"overview: {(out / 'index.html').resolve().as_uri()}")
    if summary.retry:
        click.secho(f"{summary.retry} submissions could not be graded because the sandbox "
                    "failed; run the same command again to retry them", fg="red", err=True)
        return 3
    return 0


class LineProgress:
    """Not a terminal (a log, CI): one plain line per finished submission."""

    def __init__(self) -> None:
        self.count = self.total = 0

    def planned(self, to_grade: int, up_to_date: int, reasons: dict[str, int]) -> None:
        self.total = to_grade
        click.echo(_plan_line(to_grade, up_to_date, reasons))

    def finished(self, done: Done) -> None:
        self.count += 1
        click.echo(f"[{self.count}/{self.total}] {_line(done)}")

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
            self.bar = click.progressbar(length=to_grade, label="grading", show_eta=True,
                                         show_pos=True, item_show_func=_show)
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
        line += " (changed since the last run: " + ", ".join(
            f"{name} {count}" for name, count in reasons.items()) + ")"
    return line


def _line(done: Done) -> str:
    if done.status != "graded":
        return f"{done.student}: rejected ({done.duration:.1f} s): {done.message}"
    return (f"{done.student}: {number(done.score)}/{number(done.max_score)} "
            f"({done.duration:.1f} s)")


@click.command()
@click.option("--submission", type=click.Path(path_type=Path), default=SUBMISSION_DIR,
              show_default=True, help="The student's files, as Gradescope provides them.")
@click.option("--results", type=click.Path(dir_okay=False, path_type=Path),
              default=RESULTS_PATH, show_default=True,
              help="Where Gradescope reads the results.")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1),
              help="Replay a grading with this seed; default: a new one.")
def gradescope(submission: Path, results: Path, seed: int | None) -> None:
    """Grade inside Gradescope's container (local backend) and write its results.json."""
    code = run_gradescope(submission, results, seed)
    click.echo(f"results: {results}")
    sys.exit(code)


@click.group()
def export() -> None:
    """Package the grader for a course platform."""


@export.command("gradescope")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("autograder.zip"), show_default=True,
              help="The zip to upload as the assignment's autograder.")
def export_gradescope(out: Path) -> None:
    """Write the autograder zip for Gradescope (setup.sh, run_autograder, the grader)."""
    names = build_zip(load_exercise(), out)
    click.echo(f"{out}: {len(names)} files; upload it in Gradescope's \"Configure "
               "Autograder\" page (see docs/batch.md)")
