"""``micrograde sandbox build|check|clean``: the Docker sandbox's image and upkeep.

A thin layer like ``grader.cli``: the work is in ``grader.sandbox.image`` (building),
``grader.sandbox.probes`` (checking) and ``grader.sandbox.reaper`` (cleaning); errors
are ``GraderError``s that ``grader.cli.main`` turns into messages and exit codes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.cli.options import settings_option
from grader.exercise import load_exercise
from grader.settings import load_settings


def _say(message: str) -> None:
    click.echo(message, err=True)


@click.group()
def sandbox() -> None:
    """Build, check and clean up the Docker sandbox that grades untrusted code."""


@sandbox.command()
@click.option(
    "--base",
    metavar="IMAGE",
    help="Base image with CPython 3.11 (default: python:3.11-slim, or the "
    "offline base when no registry answers).",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Build without a container registry: on micrograde-base:bookworm, which is made "
    "from Debian packages with debootstrap when it is missing (needs root and a Debian "
    "mirror); the Python packages come from wheels this machine downloads.",
)
@click.option("--force", is_flag=True, help="Build even if the image exists already.")
@settings_option("the packages built into the image ([sandbox] packages)")
def build(base: str | None, offline: bool, force: bool, settings_path: Path | None) -> None:
    """Build the sandbox image this grader's harness needs (tag printed on stdout).

    With --settings, the image also holds the packages its [sandbox] packages list allows
    (their wheels downloaded on this machine); grade and batch with the same --settings
    use it.
    """
    from grader.sandbox.docker import connect_engine
    from grader.sandbox.image import build_image, expected_tag, plan_build

    if base and offline:
        raise click.UsageError(
            "--base and --offline exclude each other (--offline builds on micrograde-base:bookworm)"
        )
    packages = load_settings(settings_path).sandbox.packages
    client = connect_engine()
    exercise = load_exercise()
    try:
        tag = expected_tag(exercise, packages)
        if not force and client.images.list(name=tag):
            _say(f"{tag} exists already (use --force to rebuild it)")
        else:
            plan = plan_build(client, exercise, base, offline, _say, packages)
            image_id = build_image(client, exercise, plan, _say)
            _say(f"built {tag} ({image_id[7:19]}) on {plan.base}")
    finally:
        client.close()
    click.echo(tag)


@sandbox.command()
@settings_option("the limits to check")
def check(settings_path: Path | None) -> None:
    """Start containers with the grading settings and probe that each limit holds."""
    from grader.sandbox.probes import run_probes

    settings = load_settings(settings_path)
    exercise = load_exercise()
    results = run_probes(exercise, settings, _say)
    width = max(len(r.name) for r in results)
    for result in results:
        mark = click.style("pass", fg="green") if result.ok else click.style("FAIL", fg="red")
        click.echo(f"{mark}  {result.name:<{width}}  {result.detail}")
    failed = [r for r in results if not r.ok]
    click.echo(f"{len(results) - len(failed)} of {len(results)} probes passed")
    sys.exit(1 if failed else 0)


@sandbox.command()
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Also remove containers of graders that are still running.",
)
@click.option(
    "--images",
    is_flag=True,
    help="Also delete micrograde-sandbox images other than the one this grader "
    "needs (every harness change builds a new one); with --settings, the one built "
    "with its [sandbox] packages.",
)
@settings_option("which image --images keeps ([sandbox] packages)")
def clean(everything: bool, images: bool, settings_path: Path | None) -> None:
    """Remove sandbox containers and run directories that a killed grader left behind."""
    from grader.sandbox.docker import connect_engine
    from grader.sandbox.image import expected_tag, remove_stale_images
    from grader.sandbox.reaper import clean_leftovers

    packages = load_settings(settings_path).sandbox.packages
    client = connect_engine()
    try:
        cleaned = clean_leftovers(client.api, everything)
        keep = expected_tag(load_exercise(), packages)
        tags = remove_stale_images(client, keep) if images else []
    finally:
        client.close()
    for line in (
        [f"removed container {c}" for c in cleaned.containers]
        + [f"removed {d}" for d in cleaned.directories]
        + [f"removed image {t}" for t in tags]
    ):
        click.echo(line)
    kept = (
        f"; {cleaned.kept} left to graders still running (--all removes them)"
        if cleaned.kept
        else ""
    )
    click.echo(
        f"{len(cleaned.containers)} container(s), {len(cleaned.directories)} run "
        f"director(ies) and {len(tags)} image(s) removed{kept}"
    )
