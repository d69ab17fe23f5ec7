"""Turn a verdict into the sentence a student reads first."""

from __future__ import annotations

from typing import Any

from grader.harness.encode import describe
from grader.judge import Verdict

MAX_INPUTS = 6


def feedback_text(verdict: Verdict) -> str:
    """One paragraph: where to look, what went wrong, on which inputs."""
    if verdict.status == "passed":
        return "Passed."
    parts = []
    if verdict.blame and verdict.status in ("failed", "error"):
        parts.append(f"Look at {verdict.blame}.")
    parts.append(_sentence(verdict.message))
    inputs = verdict.details.get("inputs")
    if inputs:
        parts.append("Inputs: " + _inputs(inputs) + ".")
    return " ".join(parts)


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    return text if text.endswith((".", "!", "?", ")")) else text + "."


def _inputs(inputs: list[Any]) -> str:
    shown = [f"{name} = {describe(value, 80)}" for name, value in inputs[:MAX_INPUTS]]
    if len(inputs) > MAX_INPUTS:
        shown.append(f"and {len(inputs) - MAX_INPUTS} more")
    return ", ".join(shown)
