"""The ``docker`` backend: one hardened, throw-away container per sandbox run.

The harness and staged tests are baked into the image (read-only, at /harness); the
submission goes in on the container's stdin, as a size-capped tar that the harness
unpacks into a tmpfs at /workspace before any student code runs (``grader.sandbox.
workspace``): no folder is shared with the engine, which may be remote or reached through
its socket from another container. The container gets no network, capped memory (no
swap), pids, CPU, files and scratch space (see ``grader.sandbox.hardening``). Records
come back on the container's stdout through ``attach``, under the same byte cap as the
local backend.

The host keeps the clock: the runner kills a run whose check overruns; ``finish`` then
removes the container, whatever happened. The reaper removes what an interrupted grader
leaves behind. Grading never builds or pulls an image: ``connect`` fails with the command
to run when the image for this harness is not there.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

from grader.errors import SandboxError, SandboxUnavailableError
from grader.exercise import Exercise
from grader.sandbox import reaper
from grader.sandbox.base import STDERR_TAIL, Execution, ExitStatus, LinePump, Sandbox, SandboxJob
from grader.sandbox.hardening import (
    WORKSPACE,
    Owner,
    Spec,
    create_container,
    harness_command,
    harness_environment,
    new_run_id,
    this_process,
)
from grader.sandbox.image import expected_tag
from grader.sandbox.workspace import numeric_ids, unpack_limits, workspace_frame
from grader.settings import Settings

_MiB = 1 << 20
# After the container closed its output, how long its processes may take to exit before
# they are killed (a submission can close the record stream and keep threads running).
EXIT_GRACE = 3.0
API_TIMEOUT = 30  # seconds for one engine call (the SDK's default is 60)
NO_ENGINE = (
    "no Docker engine answers ({reason}): start one (as root, for example "
    "`dockerd --bridge=none --iptables=false &`), check DOCKER_HOST, or grade "
    "with --sandbox local on trusted code"
)
NO_IMAGE = (
    "the sandbox image {tag} ({why}) is not on this Docker engine: run "
    "`micrograde sandbox build` (add --offline where no registry answers)"
)
NO_NAMED_IMAGE = (
    "the sandbox image {tag} named by [docker] image in the settings is not "
    "on this Docker engine: build or load it, or leave that setting empty to "
    "use the image `micrograde sandbox build` makes"
)


def connect_engine() -> Any:
    """A client whose engine answered a ping; ``SandboxUnavailableError`` otherwise."""
    try:
        import docker
        from requests.exceptions import RequestException
    except ImportError as exc:
        raise SandboxUnavailableError(
            f"the Docker SDK for Python is missing ({exc}): pip install docker"
        ) from exc
    try:
        client = docker.from_env(timeout=API_TIMEOUT)
        client.ping()
    except (docker.errors.DockerException, RequestException, OSError) as exc:
        raise SandboxUnavailableError(NO_ENGINE.format(reason=_short(exc))) from exc
    return client


def _clean_after_dead_graders(api: Any) -> None:
    """Remove what a grader killed with SIGKILL left (never another live grader's runs)."""
    from docker.errors import DockerException

    try:
        reaper.clean_leftovers(api)
    except (DockerException, OSError):
        pass  # best effort: `micrograde sandbox clean` reports what it cannot remove


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


class DockerSandbox(Sandbox):
    name: ClassVar[str] = "docker"
    is_security_boundary: ClassVar[bool] = True

    def __init__(self, client: Any, image: str, settings: Settings) -> None:
        self._client = client
        self._image = image
        self._user = settings.docker.user
        self._owner = this_process()
        reaper.install_handlers()  # here, as connect usually runs in the main thread

    @classmethod
    def connect(cls, exercise: Exercise, settings: Settings) -> DockerSandbox:
        """Check, once, that an engine answers and the right image is there."""
        from docker.errors import ImageNotFound

        numeric_ids(settings.docker.user)  # the workspace's tmpfs is mounted for uid:gid
        client = connect_engine()
        packages = settings.sandbox.packages
        image = settings.docker.image or expected_tag(exercise, packages)
        try:
            client.images.get(image)
        except ImageNotFound:
            client.close()
            why = "the one for this grader's version, harness and tests"
            if packages:
                why += f", with the packages [sandbox] packages allows ({', '.join(packages)})"
            message = (NO_NAMED_IMAGE if settings.docker.image else NO_IMAGE).format(
                tag=image, why=why
            )
            if packages and not settings.docker.image:
                message += " with the same --settings file"
            raise SandboxUnavailableError(message) from None
        _clean_after_dead_graders(client.api)
        return cls(client, image, settings)

    @property
    def image(self) -> str:
        return self._image

    @property
    def api(self) -> Any:
        """The low-level client (``docker.APIClient``), shared by every run."""
        return self._client.api

    def start(self, job: SandboxJob) -> DockerExecution:
        frame = workspace_frame(job.workspace, job.limits)
        unpack = list(unpack_limits(job.limits))
        spec = Spec(
            self._image,
            harness_command(job.wall_seconds),
            harness_environment(json.dumps(dict(job.job, workspace=WORKSPACE, unpack=unpack))),
            job.limits,
            self._user,
            new_run_id(),
        )
        return DockerExecution(self._client.api, spec, self._owner, frame, job.wall_seconds)

    def close(self) -> None:
        self._client.close()


class DockerExecution(Execution):
    """One container: created, attached, started, given its workspace on stdin (``frame``,
    from ``grader.sandbox.workspace``); then killed or finished, and removed."""

    def __init__(
        self, api: Any, spec: Spec, owner: Owner, frame: bytes, wall_seconds: float
    ) -> None:
        super().__init__(LinePump(spec.limits.output_mb * _MiB))
        self._api = api
        self._lock = threading.Lock()
        self._killed = False
        self._finished = False
        self._stderr = bytearray()
        self._stderr_budget = spec.limits.output_mb * _MiB
        self._stderr_total = 0
        self._stream: Any = None
        self._stdin: Any = None
        self._ended = False
        self._pump_thread: threading.Thread | None = None
        self._id = self._launch(spec, owner)
        self.send(frame)
        # A backstop for the runner's own deadlines: no run outlives its wall limit.
        self._timer = threading.Timer(wall_seconds + 5.0, self.kill)
        self._timer.daemon = True
        self._timer.start()

    def _launch(self, spec: Spec, owner: Owner) -> str:
        from docker.errors import DockerException
        from requests.exceptions import RequestException

        container = None
        try:
            container = create_container(self._api, spec, owner)
            reaper.track(container, self._api, None)
            # Attach before start, so not a byte of output is missed.
            self._stream = self._api.attach(
                container, stdout=True, stderr=True, stream=True, demux=True, logs=False
            )
            self._stdin = self._api.attach_socket(
                container, params={"stdin": 1, "stdout": 0, "stderr": 0, "stream": 1}
            )
            self._pump_thread = self.pump.start(self._split(self._stream), self.kill)
            self._api.start(container)
            return container
        except (DockerException, RequestException, OSError) as exc:
            self._abandon(container)
            raise SandboxError(
                f"the sandbox container could not start: {_short(exc)} "
                "(is the engine healthy? try `micrograde sandbox check`)"
            ) from exc
        except BaseException:
            self._abandon(container)
            raise

    def _abandon(self, container: str | None) -> None:
        self._close_stream()
        if container is not None:
            reaper.release(container)
            reaper.remove(self._api, container, None)

    def _split(self, stream: Any) -> Iterator[bytes]:
        """stdout chunks for the pump; stderr into a capped tail (and under a cap too)."""
        for out, err in stream:
            if err:
                self._stderr.extend(err)
                del self._stderr[:-STDERR_TAIL]
                self._stderr_total += len(err)
                if self._stderr_total > self._stderr_budget:
                    self.kill()
                    return
            if out:
                yield out
        self._ended = True  # the container closed its output (not us): the harness exited

    def _close_stream(self) -> None:
        # FIRST, before kill or remove: an engine still writing to an attach connection
        # nobody reads blocks, and kill/remove then hang until the client times out.
        for stream in (self._stream, self._stdin):
            if stream is not None:
                try:
                    stream.close()
                except Exception:  # noqa: BLE001 - closed already, or the socket is gone
                    pass

    def send(self, data: bytes) -> None:
        """Write to the container's stdin, on a thread (a harness that does not read must
        not block the host)."""
        raw = getattr(self._stdin, "_sock", self._stdin)
        threading.Thread(target=_send_all, args=(raw, data), daemon=True).start()

    def kill(self) -> None:
        """Stop the run now; safe to call any number of times, from any thread."""
        from docker.errors import DockerException
        from requests.exceptions import RequestException

        with self._lock:
            if self._killed or self._finished:
                return
            self._killed = True
        self._close_stream()
        try:
            self._api.kill(self._id)
        except (DockerException, RequestException):
            pass  # it ended on its own meanwhile

    def finish(self) -> ExitStatus:
        """Wait for the end, read how it went, then remove the container.

        Called before the output ended, the runner has all it wants (the harness said
        "done") or gave up (an exception): the harness's teardown and exit status no
        longer matter, so the container is not awaited but removed at once (``remove
        --force`` kills it: one engine call instead of kill, wait, inspect and remove).
        """
        with self._lock:
            skip_wait = not self._ended and not self._killed
            self._killed = self._killed or skip_wait
        code, oom = None, False
        try:
            if not skip_wait:
                code, oom = self._wait()
        finally:
            with self._lock:
                self._finished = True
            self._timer.cancel()
            self._close_stream()
            if self._pump_thread is not None:
                self._pump_thread.join(timeout=5)
            reaper.release(self._id)
            reaper.remove(self._api, self._id, None)
        return ExitStatus(
            code=code,
            oom_killed=oom,
            output_exceeded=self.pump.exceeded or self._stderr_exceeded,
            stderr_tail=self._stderr[-STDERR_TAIL:].decode("utf-8", "replace"),
        )

    @property
    def _stderr_exceeded(self) -> bool:
        return self._stderr_total > self._stderr_budget

    def _wait(self) -> tuple[int | None, bool]:
        from docker.errors import DockerException
        from requests.exceptions import ConnectionError, ReadTimeout, RequestException

        try:
            code = self._api.wait(self._id, timeout=EXIT_GRACE)["StatusCode"]
        except (ReadTimeout, ConnectionError):
            self.kill()  # still running after "done": threads that never end, say
            try:
                code = self._api.wait(self._id, timeout=API_TIMEOUT)["StatusCode"]
            except (DockerException, RequestException):
                return None, False
        except (DockerException, RequestException):
            return None, False
        try:
            state = self._api.inspect_container(self._id)["State"]
        except (DockerException, RequestException):
            return int(code), False
        return int(code), bool(state.get("OOMKilled"))


def _send_all(sock: Any, data: bytes) -> None:
    try:
        sock.sendall(data)
    except (OSError, AttributeError):  # the container ended, or the socket was closed
        pass
