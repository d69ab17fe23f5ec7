"""``micrograde batch``: grade a class folder, resumably.

Exit 0 when the gradebook is complete (rejected submissions are results too), 130 after
Ctrl-C (or SIGTERM) with what is done kept, 3 when the sandbox failed for some submissions
(rerun to retry them).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import click
from click.core import ParameterSource

from grader.batch.cluster import ENV_SCHEDULER, ClusterRequest, check_address, parse_local
from grader.batch.run import BatchRequest, BatchSummary, run_batch
from grader.batch.stop import stoppable
from grader.cli.options import (
    parse_steps,
    sandbox_option,
    seed_option,
    settings_option,
    steps_option,
)
from grader.cli.progress import BarProgress, LineProgress
from grader.cli.setup import grading, job_slots
from grader.exercise import load_exercise
from grader.rubric import load_rubric
from grader.sandbox.select import LOCAL_WARNING
from grader.sandbox.users import Private
from grader.settings import load_settings


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@click.command()
@click.argument("submissions", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the gradebooks, the overview page (index.html) "
    "and one folder of results per student. Rerun to resume.",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 256),
    default=_cores,
    show_default="CPU cores",
    help="Submissions graded at the same time.",
)
@click.option(
    "--overrides",
    "overrides",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Grades set by hand (student,check,points,reason), checked before grading starts. "
    "Default: overrides.csv beside SUBMISSIONS, when there is one.",
)
@click.option(
    "--similarity",
    is_flag=True,
    help="Also rank every pair of submissions by shared code: DIR/similarity.csv and "
    "DIR/similarity.html (needs: pip install 'micrograde[similarity]').",
)
@click.option(
    "--similarity-reference",
    "references",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="A reference source to compare every submission with too (a file, folder, .zip "
    "or notebook, e.g. the public micrograd); repeat for several. Implies --similarity.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    envvar=ENV_SCHEDULER,
    help="Grade on a running Dask cluster: its scheduler's address, tls://HOST:8786 (see "
    f"docs/scale.md; default: ${ENV_SCHEDULER}). Needs: pip install 'micrograde[distributed]'.",
)
@click.option(
    "--cluster",
    "cluster_text",
    metavar="local[:N]",
    help="Grade on a Dask cluster of N worker processes started on this machine "
    "(default N: the CPU cores), to try a cluster batch out.",
)
@click.option(
    "--tls-ca",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="With a tls:// --scheduler: the certificate authority that signed the cluster's "
    "certificates.",
)
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="With a tls:// --scheduler: this client's certificate.",
)
@click.option(
    "--tls-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="With a tls:// --scheduler: this client's private key.",
)
@click.option(
    "--insecure",
    is_flag=True,
    help="Allow a tcp:// --scheduler on another machine (unencrypted, unauthenticated: "
    "only on a private network you trust).",
)
@click.option(
    "--build-missing",
    is_flag=True,
    help="On a cluster: build the sandbox image on each worker's Docker engine that lacks "
    "it (one build per engine), instead of refusing that worker.",
)
@sandbox_option
@steps_option
@seed_option(
    "The batch's seed (default: chosen by the first run and kept in DIR/batch.json); "
    "a different seed regrades every submission."
)
@settings_option()
def batch(
    submissions: Path,
    out_dir: Path,
    jobs: int,
    sandbox: str,
    steps_text: str | None,
    seed: int | None,
    settings_path: Path | None,
    overrides: Path | None,
    similarity: bool,
    references: tuple[Path, ...],
    scheduler: str | None,
    cluster_text: str | None,
    tls_ca: Path | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    insecure: bool,
    build_missing: bool,
) -> None:
    """Grade a class: SUBMISSIONS is a folder (or .zip) with one entry per student.

    Canvas and Moodle download names are understood (the student's id is read from them).
    Rerunning the same command resumes: only new or changed submissions are graded again.
    """
    steps = parse_steps(steps_text)
    screening = references if (similarity or references) else None
    progress = BarProgress() if sys.stdout.isatty() else LineProgress()
    context = click.get_current_context()
    if scheduler or cluster_text:
        if scheduler and cluster_text:
            raise click.UsageError("--scheduler and --cluster exclude each other")
        if context.get_parameter_source("jobs") is not ParameterSource.DEFAULT:
            raise click.UsageError(
                "--jobs is for this machine: a cluster grades as many at once as its "
                "workers have threads (or docker resources)"
            )
        if scheduler:
            check_address(scheduler, insecure)  # before anything else, never connecting
        cluster = ClusterRequest(
            scheduler,
            parse_local(cluster_text) if cluster_text else None,
            tls_ca,
            tls_cert,
            tls_key,
            insecure,
            build_missing,
        )
        request = BatchRequest(submissions, out_dir, 1, seed, steps, overrides, screening)
        summary, jobs = _on_cluster(request, cluster, sandbox, settings_path, progress)
        progress.close()
        sys.exit(_report(summary, jobs))
    private = (Private(submissions.resolve(), "the class folder"),)
    with grading(sandbox, settings_path, private=private, out_dir=out_dir) as setup:
        chosen = context.get_parameter_source("jobs")
        jobs = job_slots(setup.sandbox, jobs, chosen is not ParameterSource.DEFAULT)
        request = BatchRequest(submissions, out_dir, jobs, seed, steps, overrides, screening)
        wrapped = stoppable(setup.sandbox)
        try:
            with _sigterm_as_interrupt():
                summary = run_batch(
                    request,
                    exercise=setup.exercise,
                    rubric=setup.rubric,
                    sandbox=wrapped,
                    settings=setup.settings,
                    progress=progress,
                )
        except KeyboardInterrupt:  # outside the grading itself (reading, or the gradebook)
            progress.close()
            click.secho(
                "interrupted: run the same command again to finish (results "
                "already written are kept)",
                fg="yellow",
                err=True,
            )
            sys.exit(130)
    progress.close()
    sys.exit(_report(summary, jobs))


def _on_cluster(
    request: BatchRequest,
    cluster: ClusterRequest,
    sandbox: str,
    settings_path: Path | None,
    progress: BarProgress | LineProgress,
) -> tuple[BatchSummary, int]:
    from grader.batch.distributed import cluster_executor

    settings = load_settings(settings_path)
    exercise = load_exercise()
    rubric = load_rubric(exercise)
    if sandbox == "local":
        click.secho(f"warning: {LOCAL_WARNING}", fg="yellow", err=True)
    try:
        with (
            cluster_executor(cluster, sandbox, exercise, settings, _say) as executor,
            _sigterm_as_interrupt(),
        ):
            summary = run_batch(
                request,
                exercise=exercise,
                rubric=rubric,
                settings=settings,
                progress=progress,
                executor=executor,
            )
            return summary, executor.slots
    except KeyboardInterrupt:  # connecting, checking, or writing the gradebooks
        progress.close()
        click.secho(
            "interrupted: run the same command again to finish (results already written are kept)",
            fg="yellow",
            err=True,
        )
        sys.exit(130)


def _say(message: str) -> None:
    click.echo(message, err=True)


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
        click.secho(
            f"interrupted: {done} of {summary.total} submissions are graded and saved "
            f"in {out}; run the same command again to grade the other "
            f"{summary.total - done} (finished results are kept)",
            fg="yellow",
            err=True,
        )
        return 130
    if summary.stopped:
        click.secho(
            f"stopped: {summary.stopped}. Fix the sandbox (`micrograde sandbox check`)"
            f", then run the same command again: {done} finished results are kept",
            fg="red",
            err=True,
        )
        return 3
    click.echo(
        f"{summary.total} submissions: {summary.graded_now} graded now, "
        f"{summary.up_to_date} up to date; {summary.rejected} rejected "
        f"(seed {summary.seed}, {jobs} jobs)"
    )
    click.echo(f"gradebook: {out / 'gradebook.csv'}")
    click.echo(f"for the students: {out / 'students'} (one folder and one zip each)")
    if summary.similarity:
        click.echo(f"similarity: {(out / 'similarity.html').resolve().as_uri()}")
    if summary.overrides is not None:
        click.echo(f"overrides: {summary.overrides}")
    for warning in summary.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    click.echo(f"overview: {(out / 'index.html').resolve().as_uri()}")
    if summary.retry:
        click.secho(
            f"{summary.retry} submissions could not be graded because the sandbox "
            "failed; run the same command again to retry them",
            fg="red",
            err=True,
        )
        return 3
    return 0
