"""Charged, excused, or sent to a counterfactual run: one decision per check.

A check is **charged** when some evidence is about an item it owns, when a difference is
pinned on no item, or when it is about an item whose owner did not charge it in this
grading (the owner passed, or was not graded). Its pointer is the lowest such fault.

A check whose differences are all about items **charged elsewhere in this grading** is a
**candidate** for a counterfactual run, in which the explaining methods are grafted from
the reference: it is excused only if it passes there, and charged when no such run is
possible (at home, or when the graft would replace a method holding one of the check's own
items). Evidence never excuses by itself: the sandbox reported it.

A check charged by those rules is a candidate instead when methods of its own or earlier
steps were charged in this grading and may be grafted (none holding an item it owns): a
Neuron's output is wrong when ``+`` is, a crash may be an earlier method's, and no audit of
a value says so; only a rerun with them grafted, the check's own code still the student's,
can tell (it passes: excused; it fails: charged, pointing where that run points).

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
    graft, explaining = _graftable(check, owners, charged)
    if graft and (own or unpinned or uncharged):  # a hang with no place is unpinned
        # Evidence about its own items, or about items nobody charged, with other methods
        # charged in this grading: that evidence may be theirs (a Neuron's output is wrong
        # when ``+`` is, and no audit of a value says so). Only a rerun with them grafted,
        # the check's own methods still the student's, can tell.
        return Decision("candidate", excused_by=explaining, graft=graft)
    if own:
        return Decision("charged", pointer=_lowest(own))
    if unpinned or uncharged or not others:
        # Charged for what nobody charged; the pointer, among the lowest faults, prefers a
        # method shown wrong by its owner (a wrong ``-a`` under ``n - a`` and ``-a``).
        return Decision("charged", pointer=_lowest(unpinned + uncharged + others, charged))
    return _candidate({f.item for f in others}, {i for i, cid in owners.items() if cid == check.id})


def _graftable(
    check: Check, owners: dict[str, str], charged: set[str]
) -> tuple[frozenset[str], tuple[str, ...]]:
    """What a counterfactual run of ``check`` may graft of the methods of its own and
    earlier steps charged in this grading (see ``graft_for``), and the items they were
    charged for. (One run per round serves every candidate, each with its own graft.)"""
    mine = {item for item, cid in owners.items() if cid == check.id}
    items = {
        item
        for item in charged
        if item in ITEMS
        and not ITEMS[item].integration
        and ITEMS[item].step <= check.step
        and item not in mine
    }
    graft = graft_for(items, mine)
    used = {item for item in items if grafted(item, graft)}
    return graft, tuple(sorted(used))


def graft_for(items: set[str], mine: set[str]) -> frozenset[str]:
    """The grafts that replace ``items`` for a check owning ``mine``: the whole method
    (``Value.__mul__``) when the check owns none of its items, else, when the items are
    forward values and the check owns only the backward: the forward value alone
    (``Value.__mul__:forward``: the student's method runs, its node's value is set right)
    for an operator that builds its own node, and the whole definition for a derived one
    (``a - b`` as ``a + (-b)``: its backward is its definition's, so a wrong definition,
    charged where its values are judged, is wrong in both)."""
    owned_methods = {ITEMS[item].method for item in mine if item in ITEMS}
    graft: set[str] = set()
    for item in items:
        method = ITEMS[item].method if item in ITEMS else None
        if method is None:
            continue
        if method not in owned_methods:
            graft.add(method)
        elif ITEMS[item].phase == "forward" and _forward_owned_elsewhere(method, mine):
            graft.add(method if _derived(method) else f"{method}:forward")
    return frozenset(graft)


def _derived(method: str) -> bool:
    """An operator built from others: it has a backward item but no node (label) of its own."""
    return f"{method}:backward" in ITEMS and f"{method}:label" not in ITEMS


def _forward_owned_elsewhere(method: str, mine: set[str]) -> bool:
    """An operator (building its own node, or derived) whose forward items the check does
    not own."""
    return (f"{method}:label" in ITEMS or _derived(method)) and not any(
        ITEMS[item].method == method and ITEMS[item].phase == "forward" for item in mine
    )


def grafted(item: str, graft: frozenset[str]) -> bool:
    """Whether ``graft`` replaces what ``item`` is about."""
    known = ITEMS.get(item)
    if known is None or known.method is None:
        return False
    return known.method in graft or (
        known.phase == "forward" and f"{known.method}:forward" in graft
    )


def _candidate(explaining: set[str], mine: set[str]) -> Decision:
    """Every difference is about items charged elsewhere: a candidate for a counterfactual
    run with the explaining methods grafted. Only that run, judged against the reference's
    values, can show the check's own items right (what the sandbox reports about its own
    graph, audits included, could be forged)."""
    return Decision(
        "candidate", excused_by=tuple(sorted(explaining)), graft=graft_for(explaining, mine)
    )


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


def _lowest(faults: list[Fault], shown: set[str] | None = None) -> Fault | None:
    if not faults:
        return None
    return min(faults, key=lambda f: (f.rank, shown is not None and f.item not in shown))


def graft_is_allowed(graft: frozenset[str], check: str, rubric: Rubric) -> bool:
    """A counterfactual run never grafts a method that holds an item ``check`` owns (it
    would replace the very code the check judges), nor fixes the forward value of one whose
    forward the check owns. The one exception is a derived operator whose forward another
    check owns: its backward is its definition's (``graft_for``)."""
    mine = {item for item, (_, owner) in rubric.owners().items() if owner == check}
    owned = {ITEMS[item].method for item in mine if item in ITEMS}
    for entry in graft:
        method, _, part = entry.partition(":")
        if method not in owned:
            continue
        expected = "" if _derived(method) else "forward"
        if part != expected or not _forward_owned_elsewhere(method, mine):
            return False
    return bool(graft)
