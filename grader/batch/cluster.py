"""Reach a Dask cluster, and check every worker of it before anything is graded.

    --scheduler tls://host:8786 (or MICROGRADE_SCHEDULER)   a running cluster
    --cluster local[:N]                                     N worker processes on this machine

A Dask scheduler runs whatever code its clients send, so who can reach it can run code on
every worker: ``check_address`` refuses a plain ``tcp://`` scheduler on any address but
the loopback before a connection is tried, unless ``--insecure`` says the network is
private; ``tls://`` with a certificate authority and a client certificate is the way
across machines (``distributed.security.Security``).

Every worker then reports (``grader.batch.worker.report``) its host, micrograde version,
the digests of what grades (its own files, rubrics, harness and tests, reference,
settings) and, for Docker, its engine and whether the sandbox image is there. ``problems``
turns the reports into one sentence per unfit worker, naming its host; ``--build-missing``
builds a missing image once per engine (several workers may share one) instead.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.errors import ClusterError, ConfigError

SCHEMES = ("tcp", "tls")
ENV_SCHEDULER = "MICROGRADE_SCHEDULER"
INSTALL = "pip install 'micrograde[distributed]'"


@dataclass(frozen=True)
class ClusterRequest:
    """Where to grade: a scheduler's address, or ``local_workers`` processes here."""

    scheduler: str | None = None
    local_workers: int | None = None
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    insecure: bool = False
    build_missing: bool = False


def parse_local(text: str) -> int:
    """``local`` -> this machine's cores; ``local:N`` -> N (``--cluster``)."""
    name, _, count = text.partition(":")
    if name != "local":
        raise ConfigError(f"--cluster {text!r}: use local or local:N (N worker processes)")
    if not count:
        return os.cpu_count() or 1
    if not count.isdigit() or not 1 <= int(count) <= 256:
        raise ConfigError(f"--cluster {text!r}: N must be a number of workers from 1 to 256")
    return int(count)


def check_address(address: str, insecure: bool = False) -> None:
    """Refuse an address Dask should not be asked to connect to; never connects itself."""
    scheme, separator, rest = address.partition("://")
    if not separator or scheme not in SCHEMES:
        raise ConfigError(
            f"--scheduler {address!r}: give the scheduler's address with its protocol, "
            "tls://HOST:8786 (or tcp://127.0.0.1:8786 on this machine)"
        )
    host = _host(rest)
    if not host:
        raise ConfigError(f"--scheduler {address!r} names no host")
    if scheme == "tcp" and not insecure and not is_loopback(host):
        raise ConfigError(
            f"--scheduler {address}: a Dask scheduler runs any code its clients send, and "
            "tcp:// is neither encrypted nor authenticated. Use tls:// with --tls-ca, "
            "--tls-cert and --tls-key, or pass --insecure if that network is private "
            "(see docs/scale.md)"
        )


def _host(rest: str) -> str:
    location = rest.split("/", 1)[0]
    if location.startswith("["):  # [::1]:8786
        return location[1:].split("]", 1)[0]
    return location.rsplit(":", 1)[0] if location.count(":") == 1 else location


def is_loopback(host: str) -> bool:
    """An address of this machine only: a loopback IP literal or ``localhost`` (no name
    is looked up: a name could resolve elsewhere)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_distributed() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError as missing:
        raise ConfigError(
            f"grading on a Dask cluster needs the distributed package ({missing}): {INSTALL}"
        ) from None


def security(request: ClusterRequest) -> Any:
    """The TLS settings of a ``tls://`` scheduler; None for ``tcp://``."""
    if not (request.scheduler or "").startswith("tls://"):
        if request.tls_ca or request.tls_cert or request.tls_key:
            raise ConfigError("--tls-ca, --tls-cert and --tls-key go with a tls:// --scheduler")
        return None
    files = (request.tls_ca, request.tls_cert, request.tls_key)
    if not all(files):
        raise ConfigError(
            "a tls:// scheduler needs --tls-ca (the authority that signed the scheduler's "
            "certificate), --tls-cert and --tls-key (this client's certificate and key)"
        )
    from distributed.security import Security

    ca, cert, key = (str(path) for path in files)
    return Security(  # type: ignore[no-untyped-call]
        tls_ca_file=ca, tls_client_cert=cert, tls_client_key=key, require_encryption=True
    )


@contextmanager
def connected(request: ClusterRequest) -> Iterator[Any]:
    """A ``distributed.Client`` of the cluster asked for, closed (and a local cluster
    shut down) on the way out."""
    if request.scheduler:
        check_address(request.scheduler, request.insecure)
    require_distributed()
    from distributed import Client, LocalCluster

    if request.scheduler is None:
        count = request.local_workers or 1
        with (
            LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=count,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",  # its HTTP server: loopback, a free port
            ) as cluster,
            Client(cluster) as client,  # type: ignore[no-untyped-call]
        ):
            yield client
        return
    try:
        client = Client(  # type: ignore[no-untyped-call]
            request.scheduler, security=security(request), timeout="20s"
        )
    except OSError as error:
        raise ClusterError(
            f"cannot reach the Dask scheduler at {request.scheduler} ({error}): is it "
            "running, and are the TLS files the ones its authority signed?"
        ) from None
    with client:
        yield client


def problems(
    reports: Mapping[str, Any], expected: Mapping[str, Any], kind: str, build_missing: bool
) -> tuple[list[str], dict[str, str]]:
    """What makes each worker unfit (one sentence each, naming its host), and the engines
    whose image ``--build-missing`` is to build (engine ID -> a worker that uses it).

    ``reports``: worker address -> its ``report``, or the exception its check raised.
    ``expected``: this client's version, digests and, for Docker, ``named_image``.
    """
    found: list[str] = []
    builds: dict[str, str] = {}
    for address, report in sorted(reports.items()):
        if isinstance(report, BaseException):
            found.append(
                f"worker {address}: its check failed ({type(report).__name__}: {report}); "
                "is this micrograde installed there?"
            )
            continue
        where = f"worker {address} on host {report.get('host')}"
        found += _grader_problems(where, report, expected)
        if kind != "docker":
            continue
        if report.get("engine") is None:
            found.append(f"{where}: {report.get('engine_problem')}")
        elif not report.get("image_present"):
            if build_missing and not expected.get("named_image"):
                builds.setdefault(str(report["engine"]), address)
            else:
                found.append(f"{where}: {_missing_image(report, expected)}")
    return found, builds


def _grader_problems(
    where: str, report: Mapping[str, Any], expected: Mapping[str, Any]
) -> list[str]:
    if report.get("version") != expected["version"]:
        return [
            f"{where} runs micrograde {report.get('version')}, this client "
            f"{expected['version']}: install the same version on every worker"
        ]
    theirs, mine = report.get("digests") or {}, expected["digests"]
    differ = sorted(part for part in mine if theirs.get(part) != mine[part])
    if not differ:
        return []
    return [
        f"{where} grades with other {', '.join(differ)} than this client (another "
        "checkout, or a changed installation): install the same micrograde there"
    ]


def _missing_image(report: Mapping[str, Any], expected: Mapping[str, Any]) -> str:
    image = report.get("image")
    if expected.get("named_image"):
        return (
            f"the sandbox image {image} named by [docker] image in the settings is not on "
            "its Docker engine: build or load it there"
        )
    return (
        f"the sandbox image {image} is not on its Docker engine: run `micrograde sandbox "
        "build` there (--offline where no registry answers), or pass --build-missing"
    )


def refuse(found: list[str]) -> None:
    if found:
        raise ClusterError(
            "these workers cannot grade this batch, so nothing was graded:\n  - "
            + "\n  - ".join(found)
        )
