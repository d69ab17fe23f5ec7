"""Sandbox backends: where the student's code runs.

``local`` is a subprocess with resource limits (not a security boundary); ``docker`` is a
hardened container (the default for grading untrusted code). ``open_sandbox`` picks one.
"""

from __future__ import annotations

from grader.sandbox.base import Execution, ExitStatus, Sandbox, SandboxJob

__all__ = ["Execution", "ExitStatus", "Sandbox", "SandboxJob"]
