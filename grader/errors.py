"""Every exception micrograde raises on purpose, in one place.

A student's failure is a *result* (a check that failed, a submission that was rejected),
carried in the data model; the exceptions below are for the rest: the instructor's
mistakes and the machine's. The one exception to that rule, ``SubmissionRejected``, never
leaves the pipeline: it is turned into a ``"status": "rejected"`` result.

    GraderError                      base class; the CLI turns it into a message and an exit code
    ├── ConfigError                  exit 2: a settings file, option or flag is wrong
    │   └── RubricError              a rubric file is malformed or disagrees with the staged tests
    ├── ExerciseError                exit 3: the exercise content itself is broken
    │   └── ReferenceSolutionError   the reference failed to run one of its own scenarios
    ├── SandboxError                 exit 3: the sandbox could not run at all
    │   ├── SandboxUnavailableError  the backend asked for is not there (no engine, no image)
    │   └── SandboxImageError        the sandbox image could not be built or is stale
    ├── ClusterError                 exit 3: a Dask cluster cannot be reached, or a worker of it
    │                                is not fit to grade (another micrograde, no engine, no image)
    └── SubmissionRejected           nothing gradable in the submission (never reaches the CLI)
"""

from __future__ import annotations

from typing import ClassVar


class GraderError(Exception):
    """Base class of micrograde's own errors; ``exit_code`` is what the CLI exits with."""

    exit_code: ClassVar[int] = 3


class ConfigError(GraderError):
    """A settings file, option or flag is wrong; the message names it and the fix."""

    exit_code: ClassVar[int] = 2


class RubricError(ConfigError):
    """A rubric file is malformed, or names checks that do not exist (or misses some)."""


class ExerciseError(GraderError):
    """The exercise content (reference, staged tests, harness) is broken."""


class ReferenceSolutionError(ExerciseError):
    """The reference solution raised or misbehaved while running a staged scenario."""


class SandboxError(GraderError):
    """The sandbox could not run the submission at all (not the student's fault)."""


class SandboxUnavailableError(SandboxError):
    """The requested sandbox backend is not available; the message says how to get it."""


class SandboxImageError(SandboxError):
    """The sandbox image is missing, stale or could not be built."""


class ClusterError(GraderError):
    """The cluster a batch was sent to cannot grade it; the message names the host and fix."""


class SubmissionRejected(GraderError):
    """Nothing gradable was found in a submission; becomes a ``rejected`` result."""

    exit_code: ClassVar[int] = 1

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
