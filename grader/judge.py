"""Decide each check by comparing the sandbox's claims with the reference's observations.

Inputs are untrusted records from the sandbox (``wire.CheckRun``) and trusted records
from the reference run (``trusted.ReferenceRun``). Only the reference's records say what
must be observed and with which tolerance; the student's records are looked up by name
and compared with ``harness.compare``. A property (``expect``) counts only as evaluated by
the trusted run. The result says what went wrong in words, and which method to look at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from grader.harness.compare import compare
from grader.harness.graph import compare_graph
from grader.models import CheckStatus
from grader.trusted import ReferenceRun
from grader.wire import CheckRun

_NO_ATTRIBUTE = re.compile(r"^'(\w+)' object has no attribute '(\w+)'")


@dataclass(frozen=True)
class Verdict:
    status: CheckStatus
    message: str
    blame: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def judge(run: CheckRun, reference: ReferenceRun | None) -> Verdict:
    """The verdict on one check."""
    details = _base_details(run, reference)
    if run.unreadable:
        return Verdict(
            "failed",
            f"your code's run sent {run.unreadable_count} record(s) the grader cannot read "
            f"({run.unreadable[0]}), so this check cannot be judged",
            None,
            details,
        )
    if run.state == "timeout":
        return Verdict("timeout", run.message, None, details)
    if run.state == "crashed":
        return Verdict("error", run.message, None, details)
    if run.state == "not_run" or run.end is None:
        return Verdict("not_run", run.message or "this check did not run", None, details)
    error = run.end.get("error")
    if error is not None:
        return _error_verdict(error, details)
    if run.end.get("outcome") != "passed":
        return Verdict(
            "error",
            f"the check ended as {run.end.get('outcome')!r} without an "
            "error: did your code skip or stop it?",
            None,
            details,
        )
    if reference is None or reference.missing_given:
        missing = reference.missing_given if reference else "?"
        return Verdict("failed", f"your code's run did not record {missing!r}", None, details)
    if reference.replay_error:
        return Verdict(
            "failed",
            "what your code's run recorded could not be checked "
            f"(it is not the kind of data this check expects: "
            f"{reference.replay_error})",
            None,
            details,
        )
    return _compare_observations(run, reference, details)


def _base_details(run: CheckRun, reference: ReferenceRun | None) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if reference is not None:
        inputs = [[r["name"], r["value"]] for r in reference.records if r["role"] == "input"]
        if inputs:
            details["inputs"] = inputs
    if run.end is not None:
        for stream in ("stdout", "stderr"):
            if run.end.get(stream):
                details[stream] = run.end[stream]
    return details


def _error_verdict(error: dict[str, Any], details: dict[str, Any]) -> Verdict:
    frames = [f for f in error.get("frames", []) if type(f) is dict]
    details["error"] = {
        "type": error.get("type"),
        "message": error.get("message"),
        "frames": frames[-12:],
    }
    if type(error.get("cause")) is dict:
        details["error"]["cause"] = error["cause"]
    if error.get("when") == "setup":
        # Raised while the check's classes were being loaded: no input reached the
        # student's code, so none is shown.
        details.pop("inputs", None)
    missing = error.get("not_implemented")
    if type(missing) is str:
        return Verdict("error", f"{missing} is not implemented yet", missing, details)
    blame = str(frames[-1].get("function")) if frames else _missing_attribute(error)
    where = f" in {blame}" if blame else ""
    return Verdict("error", f"{error.get('type')}{where}: {error.get('message')}", blame, details)


def _missing_attribute(error: dict[str, Any]) -> str | None:
    """``'Value' object has no attribute 'tanh'`` -> ``Value.tanh``."""
    match = _NO_ATTRIBUTE.match(str(error.get("message", "")))
    if error.get("type") == "AttributeError" and match:
        return f"{match.group(1)}.{match.group(2)}"
    return None


def _compare_observations(
    run: CheckRun, reference: ReferenceRun, details: dict[str, Any]
) -> Verdict:
    got = {o["name"]: o for o in run.observations}
    if reference.trust_expects:
        for claim in run.observations:
            if claim["role"] == "expect" and claim.get("ok") is not True:
                return Verdict("failed", str(claim.get("message", "")), claim.get("blame"), details)
    plots = [
        {
            "name": w["name"],
            "kind": w["plot"],
            "expected": w["value"],
            "actual": got[w["name"]].get("value") if w["name"] in got else None,
        }
        for w in reference.records
        if w["role"] == "value" and w.get("plot")
    ]
    if plots:
        details["plots"] = plots
    details["values"] = [
        {
            "name": w["name"],
            "expected": w["value"],
            "actual": got[w["name"]].get("value") if w["name"] in got else None,
        }
        for w in reference.records
        if w["role"] == "value" and _small(w["value"])
    ]
    for want in reference.records:
        role = want["role"]
        if role == "expect" and not want["ok"]:
            return Verdict("failed", want["message"], want.get("blame"), details)
        if role not in ("value", "graph"):
            continue
        verdict = _compare_one(want, got.get(want["name"]), details, run.cut_bytes > 0)
        if verdict is not None:
            return verdict
    return Verdict("passed", "", None, details)


def _without_audit(graph: Any) -> Any:
    """A recorded graph without the audit capture (the fairness module's evidence, far too
    large for results.json and of no use to a reader)."""
    if type(graph) is dict and "audit" in graph:
        return {k: v for k, v in graph.items() if k != "audit"}
    return graph


def _small(value: Any) -> bool:
    """Worth showing in a table: a scalar, or a short flat list."""
    if type(value) is list:
        return len(value) <= 12 and all(type(v) is not list for v in value)
    return True


def _compare_one(
    want: dict[str, Any], have: dict[str, Any] | None, details: dict[str, Any], cut: bool = False
) -> Verdict | None:
    name, blame = want["name"], want.get("blame")
    tol = (float(want["tol"][0]), float(want["tol"][1]))
    if have is None or have.get("role") != want["role"]:
        if cut:
            return Verdict(
                "failed",
                f"your code's run recorded more than the grader keeps for one check, so "
                f"{name!r} was not kept (it printed or recorded far more than the check asks)",
                None,
                details,
            )
        return Verdict("failed", f"your code's run did not record {name!r}", blame, details)
    if want["role"] == "graph":
        finding = compare_graph(want["value"], have["value"], want["output"], tol)
        if finding is None:
            return None
        details["graph"] = {
            "name": name,
            "output": want["output"],
            "expected": _without_audit(want["value"]),
            "actual": _without_audit(have["value"]),
            "bad_node": finding.node,
            "culprit": finding.culprit,
        }
        return Verdict("failed", f"{name}: {finding.message}", finding.blame, details)
    mismatch = compare(want["value"], have["value"], tol)
    if mismatch is None:
        return None
    details["mismatch"] = {
        "name": name,
        "path": mismatch.path,
        "expected": want["value"],
        "actual": have["value"],
        "reason": mismatch.reason,
        "tolerance": list(tol),
    }
    return Verdict("failed", mismatch.sentence(name), blame, details)
