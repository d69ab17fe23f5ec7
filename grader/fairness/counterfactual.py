"""The counterfactual run: a sandbox run that only excuses.

When this grading charged methods of earlier steps and checks of a later step failed on
evidence about those methods alone (see decide.py), the same submission runs those checks
once more, with just the charged methods replaced by the reference's versions, grafted onto
the student's own classes (the student's other methods and helpers stay theirs). The graft
is cut from ``reference/step_5`` by the syntax tree: what the next step's hand-out gives
students anyway. A candidate that passes there is excused in the result; one that fails is
charged: its own code is wrong too. The run never grafts a method holding an item the
candidate owns, and nothing the student's code prints or records in it reaches the result:
only which candidates passed, and for the others the item the grader pinned (the host
writes the sentence).
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

from grader import syntax
from grader.exercise import Check, Exercise
from grader.fairness.contract import graft_covers_integration
from grader.fairness.decide import Decision, charged_items, decide, graft_is_allowed
from grader.fairness.evidence import Evidence, gather
from grader.judge import judge
from grader.rubric import Rubric
from grader.trusted import ReferenceRun
from grader.wire import CheckRun

RunChecks = Callable[[tuple[Check, ...], dict[str, dict[str, str]]], dict[str, CheckRun]]
Expected = Callable[[Check, CheckRun], ReferenceRun]


# A candidate whose counterfactual run fails only on yet another method charged elsewhere
# (a skeleton's backward() and then its product's backward) runs again with that one grafted
# too, at most this many times in all.
ROUNDS = 4


def settle(
    decisions: dict[str, Decision],
    evidence: Mapping[str, Evidence],
    checks: Mapping[str, Check],
    exercise: Exercise,
    rubric: Rubric,
    run_checks: RunChecks,
    expected: Expected,
) -> dict[str, Decision]:
    """Decisions with every candidate turned into excused or charged."""
    settled = dict(decisions)
    graded = set(checks)
    owners = rubric.owners()
    charged_now = charged_items(evidence, rubric, graded)
    pending = {
        cid: with_dependencies(d.graft) for cid, d in decisions.items() if d.kind == "candidate"
    }
    explained = {cid: set(decisions[cid].excused_by) for cid in pending}
    for round_ in range(ROUNDS):
        groups: dict[frozenset[str], list[str]] = {}
        for cid, graft in pending.items():
            if graft_is_allowed(graft, cid, rubric):
                groups.setdefault(graft, []).append(cid)
            else:
                settled[cid] = charged(decisions[cid], evidence[cid])
        pending = {}
        # Earlier steps first: what they turn out to charge explains later ones.
        for graft, candidates in sorted(
            groups.items(), key=lambda g: (min(checks[c].step for c in g[1]), sorted(g[0]))
        ):
            again = _rerun(
                graft, candidates, checks, exercise, rubric, run_checks, expected, charged_now
            )
            for cid in candidates:
                found = again[cid]
                owned = tuple(rubric.entry(checks[cid].step, cid).owns)
                if found.kind in ("passed", "excused") and graft_covers_integration(owned, graft):
                    # It passed with every part it combines replaced: it judged nothing of
                    # the student's, so it is not excused (a step not started, placeholders).
                    settled[cid] = charged(decisions[cid], evidence[cid])
                elif found.kind in ("passed", "excused"):
                    settled[cid] = Decision(
                        "excused", excused_by=tuple(sorted(explained[cid] | set(found.excused_by)))
                    )
                elif found.kind == "candidate" and round_ + 1 < ROUNDS and not found.graft <= graft:
                    pending[cid] = with_dependencies(graft | found.graft)
                    explained[cid] |= set(found.excused_by)
                else:
                    settled[cid] = charged(decisions[cid], evidence[cid], found)
                    pointer = settled[cid].pointer
                    if pointer is not None and owners.get(pointer.item, (0, ""))[1] == cid:
                        charged_now.add(pointer.item)
        if not pending:
            break
    return settled


# The reference's backward() walks the list topo_sort() returns: grafting one without the
# other would test the student's topo_sort inside the reference's traversal.
DEPENDENCIES = {"Value.backward": frozenset({"Value.topo_sort"})}


def with_dependencies(graft: frozenset[str]) -> frozenset[str]:
    return graft.union(*(DEPENDENCIES.get(method, frozenset()) for method in graft))


def charged(decision: Decision, evidence: Evidence, again: Decision | None = None) -> Decision:
    """A candidate charged after all: its own code is wrong too (the counterfactual run
    pinned a fault of its own), or it could not be shown right (the main run's fault)."""
    pointer = again.pointer if again is not None and again.kind == "charged" else None
    if pointer is None and evidence.faults:
        pointer = min(evidence.faults, key=lambda f: f.rank)
    return Decision("charged", pointer=pointer, excused_by=decision.excused_by)


def _rerun(
    graft: frozenset[str],
    candidates: list[str],
    checks: Mapping[str, Check],
    exercise: Exercise,
    rubric: Rubric,
    run_checks: RunChecks,
    expected: Expected,
    charged_now: set[str],
) -> dict[str, Decision]:
    """The candidates decided again on a run with ``graft``'s methods replaced, with what
    this grading has charged so far (a part charged elsewhere still explains a difference)."""
    chosen = tuple(checks[cid] for cid in candidates)
    runs = run_checks(chosen, graft_sources(exercise, graft))
    again: dict[str, Evidence] = {}
    failed = set()
    for check in chosen:
        run = runs[check.id]
        reference = expected(check, run)
        if judge(run, reference).status != "passed":
            failed.add(check.id)
        again[check.id] = gather(run, reference)
    return decide(
        {cid: checks[cid] for cid in candidates},
        again,
        failed,
        rubric,
        graded=set(checks),
        charged_elsewhere=charged_now,
    )


def graft_sources(exercise: Exercise, methods: frozenset[str]) -> dict[str, dict[str, str]]:
    """Class name -> method name -> the reference's source of that method."""
    sources = _reference_methods(exercise.reference_dir(5) / "micrograd")
    graft: dict[str, dict[str, str]] = {}
    for method in sorted(methods):
        cls, _, name = method.partition(".")
        if (cls, name) in sources:
            graft.setdefault(cls, {})[name] = sources[(cls, name)]
    return graft


@cache
def _reference_methods(package: Path) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for path in sorted(package.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for node in syntax.parse(text, path.name).body:
            if isinstance(node, ast.ClassDef):
                for member in node.body:
                    if isinstance(member, ast.FunctionDef):
                        segment = ast.get_source_segment(text, member) or ""
                        found[(node.name, member.name)] = textwrap.dedent(
                            " " * member.col_offset + segment
                        )
    return found
