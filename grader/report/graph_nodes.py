"""What a drawn computation graph shows of each node: the data both the view and the
drawing read (kept apart from both, so neither imports the other)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reading:
    """One number of a node: what the student's code gave, and the reference's if different."""

    yours: str
    expected: str | None = None


@dataclass(frozen=True)
class NodeView:
    name: str
    op: str
    children: tuple[str, ...]
    value: Reading
    grad: Reading
    problems: tuple[str, ...]
    first: bool = False
    output: bool = False

    @property
    def marker(self) -> str:
        """The banner on the first node that differs, naming what differs there."""
        if "wrong value" in self.problems:
            return "first wrong value"
        if "wrong gradient" in self.problems:
            return "first wrong gradient"
        return "first difference"
