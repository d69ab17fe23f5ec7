"""``micrograde mutants``: grade the frozen mutants and report survivors, leaks and pointers.

Exit 0 when every measured mutant is detected, charged only in the step that owns it, the
same on every run, and no failed check points at another method (or at most
``--max-wrong-pointers`` percent of them); 1 otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.batch.stop import stoppable
from grader.cli.options import sandbox_option, seeds_option, settings_option
from grader.cli.progress import LineProgress
from grader.cli.setup import grading
from grader.exercise import default_root
from grader.mutants.frozen import FROZEN, load_set
from grader.mutants.report import write_report
from grader.mutants.run import MutantsRequest, run_mutants, summarize

DEFAULT_SEEDS = (20261203,)


@click.command()
@click.option(
    "--set",
    "set_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=FROZEN,
    show_default="the frozen set shipped with micrograde",
    help="The mutant set (JSON) to grade.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("mutants-out"),
    show_default=True,
    help="Folder for mutants.json, mutants.html and each run's results.",
)
@seeds_option(
    "Grade every mutant with this seed; repeat the option for several seeds "
    f"(default: {DEFAULT_SEEDS[0]})."
)
@click.option("--repeat", is_flag=True, help="Grade the first seed a second time too.")
@click.option("--only", multiple=True, metavar="ID", help="Grade only this mutant (repeatable).")
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Mutants graded at the same time.",
)
@click.option(
    "--max-wrong-pointers",
    type=click.FloatRange(0, 100),
    default=0.0,
    show_default=True,
    help="Percent of failed checks that may point at another method before the command fails.",
)
@sandbox_option
@settings_option()
def mutants(
    set_path: Path,
    out_dir: Path,
    seeds: tuple[int, ...],
    repeat: bool,
    only: tuple[str, ...],
    jobs: int,
    max_wrong_pointers: float,
    sandbox: str,
    settings_path: Path | None,
) -> None:
    """Grade single-fault mutants of the reference: survivors, leaks, and wrong pointers."""
    request = MutantsRequest(out_dir, seeds or DEFAULT_SEEDS, repeat, jobs, only)
    mutant_set = load_set(set_path)
    with grading(sandbox, settings_path, trusted_code=True) as setup:
        wrapped = stoppable(setup.sandbox)
        outcomes = run_mutants(
            request,
            mutant_set,
            root=default_root(),
            exercise=setup.exercise,
            rubric=setup.rubric,
            sandbox=wrapped,
            settings=setup.settings,
            progress=_Quiet(),
        )
    path = write_report(request, outcomes)
    summary = summarize(outcomes)
    click.echo(
        f"{summary.mutants} mutants ({summary.excluded} excluded), seeds "
        f"{', '.join(map(str, request.seeds))}{' (+ a rerun)' if repeat else ''}"
    )
    click.echo(f"survivors: {len(summary.survivors)} {list(summary.survivors)}")
    click.echo(f"charged outside their step: {len(summary.leaks)} {list(summary.leaks)}")
    click.echo(f"charge varies between runs: {len(summary.varying)} {list(summary.varying)}")
    click.echo(
        f"failed checks: {summary.failed_checks}; pointer names the mutated method "
        f"{summary.share(summary.right)}%, another {summary.share(summary.wrong)}%, "
        f"none {summary.share(summary.none)}%"
    )
    for line in summary.wrong_pointers[:20]:
        click.echo(f"  wrong pointer: {line}")
    click.echo(f"report: {(out_dir / 'mutants.html').resolve().as_uri()} ({path.name})")
    ok = (
        not summary.survivors
        and not summary.leaks
        and not summary.varying
        and summary.share(summary.wrong) <= max_wrong_pointers
    )
    sys.exit(0 if ok else 1)


class _Quiet(LineProgress):
    """Progress of the batch runs: one dot per mutant, so a long run shows it is alive."""

    def planned(self, to_grade: int, up_to_date: int, reasons: dict[str, int]) -> None:
        click.echo(f"grading {to_grade} mutants", nl=False)

    def finished(self, done: object) -> None:
        click.echo(".", nl=False)

    def close(self) -> None:
        click.echo()
