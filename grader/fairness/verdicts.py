"""Every check of one grading judged together: plain verdicts, evidence, decisions.

runs + reference runs --judge--> plain verdicts (what differs, for the report)
                      --evidence--> what each difference is evidence about
                      --decide--> charged / excused / candidate
                      --counterfactual run (candidates only)--> charged / excused
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from grader.exercise import Check, Exercise
from grader.fairness.counterfactual import RunChecks, charged, settle
from grader.fairness.decide import Decision, decide
from grader.fairness.evidence import Evidence, gather
from grader.judge import Verdict, judge
from grader.rubric import Rubric
from grader.trusted import ReferenceRun
from grader.wire import CheckRun

Expected = Callable[[Check, CheckRun], ReferenceRun]


@dataclass(frozen=True)
class Judged:
    verdict: Verdict
    evidence: Evidence
    decision: Decision


def judge_all(
    checks: tuple[Check, ...],
    runs: Mapping[str, CheckRun],
    expected: Expected,
    exercise: Exercise,
    rubric: Rubric,
    rerun: RunChecks | None,
) -> dict[str, Judged]:
    """Judge ``checks`` (one grading's); ``rerun`` runs a counterfactual (None: none, as at
    home, where there is no reference to graft from)."""
    by_id = {check.id: check for check in checks}
    verdicts: dict[str, Verdict] = {}
    evidence: dict[str, Evidence] = {}
    for check in checks:
        run = runs[check.id]
        reference = expected(check, run)
        verdicts[check.id] = judge(run, reference)
        evidence[check.id] = gather(run, reference)
    # Failing is the evidence's business: the plain comparison also flags labels and
    # children of graph nodes, which only the checks that own them judge.
    failed = {cid for cid, ev in evidence.items() if ev.differs}
    judged = {cid: v for cid, v in verdicts.items() if v.status != "not_run"}
    decisions = decide({cid: by_id[cid] for cid in judged}, evidence, failed & set(judged), rubric)
    if rerun is not None:
        decisions = settle(
            decisions,
            evidence,
            {cid: by_id[cid] for cid in judged},
            exercise,
            rubric,
            rerun,
            expected,
        )
    else:
        decisions = {
            cid: d if d.kind != "candidate" else charged(d, evidence[cid])
            for cid, d in decisions.items()
        }
    return {
        cid: Judged(
            verdicts[cid],
            evidence[cid],
            decisions.get(cid, Decision("passed" if cid not in failed else "charged")),
        )
        for cid in by_id
    }
