"""One sentence when most failures share a cause, said once: at the top of the report, in the
terminal summary and in the gradebook's message column.

Causes, first found wins:

- what the top-level code did (``grader/intake/explain.py``): a package the grader does
  not provide, or top-level code that ran too long and was left out;
- a file holding the exercise's classes that does not parse (intake saw it): nothing that
  needs those classes could run, whatever else is right;
- classes the submission does not define yet (a step not started);
- one method that most failed checks point at ("where to look", decided by fair grading),
  saying where it was when it did not finish within the time limit or crashed (the runner
  located it from the sandbox's stack dump: fairness/location.py).

Each sentence is written here, from facts the host checked; of the submission it quotes
only a file name and Python's parser message about that file (the terminal, log lines and
CSV cells make such text inert, as they do all text from a submission).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from grader.intake.model import CLASS_NAMES, join_and
from grader.models import CheckResult, Diagnosis, StepResult

# The share of failed checks one method must explain to be *the* cause.
MOST = 2 / 3


def diagnose(
    found: Diagnosis | None,
    steps: Sequence[StepResult],
    unparsable: Sequence[tuple[str, int | None, str]] = (),
    absent: Mapping[str, Sequence[str]] | None = None,
    stuck: Mapping[str, str] | None = None,
) -> Diagnosis | None:
    """The one cause of what went wrong in ``steps``, or None when there is none to tell.

    ``unparsable``: files holding the exercise's classes that do not parse (file, line,
    Python's message); ``absent``: check id -> the classes it needs that the submission
    does not define; ``stuck``: the methods found running past the limit or crashing
    (``Value.backward``, ``Value.__mul__:backward``) -> what the runner says they did."""
    if found is not None:
        return found
    failed = [c for s in steps if s.graded for c in s.checks if c.status != "passed"]
    if not failed:
        return None
    unable = sum(c.status == "error" for c in failed)  # raised, e.g. on importing
    if unparsable and unable:
        return _syntax_error(*unparsable[0], failed=unable)
    return _missing_classes(failed, absent or {}) or _one_method(failed, stuck or {})


def _missing_classes(
    failed: Sequence[CheckResult], absent: Mapping[str, Sequence[str]]
) -> Diagnosis | None:
    unable = [c for c in failed if c.status == "error" and absent.get(c.id)]
    if not unable or len(unable) < MOST * len(failed):
        return None
    names = sorted({name for c in unable for name in absent[c.id]}, key=CLASS_NAMES.index)
    return Diagnosis(
        "missing_class",
        f"{join_and(names)} {'is' if len(names) == 1 else 'are'} not in your submission yet (no "
        f"class of that name was found): the {len(unable)} check"
        f"{'s' * (len(unable) > 1)} that need{'s' * (len(unable) == 1)} "
        f"{'it' if len(names) == 1 else 'them'} could not run.",
    )


def _syntax_error(file: str, line: int | None, message: str, *, failed: int) -> Diagnosis:
    where = f"line {line}: " if line is not None else ""
    return Diagnosis(
        "syntax_error",
        f"{file} does not parse ({where}{message}), so Python cannot import it: "
        f"{'the one check' if failed == 1 else f'the {failed} checks'} that needed it "
        "could not run. Fix that line first.",
        file=file,
        line=line,
    )


def _one_method(failed: Sequence[CheckResult], stuck: Mapping[str, str]) -> Diagnosis | None:
    blames = Counter(c.blame for c in failed if c.blame)
    if not blames:
        return None
    (method, count), *others = blames.most_common()
    if count < MOST * len(failed) or (others and others[0][1] == count):
        return None
    share = (
        "Everything that failed points"
        if count == len(failed)
        else f"{count} of the {len(failed)} failed checks point"
    )
    how = _how(method, stuck, (c for c in failed if c.blame == method))
    return Diagnosis("one_method", f"{share} at one method: {method}{how}.", method=method)


def _how(method: str, stuck: Mapping[str, str], checks: Iterable[CheckResult]) -> str:
    name, _, phase = method.partition(" (")
    did = stuck.get(name + (":backward" if phase == "backward)" else ""))
    if did is not None:
        return f"; it {did}"
    if "timeout" in {c.status for c in checks}:
        return " (it did not finish within the time limit)"
    return ""
