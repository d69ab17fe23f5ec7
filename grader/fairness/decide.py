"""Charged, excused, or sent to a counterfactual run: one decision per check.

A check is **charged** when some evidence is about an item it owns, when a difference is
pinned on no item, or when it is about an item whose owner did not charge it in this
grading (the owner passed, or was not graded). Its pointer is the lowest such fault.

A check whose differences are all about items **charged elsewhere in this grading** is a
**candidate** for a counterfactual run, in which the explaining methods are grafted from
the reference: it is excused only if it passes there, and charged when no such run is
possible (at home, or when the graft would replace a method holding one of the check's own
items). Evidence never excuses by itself: the sandbox reported it.

A check that hung or died with nothing to say where, with methods of its own or earlier
steps charged in this grading, is a candidate with those methods grafted.

An integration check (one that combines everything) whose only fault is its own
integration item, with parts of its own or earlier steps charged in this grading, is a
candidate too; the counterfactual run excuses it only when some part of its own step that
it integrates is still the student's there (so it still judges the student's work).

Evidence about another check's item that changed nothing in this check (an operator shown
wrong on its own while the numbers here came out right) is not a difference here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from grader.exercise import Check
from grader.fairness.contract import ITEMS
from grader.fairness.evidence import Evidence, Fault
from grader.rubric import Rubric

Kind = str  # "passed", "charged", "excused", "candidate"


@dataclass(frozen=True)
class Decision:
    kind: Kind
    pointer: Fault | None = None  # the fault the feedback names (charged)
    excused_by: tuple[str, ...] = ()  # items charged elsewhere that explain it (excused)
    graft: frozenset[str] = field(default_factory=frozenset)  # methods (candidate)


def decide(
    checks: Mapping[str, Check],
    evidence: Mapping[str, Evidence],
    failed: set[str],
    rubric: Rubric,
    graded: set[str] | None = None,
    charged_elsewhere: set[str] | None = None,
) -> dict[str, Decision]:
    """Decide ``checks``. ``failed``: those whose plain comparison failed (or raised, hung,
    died). ``graded``: every check of this grading (default: ``checks``): an item whose
    owner was not graded explains nothing. ``charged_elsewhere``: items charged by checks
    not decided here (a counterfactual run decides its candidates alone)."""
    graded = set(checks) if graded is None else graded
    owners = {item: cid for item, (_, cid) in rubric.owners().items() if cid in graded}
    own = {cid: [f for f in evidence[cid].faults if owners.get(f.item) == cid] for cid in checks}
    charged = {f.item for faults in own.values() for f in faults} | (charged_elsewhere or set())
    return {
        cid: _decide(checks[cid], evidence[cid], cid in failed, own[cid], owners, charged)
        for cid in checks
    }


def charged_items(decided: Mapping[str, Evidence], rubric: Rubric, graded: set[str]) -> set[str]:
    """The items charged by their owners among ``decided`` checks."""
    owners = {item: cid for item, (_, cid) in rubric.owners().items() if cid in graded}
    return {f.item for cid, ev in decided.items() for f in ev.faults if owners.get(f.item) == cid}


def _decide(
    check: Check,
    evidence: Evidence,
    failed: bool,
    own: list[Fault],
    owners: dict[str, str],
    charged: set[str],
) -> Decision:
    if not failed and not own and not evidence.differs:
        return Decision("passed")
    others = [f for f in evidence.faults if f not in own] if evidence.differs else []
    unpinned = [f for f in others if owners.get(f.item) is None]
    uncharged = [f for f in others if f.item not in charged and f not in unpinned]
    if own and _integration(own):
        return _integration_decision(check, own, others, unpinned + uncharged, charged)
    if own:
        return Decision("charged", pointer=_lowest(own))
    if evidence.unplaced:
        return _unplaced_decision(check, evidence, charged)
    if unpinned or uncharged or not others:
        return Decision("charged", pointer=_lowest(unpinned + uncharged))
    return _candidate({f.item for f in others})


def _candidate(explaining: set[str]) -> Decision:
    """Every difference is about items charged elsewhere: a candidate for a counterfactual
    run with the explaining methods grafted. Only that run, judged against the reference's
    values, can show the check's own items right (what the sandbox reports about its own
    graph, audits included, could be forged)."""
    graft = frozenset(ITEMS[item].method or "" for item in explaining) - {""}
    return Decision("candidate", excused_by=tuple(sorted(explaining)), graft=graft)


def _integration(own: list[Fault]) -> bool:
    return all(f.item in ITEMS and ITEMS[f.item].integration for f in own)


def _integration_decision(
    check: Check, own: list[Fault], others: list[Fault], unexplained: list[Fault], charged: set[str]
) -> Decision:
    """An integration check that failed with parts of its own or earlier steps charged is
    a candidate for a counterfactual run with those parts grafted (whether it may be
    excused then is the counterfactual's call: not when every part of its own step that it
    integrates had to be grafted); with no part charged, it is charged."""
    if unexplained:
        return Decision("charged", pointer=_lowest(unexplained))
    parts = {
        item
        for item in charged
        if item in ITEMS and not ITEMS[item].integration and ITEMS[item].step <= check.step
    }
    if parts:
        graft = frozenset(ITEMS[item].method or "" for item in parts) - {""}
        explaining = tuple(sorted(parts | {f.item for f in others}))
        return Decision("candidate", excused_by=explaining, graft=graft)
    return Decision("charged", pointer=_lowest(own))


def _unplaced_decision(check: Check, evidence: Evidence, charged: set[str]) -> Decision:
    """A check that hung or died before anything said where (a crash too deep for its stack
    dump to reach the student's method) is a candidate when methods of its own or earlier
    steps were charged in this grading: with them grafted it either passes (they were the
    cause, charged already) or hangs or dies again (charged here)."""
    parts = {
        item
        for item in charged
        if item in ITEMS and not ITEMS[item].integration and ITEMS[item].step <= check.step
    }
    graft = frozenset(ITEMS[item].method or "" for item in parts) - {""}
    if graft:
        return Decision("candidate", excused_by=tuple(sorted(parts)), graft=graft)
    return Decision("charged", pointer=_lowest(evidence.faults))


def _lowest(faults: list[Fault]) -> Fault | None:
    return min(faults, key=lambda f: f.rank) if faults else None


def graft_is_allowed(graft: frozenset[str], check: str, rubric: Rubric) -> bool:
    """A counterfactual run never grafts a method that holds an item ``check`` owns: it
    would replace the very code the check judges."""
    owned = {ITEMS[item].method for item, (_, owner) in rubric.owners().items() if owner == check}
    return bool(graft) and not graft & owned
