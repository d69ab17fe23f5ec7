"""``micrograde batch`` on a Dask cluster: real schedulers and workers, nothing of Dask mocked.

One cluster serves most tests of this module: a ``dask scheduler`` and two ``dask worker``
processes (each with its nanny, ``--nthreads 1 --resources docker=1``) over TCP on
127.0.0.1, with ``allowed-failures`` 1 (a task is given to two workers before it is that
student's error). Tests that kill a worker come last, and each test first waits until
both workers are up (a killed one's nanny starts it again).
"""

from __future__ import annotations

import csv
import datetime
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cluster_plugins
import distributed
import pytest
from classroom import QUICK_SETTINGS, SEED, batch_cli, build_class, settings_file
from grading import EXAMPLES, REPO
from interrupt import like_a_terminal

from grader.batch import worker
from grader.batch.cluster import (
    ClusterRequest,
    check_address,
    connected,
    problems,
    require_distributed,
)
from grader.batch.parcel import MAX_ENTRIES, ParcelTooLarge, pack, unpacked
from grader.errors import ConfigError

TESTS = Path(__file__).resolve().parent
DASK = Path(sys.executable).with_name("dask")
GATE_WAIT = 120
SLOW_SECONDS = 4
BOOKS = ("gradebook.csv", "gradebook-checks.csv")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MICROGRADE_EXERCISE", None)
    env.pop("MICROGRADE_SCHEDULER", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
    env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = "1"
    return env


@dataclass
class Cluster:
    address: str
    client: Any
    processes: list[subprocess.Popen[bytes]]

    def workers(self) -> list[str]:
        return sorted(self.client.scheduler_info()["workers"])

    def settle(self) -> None:
        """Back to two live workers (after a test killed some)."""
        deadline = time.monotonic() + 60
        while len(self.workers()) != 2 or len(self.client.run(cluster_plugins.pid)) != 2:
            assert time.monotonic() < deadline, "the workers did not come back"
            time.sleep(0.2)


def _start(*arguments: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as handle:
        return subprocess.Popen(
            [str(DASK), *arguments],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=_env(),
            start_new_session=True,  # its workers are in its group: ended with it
        )


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("dask")
    file = folder / "scheduler.json"
    common = ("--no-dashboard", "--host", "127.0.0.1")
    processes = [
        _start("scheduler", "--port", "0", "--scheduler-file", str(file), *common, log=folder / "s")
    ]
    try:
        for name in ("w1", "w2"):
            processes.append(
                _start(
                    "worker", "--scheduler-file", str(file), "--nthreads", "1", "--name", name,
                    "--resources", "docker=1", *common, log=folder / name,
                )
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while not file.exists():
            assert time.monotonic() < deadline, (folder / "s").read_text()
            time.sleep(0.1)
        client = distributed.Client(scheduler_file=str(file), timeout="30s")
        client.wait_for_workers(2, timeout=60)
        cluster = Cluster(client.scheduler.address, client, processes)
        yield cluster
        client.close()
    finally:
        _end(processes)


def _end(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to each process group this module started, SIGKILL to what outlives 5 s."""
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    for process in processes:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            pass
    for process in processes:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def _command(source: Path, out: Path, settings: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "grader", "batch", str(source), "--out", str(out),
        "--seed", str(SEED), "--settings", str(settings), *extra,
    ]  # fmt: skip


def _run(*command: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command), capture_output=True, text=True, timeout=timeout, check=False, env=_env()
    )


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _same_books(one: Path, other: Path) -> None:
    for name in BOOKS:
        assert (one / name).read_bytes() == (other / name).read_bytes(), name


# ------------------------------------------------------------------ parcels


def test_a_parcel_carries_the_tree_as_it_is(tmp_path: Path) -> None:
    source = tmp_path / "submission"
    (source / "pkg").mkdir(parents=True)
    (source / "pkg" / "value.py").write_bytes(b"class Value: pass\n")
    (source / "empty").mkdir()
    os.symlink("/etc/passwd", source / "pkg" / "link.py")
    os.mkfifo(source / "fifo")
    with open(os.fsencode(source) + b"/caf\xe9.py", "wb") as handle:
        handle.write(b"x = 1\n")
    parcel = pack(source)
    with unpacked(parcel) as copy:
        assert copy.name == "submission"
        assert (copy / "pkg" / "value.py").read_bytes() == b"class Value: pass\n"
        assert (copy / "empty").is_dir() and not list((copy / "empty").iterdir())
        assert os.readlink(copy / "pkg" / "link.py") == "/etc/passwd"
        assert (copy / "fifo").is_fifo()
        assert os.path.exists(os.fsencode(copy) + b"/caf\xe9.py")
        assert pack(copy)["entries"] == parcel["entries"]
    assert not copy.exists()
    single = tmp_path / "alice.py"
    single.write_bytes(b"print(1)\n")
    with unpacked(pack(single)) as copy:
        assert copy.name == "alice.py" and copy.read_bytes() == b"print(1)\n"


def test_a_parcel_too_large_is_not_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import grader.batch.parcel as parcel_module

    monkeypatch.setattr(parcel_module, "MAX_ENTRIES", 3)
    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(5):
        (folder / f"{index}.py").write_text("")
    with pytest.raises(ParcelTooLarge, match="more than 3 entries"):
        pack(folder)
    monkeypatch.setattr(parcel_module, "MAX_ENTRIES", 6)  # the folder and its five files
    assert len(pack(folder)["entries"]) == 6 < MAX_ENTRIES


# ------------------------------------------------------------------ security


@pytest.mark.parametrize(
    "address",
    ["tcp://10.1.2.3:8786", "tcp://192.168.0.5:8786", "tcp://grader.example.org:8786"],
)
def test_plain_tcp_to_another_machine_is_refused_without_connecting(
    address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[Any] = []
    monkeypatch.setattr(socket.socket, "connect", lambda *a: attempts.append(a))
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: attempts.append(a))
    with pytest.raises(ConfigError, match="--insecure"), connected(ClusterRequest(address)):
        pass
    assert attempts == []


def test_without_dask_the_cluster_options_say_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if it were not installed
    with pytest.raises(ConfigError, match=r"pip install 'micrograde\[distributed\]'"):
        require_distributed()


def test_which_scheduler_addresses_are_accepted() -> None:
    for fine in ("tcp://127.0.0.1:8786", "tcp://localhost:8786", "tcp://[::1]:8786"):
        check_address(fine)
    check_address("tls://grader.example.org:8786")
    check_address("tcp://10.1.2.3:8786", insecure=True)
    for wrong in ("10.1.2.3:8786", "http://127.0.0.1:8786", "tcp://:8786"):
        with pytest.raises(ConfigError):
            check_address(wrong)


def test_the_cli_refuses_plain_tcp_to_another_machine(tmp_path: Path) -> None:
    started = time.monotonic()
    done = _run(
        *_command(_one_student(tmp_path), tmp_path / "out", settings_file(tmp_path)),
        "--scheduler",
        "tcp://10.255.255.1:8786",
    )
    assert done.returncode == 2 and "tls://" in done.stderr and "--insecure" in done.stderr
    assert time.monotonic() - started < 15  # refused, not timed out trying
    assert not (tmp_path / "out").exists()


def _certificates(folder: Path) -> dict[str, Path]:
    """A certificate authority and one certificate it signed for 127.0.0.1 (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def certificate(name: str, key: Any, issuer: Any, signer: Any, ca: bool) -> Any:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "micrograde test CA")])
    ca = certificate("micrograde test CA", ca_key, ca_name, ca_key, True)
    leaf = certificate("127.0.0.1", key, ca_name, ca_key, False)
    files = {"ca": folder / "ca.pem", "cert": folder / "cert.pem", "key": folder / "key.pem"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["cert"].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


def test_a_tls_scheduler_on_loopback(tmp_path: Path) -> None:
    files = _certificates(tmp_path)
    tls = {
        "tls_ca_file": str(files["ca"]),
        "tls_scheduler_cert": str(files["cert"]),
        "tls_scheduler_key": str(files["key"]),
        "tls_worker_cert": str(files["cert"]),
        "tls_worker_key": str(files["key"]),
        "tls_client_cert": str(files["cert"]),
        "tls_client_key": str(files["key"]),
    }
    security = distributed.security.Security(require_encryption=True, **tls)
    folder, settings = _one_student(tmp_path), settings_file(tmp_path)
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        protocol="tls://",
        host="127.0.0.1",
        security=security,
        dashboard_address="127.0.0.1:0",
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tls://127.0.0.1:")
        base = _command(folder, tmp_path / "out", settings, "--sandbox", "local", "--steps", "1")
        unsigned = _run(*base, "--scheduler", address)
        done = _run(
            *base,
            *("--scheduler", address, "--tls-ca", str(files["ca"])),
            *("--tls-cert", str(files["cert"]), "--tls-key", str(files["key"])),
        )
    assert unsigned.returncode == 2 and "--tls-cert" in unsigned.stderr
    assert done.returncode == 0, done.stderr
    assert _rows(tmp_path / "out" / "gradebook.csv")[0]["score"] == "20"


# ------------------------------------------------------------------ a LocalCluster


@pytest.mark.slow
def test_a_local_cluster_grades_the_classroom_as_the_pool_does(tmp_path: Path) -> None:
    # Step 1 only, to keep the test short; every entry of the class still goes through
    # the whole path (intake of each shape, rejections, the endless import, the report).
    folder = build_class(tmp_path / "class")
    settings = settings_file(tmp_path)
    pool = batch_cli(folder, tmp_path / "pool", settings, "--steps", "1")
    assert pool.returncode == 0, pool.stderr
    command = _command(folder, tmp_path / "cluster", settings, "--sandbox", "local")
    done = _run(*command, "--steps", "1", "--cluster", "local:2")
    assert done.returncode == 0, done.stderr
    assert "12 submissions: 12 graded now" in done.stdout
    assert "(seed 99, 2 jobs)" in done.stdout  # two workers of one thread each
    _same_books(tmp_path / "pool", tmp_path / "cluster")
    # The keys the client wrote are the pool's too: a batch begun on a cluster resumes here.
    again = batch_cli(folder, tmp_path / "cluster", settings, "--steps", "1")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("0 to grade, 12 up to date")


# ------------------------------------------------------------------ workers refused


def _one_student(tmp_path: Path) -> Path:
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(EXAMPLES / "complete" / "single_file.py", folder / "alice.py")
    return folder


def test_a_worker_with_another_version_is_refused_before_grading(
    dask_cluster: Cluster, tmp_path: Path
) -> None:
    dask_cluster.settle()
    other = dask_cluster.workers()[0]
    real = dask_cluster.client.run(cluster_plugins.fake_version, "0.0.0+other", workers=[other])
    try:
        done = subprocess.run(  # the scheduler named by the environment, not --scheduler
            _command(_one_student(tmp_path), tmp_path / "out", settings_file(tmp_path)),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**_env(), "MICROGRADE_SCHEDULER": dask_cluster.address},
        )
    finally:
        dask_cluster.client.run(cluster_plugins.fake_version, real[other], workers=[other])
    assert done.returncode == 3, done.stderr
    assert f"worker {other} on host {socket.gethostname()} runs micrograde 0.0.0+other" in (
        done.stderr
    )
    assert "nothing was graded" in done.stderr
    assert not (tmp_path / "out" / "alice").exists()


@pytest.mark.docker
def test_docker_a_worker_without_the_image_is_refused(
    dask_cluster: Cluster, docker_sandbox: Any, tmp_path: Path
) -> None:
    dask_cluster.settle()
    settings = tmp_path / "settings.toml"
    settings.write_text(QUICK_SETTINGS + '[docker]\nimage = "micrograde-sandbox:not-built"\n')
    done = _run(
        *_command(_one_student(tmp_path), tmp_path / "out", settings),
        *("--sandbox", "docker", "--scheduler", dask_cluster.address),
    )
    assert done.returncode == 3, done.stderr
    for address in dask_cluster.workers():
        assert (
            f"worker {address} on host {socket.gethostname()}: the sandbox image "
            "micrograde-sandbox:not-built" in done.stderr
        )
    assert not (tmp_path / "out" / "alice").exists()


def test_builds_on_one_engine_wait_for_each_other(dask_cluster: Cluster, tmp_path: Path) -> None:
    dask_cluster.settle()
    log = tmp_path / "builds.log"
    make = cluster_plugins.recording_make(str(log), 1.0)
    futures = [
        dask_cluster.client.submit(
            worker.build, "engine-a", "", make, workers=[address], pure=False
        )
        for address in dask_cluster.workers()
    ]
    assert [future.result(timeout=60) for future in futures] == ["made", "made"]
    (first_start, first_end), (second_start, _) = cluster_plugins.intervals(log)
    assert second_start >= first_end  # one build per engine at a time


def test_one_build_per_engine_is_planned() -> None:
    mine = {"grader": "g", "rubrics": "r", "tests": "t", "reference": "f", "settings": "s"}
    expected = {"version": "1.0", "digests": mine, "named_image": ""}
    ok = {"host": "h1", "version": "1.0", "digests": mine, "image": "img"}
    reports = {
        "tcp://a:1": {**ok, "engine": "E1", "image_present": False},
        "tcp://a:2": {**ok, "engine": "E1", "image_present": False},
        "tcp://b:1": {**ok, "engine": "E2", "image_present": True},
        "tcp://c:1": {**ok, "host": "h3", "engine": None, "engine_problem": "no Docker engine"},
    }
    found, builds = problems(reports, expected, "docker", build_missing=True)
    assert builds == {"E1": "tcp://a:1"}
    assert found == ["worker tcp://c:1 on host h3: no Docker engine"]
    found, builds = problems(reports, expected, "docker", build_missing=False)
    assert not builds and len(found) == 3 and "--build-missing" in found[0]
    changed = {"tcp://d:1": {**ok, "digests": {**mine, "tests": "other"}}}
    found, _ = problems(changed, expected, "local", build_missing=False)
    assert found == [
        "worker tcp://d:1 on host h1 grades with other tests than this client (another "
        "checkout, or a changed installation): install the same micrograde there"
    ]
    found, _ = problems({"tcp://e:1": ModuleNotFoundError("grader")}, expected, "local", False)
    assert "tcp://e:1" in found[0] and "installed" in found[0]


# ------------------------------------------------------------------ Ctrl-C


def test_ctrl_c_stops_the_workers_sandboxes_and_says_how_to_resume(
    dask_cluster: Cluster, gated: dict[str, Path], tmp_path: Path
) -> None:
    dask_cluster.settle()
    out = tmp_path / "out"
    command = _command(gated["class"], out, gated["settings"], "--sandbox", "local")
    command += ["--steps", "1", "--scheduler", dask_cluster.address]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        preexec_fn=like_a_terminal,
    )
    try:
        deadline = time.monotonic() + 90
        while not _sandboxes(dask_cluster):
            assert time.monotonic() < deadline, "the gated submission never ran"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "run the same command again" in stderr
    assert not (out / "gated" / ".key").exists() and not (out / "gradebook.csv").exists()
    assert not _sandboxes(dask_cluster)  # the gate is still closed: it was killed


@pytest.mark.docker
def test_docker_ctrl_c_removes_the_containers_in_flight(
    dask_cluster: Cluster, docker_sandbox: Any, gated: dict[str, Path], tmp_path: Path
) -> None:
    dask_cluster.settle()
    out = tmp_path / "out"
    command = _command(gated["class"], out, gated["settings"], "--sandbox", "docker")
    command += ["--steps", "1", "--scheduler", dask_cluster.address]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        preexec_fn=like_a_terminal,
    )
    pids = list(dask_cluster.client.run(cluster_plugins.pid).values())
    try:
        deadline = time.monotonic() + 90
        # The gated student's container waits for a gate it cannot see (up to 120 s).
        while not (out / "alice" / ".key").exists() or not _containers(docker_sandbox, pids):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no container ran"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "run the same command again" in stderr
    assert _containers(docker_sandbox, pids) == []  # removed before the client exited


def _containers(docker_sandbox: Any, pids: list[int]) -> list[str]:
    api = docker_sandbox.api
    return [
        c["Id"][:12]
        for pid in pids
        for c in api.containers(all=True, filters={"label": f"micrograde.pid={pid}"})
    ]


def _sandboxes(cluster: Cluster) -> list[int]:
    """Processes the workers started (the local sandbox's runs) that are still alive."""
    workers = cluster.client.run(cluster_plugins.pid).values()
    return [child for pid in workers for child in _alive_children(int(pid))]


def _alive_children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if entry.name.isdigit() and int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


# ------------------------------------------------------------------ a worker killed


@pytest.fixture
def gated(tmp_path: Path) -> dict[str, Path]:
    """Three students; one's import waits for a gate file, so the test decides when its
    grading can end (and kills its worker before that)."""
    return _gated_class(tmp_path, GATE_WAIT)


@pytest.fixture
def slow(tmp_path: Path) -> dict[str, Path]:
    """The same class for Docker, whose containers cannot see the gate: there, the third
    student's import takes ``SLOW_SECONDS`` (the window in which its worker is killed)."""
    return _gated_class(tmp_path, SLOW_SECONDS)


def _gated_class(tmp_path: Path, wait: float) -> dict[str, Path]:
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(EXAMPLES / "complete" / "single_file.py", folder / "alice.py")
    shutil.copytree(EXAMPLES / "bug_mul_backward", folder / "bob")
    gate = tmp_path / "gate"
    solution = (REPO / "examples" / "complete" / "single_file.py").read_text()
    (folder / "gated.py").write_text(
        f"import os as _os, time as _time\n_until = _time.time() + {wait}\n"
        f"while not _os.path.exists({str(gate)!r}) and _time.time() < _until:\n"
        "    _time.sleep(0.05)\n\n" + solution
    )
    settings = tmp_path / "settings.toml"
    settings.write_text(
        QUICK_SETTINGS.replace("import_seconds = 3.0", "import_seconds = 200.0").replace(
            "total_seconds = 20.0", "total_seconds = 240.0"
        )
    )
    return {"class": folder, "gate": gate, "settings": settings}


def _kill_the_worker_grading(cluster: Cluster, marker: str, out: Path, api: Any) -> int:
    """Wait until the task of ``marker`` runs (the others done) and, with Docker (``api``),
    until its container does; then SIGKILL its worker."""
    deadline = time.monotonic() + 90
    while True:
        assert time.monotonic() < deadline, "the gated task never ran"
        running = cluster.client.run(cluster_plugins.executing, on_error="ignore")
        busy = [address for address, keys in running.items() if any(marker in k for k in keys)]
        if busy and len(list(out.glob("*/.key"))) == 2:
            break
        time.sleep(0.1)
    pid = int(cluster.client.run(cluster_plugins.pid, workers=busy)[busy[0]])
    mine = {"label": f"micrograde.pid={pid}"}
    while api is not None and not api.containers(filters=mine):
        assert time.monotonic() < deadline, "the gated submission's container never started"
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return pid


def _killed_mid_task(
    cluster: Cluster, gated: dict[str, Path], out: Path, sandbox: str, api: Any = None
) -> int:
    command = _command(gated["class"], out, gated["settings"], "--sandbox", sandbox)
    command += ["--steps", "1", "--scheduler", cluster.address]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env()
    )
    try:
        pid = _kill_the_worker_grading(cluster, "gated", out, api)
        gated["gate"].touch()
        stdout, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    lines = [line for line in stdout.splitlines() if line.startswith("[")]
    # One log line per student, and each student once in the gradebook.
    assert sorted(line.split("] ")[1].split(":")[0] for line in lines) == ["alice", "bob", "gated"]
    assert sorted(row["submission"] for row in _rows(out / "gradebook.csv")) == [
        "alice",
        "bob",
        "gated",
    ]
    return pid


def _uninterrupted(gated: dict[str, Path], out: Path) -> Path:
    gated["gate"].touch()
    done = _run(*_command(gated["class"], out, gated["settings"], "--sandbox", "local"),
                "--steps", "1", "--jobs", "2")  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.slow
def test_a_worker_killed_mid_task_loses_nothing(
    dask_cluster: Cluster, gated: dict[str, Path], tmp_path: Path
) -> None:
    dask_cluster.settle()
    _killed_mid_task(dask_cluster, gated, tmp_path / "out", "local")
    _same_books(tmp_path / "out", _uninterrupted(gated, tmp_path / "pool"))


@pytest.mark.slow
@pytest.mark.docker
def test_docker_a_worker_killed_mid_task_leaves_no_container(
    dask_cluster: Cluster, docker_sandbox: Any, slow: dict[str, Path], tmp_path: Path
) -> None:
    dask_cluster.settle()
    api = docker_sandbox.api
    killed = _killed_mid_task(dask_cluster, slow, tmp_path / "out", "docker", api)
    _same_books(tmp_path / "out", _uninterrupted(slow, tmp_path / "pool"))
    # The killed worker's container (its grading went on inside until the gate opened)
    # was removed on its host: by the restarted worker's reaper or after the batch.
    dask_cluster.settle()
    pids = [killed, *dask_cluster.client.run(cluster_plugins.pid).values()]
    deadline = time.monotonic() + 30
    while left := [
        c["Id"][:12]
        for pid in pids
        for c in api.containers(all=True, filters={"label": f"micrograde.pid={pid}"})
    ]:
        assert time.monotonic() < deadline, f"containers left behind: {left}"
        time.sleep(0.5)


def test_a_submission_that_kills_every_worker_is_its_error(
    dask_cluster: Cluster, tmp_path: Path
) -> None:
    dask_cluster.settle()
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(EXAMPLES / "complete" / "single_file.py", folder / "killer.py")
    client = dask_cluster.client
    client.register_plugin(cluster_plugins.DieOn("-killer"), name=cluster_plugins.DieOn.name)
    try:
        done = _run(
            *_command(folder, tmp_path / "out", settings_file(tmp_path), "--sandbox", "local"),
            *("--steps", "1", "--scheduler", dask_cluster.address),
        )
    finally:
        client.unregister_worker_plugin(cluster_plugins.DieOn.name)
    assert done.returncode == 0, done.stderr
    rows = {row["submission"]: row for row in _rows(tmp_path / "out" / "gradebook.csv")}
    assert rows["killer"]["status"] == "rejected" and rows["killer"]["cause"] == "grader"
    assert "died 2 times" in rows["killer"]["message"]  # allowed-failures 1, plus one
