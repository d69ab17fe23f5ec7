"""The counterfactual run: a sandbox run that only excuses.

When this grading charged some methods and other checks failed where those methods may be
the cause (see decide.py), the same submission runs those checks once more, each with just
the charged methods it may be excused by replaced by the reference's versions, grafted onto
the student's own classes while that check runs (the student's other methods and helpers
stay theirs). One sandbox run serves every candidate of a round. The graft
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
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path

from grader import syntax
from grader.exercise import Check, Exercise
from grader.fairness.contract import ITEMS, graft_covers_integration, graft_covers_step
from grader.fairness.decide import (
    Decision,
    charged_items,
    decide,
    graft_for,
    graft_is_allowed,
    grafted,
)
from grader.fairness.evidence import Evidence, Fault, gather
from grader.judge import judge
from grader.rubric import Rubric
from grader.trusted import ReferenceRun
from grader.wire import CheckRun

# (checks, check -> class -> method -> the reference's source) -> runs
RunChecks = Callable[[tuple[Check, ...], dict[str, dict[str, dict[str, str]]]], dict[str, CheckRun]]
Expected = Callable[[Check, CheckRun], ReferenceRun]


# A candidate whose counterfactual run fails only on yet another method charged elsewhere
# (a skeleton's backward() and then its product's backward) runs again with that one grafted
# too: at most this many rounds, each one sandbox run for all candidates left.
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
    charged_now = charged_items(evidence, rubric, graded)
    # Methods a stub of which raised: not implemented yet (a step not started).
    missing = _missing(evidence.values())

    def run_round(grafts: dict[str, frozenset[str]], charged: set[str]) -> dict[str, Decision]:
        """One sandbox run for every candidate, each with its own graft, decided."""
        again = _rerun(grafts, checks, exercise, run_checks, expected)
        missing.update(_missing(found for found, _ in again.values()))  # stubs met only there
        return _decide_round(grafts, again, checks, rubric, charged)

    def shown_right(cid: str, graft: frozenset[str], found: Decision) -> bool:
        """It passed with ``graft``, and still judged some of the student's own work: not
        every part it combines, nor every other method of its step, replaced while none of
        them was written (a step not started, placeholders)."""
        owned = tuple(rubric.entry(checks[cid].step, cid).owns)
        covered = graft_covers_integration(owned, graft, missing) or graft_covers_step(
            checks[cid].step, owned, graft, missing
        )
        return found.kind in ("passed", "excused") and not covered

    pending = {
        cid: with_dependencies(d.graft) for cid, d in decisions.items() if d.kind == "candidate"
    }
    explained = {cid: set(decisions[cid].excused_by) for cid in pending}
    for round_ in range(ROUNDS):
        allowed: dict[str, frozenset[str]] = {}
        for cid, graft in pending.items():
            if graft_is_allowed(graft, cid, rubric):
                allowed[cid] = graft
            else:
                settled[cid] = charged(decisions[cid], evidence[cid], shown=charged_now)
        pending = {}
        if not allowed:
            break
        found_all = run_round(allowed, charged_now)
        for cid, graft in allowed.items():
            found = found_all[cid]
            if shown_right(cid, graft, found):
                settled[cid] = Decision(
                    "excused", excused_by=tuple(sorted(explained[cid] | set(found.excused_by)))
                )
            elif found.kind == "candidate" and round_ + 1 < ROUNDS and not found.graft <= graft:
                pending[cid] = with_dependencies(graft | found.graft)
                explained[cid] |= set(found.excused_by)
            else:
                settled[cid] = charged(decisions[cid], evidence[cid], found, charged_now)
    for cid in pending:  # still a candidate after the last round
        settled[cid] = charged(decisions[cid], evidence[cid], shown=charged_now)
    return _without_stale_excuses(
        settled,
        decisions,
        evidence,
        _standing(settled, evidence, rubric),
        rubric,
        run_round,
        shown_right,
    )


def _standing(
    settled: Mapping[str, Decision], evidence: Mapping[str, Evidence], rubric: Rubric
) -> set[str]:
    """The items charged in the end: those of the checks whose decision is "charged"
    (found in the main run, or pinned by the counterfactual run that charged them)."""
    final = {cid for cid, d in settled.items() if d.kind == "charged"}
    owners = {item: cid for item, (_, cid) in rubric.owners().items()}
    pinned = {
        d.pointer.item
        for cid, d in settled.items()
        if cid in final and d.pointer is not None and owners.get(d.pointer.item) == cid
    }
    return charged_items({cid: evidence[cid] for cid in final}, rubric, set(settled)) | pinned


def _without_stale_excuses(
    settled: dict[str, Decision],
    decisions: Mapping[str, Decision],
    evidence: Mapping[str, Evidence],
    standing: set[str],
    rubric: Rubric,
    run_round: Callable[[dict[str, frozenset[str]], set[str]], dict[str, Decision]],
    shown_right: Callable[[str, frozenset[str], Decision], bool],
) -> dict[str, Decision]:
    """An excuse must rest on charges that stand (``standing``: the items of the checks
    charged in the end). A check excused by an item whose owner was itself excused in the
    end (a Layer excused by the MLP's fault, the MLP by the Layer's, both by the ReLU's)
    runs once more with only the standing items' methods grafted: it passes, excused by
    those; it fails, or nothing stands, charged."""
    stale = {
        cid: frozenset(i for i in d.excused_by if i in standing)
        for cid, d in settled.items()
        if d.kind == "excused" and not set(d.excused_by) <= standing
    }
    grafts: dict[str, frozenset[str]] = {}
    for cid, keep in stale.items():
        mine = {item for item, (_, owner) in rubric.owners().items() if owner == cid}
        graft = with_dependencies(graft_for(set(keep), mine))
        if keep and graft_is_allowed(graft, cid, rubric):
            grafts[cid] = graft
        else:
            settled[cid] = charged(decisions[cid], evidence[cid], shown=standing)
    found_all = run_round(grafts, set(standing)) if grafts else {}
    for cid, graft in grafts.items():
        found = found_all[cid]
        settled[cid] = (
            Decision("excused", excused_by=tuple(sorted(stale[cid])))
            if shown_right(cid, graft, found)
            else charged(decisions[cid], evidence[cid], found, standing)
        )
    return settled


def _missing(evidence: Iterable[Evidence]) -> set[str]:
    return {
        ITEMS[f.item].method or ""
        for found in evidence
        for f in found.faults
        if f.missing and f.item in ITEMS
    }


def _decide_round(
    grafts: Mapping[str, frozenset[str]],
    again: Mapping[str, tuple[Evidence, bool]],
    checks: Mapping[str, Check],
    rubric: Rubric,
    charged_now: set[str],
) -> dict[str, Decision]:
    """The round's candidates decided on their counterfactual evidence. What one of them
    is charged for there (its own item: a Neuron's fault, once ``+`` is grafted) explains
    the others (the Layer that calls that Neuron): decided again until nothing new is
    charged. ``charged_now`` gains those items."""
    owners = rubric.owners()
    graded = set(checks)
    for _ in range(len(grafts) + 1):
        found = {
            cid: decide(
                {cid: checks[cid]},
                {cid: again[cid][0]},
                {cid} if again[cid][1] else set(),
                rubric,
                graded=graded,
                # What was grafted is the reference's in that run: it explains nothing.
                charged_elsewhere={item for item in charged_now if not grafted(item, graft)},
            )[cid]
            for cid, graft in grafts.items()
        }
        new = {
            d.pointer.item
            for cid, d in found.items()
            if d.kind == "charged"
            and d.pointer is not None
            and owners.get(d.pointer.item, (0, ""))[1] == cid
        } - charged_now
        if not new:
            return found
        charged_now |= new
    return found


# The reference's backward() walks the list topo_sort() returns: grafting one without the
# other would test the student's topo_sort inside the reference's traversal.
DEPENDENCIES = {"Value.backward": frozenset({"Value.topo_sort"})}


def with_dependencies(graft: frozenset[str]) -> frozenset[str]:
    return graft.union(*(DEPENDENCIES.get(method, frozenset()) for method in graft))


def charged(
    decision: Decision,
    evidence: Evidence,
    again: Decision | None = None,
    shown: set[str] | frozenset[str] = frozenset(),
) -> Decision:
    """A candidate charged after all: its own code is wrong too (the counterfactual run
    pinned a fault of its own), or it could not be shown right (the main run's fault: of
    the lowest ones, one about an item ``shown`` wrong by its owner, when there is one)."""
    lowest = (
        min(evidence.faults, key=lambda f: (f.rank, f.item not in shown))
        if evidence.faults
        else None
    )
    pointer = again.pointer if again is not None and again.kind == "charged" else None
    if pointer is not None:
        # The counterfactual run chooses the method; the words are the main run's (what
        # the student's code did there), never what it raised or recorded with a graft.
        same = [f for f in evidence.faults if f.item == pointer.item]
        said = same[0] if same else lowest
        pointer = Fault(
            pointer.item,
            said.message if said is not None else "",
            pointer.rank,
            said.graph if said is not None and same else "",
        )
    else:
        pointer = lowest
    return Decision("charged", pointer=pointer, excused_by=decision.excused_by)


def _rerun(
    grafts: Mapping[str, frozenset[str]],
    checks: Mapping[str, Check],
    exercise: Exercise,
    run_checks: RunChecks,
    expected: Expected,
) -> dict[str, tuple[Evidence, bool]]:
    """One run in which each candidate has its ``grafts`` methods replaced: its evidence,
    and whether it failed."""
    chosen = tuple(checks[cid] for cid in grafts)
    runs = run_checks(chosen, {cid: graft_sources(exercise, g) for cid, g in grafts.items()})
    found: dict[str, tuple[Evidence, bool]] = {}
    for check in chosen:
        run = runs[check.id]
        reference = expected(check, run)
        found[check.id] = (gather(run, reference), judge(run, reference).status != "passed")
    return found


def graft_sources(exercise: Exercise, methods: frozenset[str]) -> dict[str, dict[str, str]]:
    """Class name -> method name -> the reference's source of that method."""
    sources = _reference_methods(exercise.reference_dir(5) / "micrograd")
    graft: dict[str, dict[str, str]] = {}
    for method in sorted(methods):
        cls, _, name = method.partition(".")
        if name.endswith(":forward"):
            graft.setdefault(cls, {})[name] = ""  # the harness sets the node's value right
        elif (cls, name) in sources:
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
