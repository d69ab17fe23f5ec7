"""The items of the contract students implement, each owned by exactly one check.

An item is one thing a solution can get wrong on its own: an operator's forward value, its
label, its local gradient, ``topo_sort``, the gradient seed of ``backward()``, one method of
``Neuron``, ``Layer`` or ``MLP``... The staged tests say which item each observation is
evidence about (``observe.item``); the rubric says which check owns each item
(``owns = [...]``); a fault costs points only in the owner.

*Integration* items belong to checks that combine everything (Karpathy's expressions, a
whole training run): only what no other item explains is charged to them.

``method`` is what "where to look" names (and, for a counterfactual run, what is grafted);
``phase`` is forward or backward.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.rubric import Rubric


@dataclass(frozen=True)
class Item:
    id: str
    step: int
    method: str | None  # None for an integration item
    phase: str  # "forward", "backward" or "" (no phase to name)
    integration: bool = False
    uses: tuple[str, ...] = ()  # an integration item: the methods of its step it combines

    @property
    def pointer(self) -> str | None:
        """``Value.__mul__ (backward)``: what the feedback says to look at."""
        if self.method is None:
            return None
        return f"{self.method} ({self.phase})" if self.phase else self.method


def _operator(method: str, step_forward: int = 1) -> list[Item]:
    return [
        Item(f"{method}:forward", step_forward, method, "forward"),
        Item(f"{method}:label", step_forward, method, "forward"),
        Item(f"{method}:backward", 2, method, "backward"),
    ]


_DERIVED = ("__neg__", "__sub__", "__rsub__", "__truediv__", "__rtruediv__", "__radd__", "__rmul__")

# What a training step calls of step 5: the parameters it updates, the zeroing before each
# backward pass.
_TRAINING = ("Neuron.parameters", "Layer.parameters", "MLP.parameters", "MLP.zero_grad")

ITEMS: dict[str, Item] = {
    item.id: item
    for item in [
        Item("Value.__init__", 1, "Value.__init__", ""),
        Item("Value:label", 1, "Value.__init__", ""),
        Item("Value:children", 1, "Value.__init__", ""),
        *_operator("Value.__add__"),
        Item("Value.__add__:number", 1, "Value.__add__", "forward"),
        *_operator("Value.__mul__"),
        Item("Value.__mul__:number", 1, "Value.__mul__", "forward"),
        *_operator("Value.__pow__"),
        *(Item(f"Value.{name}", 1, f"Value.{name}", "forward") for name in _DERIVED),
        *(Item(f"Value.{name}:backward", 2, f"Value.{name}", "backward") for name in _DERIVED),
        Item(
            "Value:expressions",
            1,
            None,
            "",
            integration=True,
            uses=tuple(f"Value.{name}" for name in ("__add__", "__mul__", "__pow__", *_DERIVED)),
        ),
        Item("Value.topo_sort", 2, "Value.topo_sort", ""),
        Item("Value.backward:order", 2, "Value.backward", ""),
        Item("Value.backward:seed", 2, "Value.backward", ""),
        Item("Value.tanh:forward", 3, "Value.tanh", "forward"),
        Item("Value.tanh:label", 3, "Value.tanh", "forward"),
        Item("Value.tanh:backward", 3, "Value.tanh", "backward"),
        Item("Value.relu:forward", 3, "Value.relu", "forward"),
        Item("Value.relu:label", 3, "Value.relu", "forward"),
        Item("Value.relu:backward", 3, "Value.relu", "backward"),
        # Karpathy's two sanity checks combine the operators with relu (and no tanh).
        Item("Value:karpathy", 3, None, "", integration=True, uses=("Value.relu",)),
        Item("Neuron.__init__", 4, "Neuron.__init__", ""),
        Item("Neuron.__call__", 4, "Neuron.__call__", ""),
        Item("Layer.__init__", 4, "Layer.__init__", ""),
        Item("Layer.__call__", 4, "Layer.__call__", ""),
        Item("MLP.__init__", 4, "MLP.__init__", ""),
        Item("MLP.__call__", 4, "MLP.__call__", ""),
        Item("Neuron.parameters", 5, "Neuron.parameters", ""),
        Item("Layer.parameters", 5, "Layer.parameters", ""),
        Item("MLP.parameters", 5, "MLP.parameters", ""),
        Item("MLP.__init__:nonlin", 5, "MLP.__init__", ""),
        Item("Neuron.__init__:nonlin", 5, "Neuron.__init__", ""),
        Item("Layer.__init__:nonlin", 5, "Layer.__init__", ""),
        Item("MLP.zero_grad", 5, "MLP.zero_grad", ""),
        *(
            Item(name, 5, None, "", integration=True, uses=_TRAINING)
            for name in ("MLP:one step", "MLP:training", "MLP:own start")
        ),
    ]
}


def graft_covers_integration(
    check_items: tuple[str, ...], graft: frozenset[str], missing: set[str]
) -> bool:
    """True when ``graft`` replaces every method of its own step that an integration check
    (owning ``check_items``) combines, and those are ``missing`` (not implemented yet):
    passing then would judge none of the student's work (a step not started). A wrong
    method grafted is charged where it is owned; the check may be excused."""
    uses = {method for item in check_items if item in ITEMS for method in ITEMS[item].uses}
    return bool(uses) and uses <= graft & missing


def graft_covers_step(
    step: int, check_items: tuple[str, ...], graft: frozenset[str], missing: set[str]
) -> bool:
    """True when ``graft`` replaces every method written in ``step`` other than those of the
    check's own items, and none of those was implemented (``missing``): a check that passes
    then judged none of the student's work of its step (the derived operators' gradients on
    an untouched step-2 skeleton come from the grafted primitives alone), so it is not
    excused."""
    mine = {ITEMS[item].method for item in check_items if item in ITEMS}
    written = {
        item.method
        for item in ITEMS.values()
        if item.step == step and item.method is not None and not item.integration
    } - mine
    return bool(written) and written <= graft & missing


def integration_only(rubric: Rubric, step: int, check: str) -> bool:
    """True for a check that owns only integration items (a whole training run): it needs
    no code of its own step, so it passes on that step's untouched skeleton (the missing
    methods cost points in the checks that own them)."""
    owns = rubric.entry(step, check).owns
    return bool(owns) and all(item in ITEMS and ITEMS[item].integration for item in owns)


def ownership_problems(rubric: Rubric) -> list[str]:
    """Every way the rubric's ``owns`` lists break "one item, one owner"."""
    problems = []
    owners: dict[str, list[str]] = {}
    for step, entries in rubric.steps.items():
        for cid, entry in entries.entries.items():
            if not entry.owns:
                problems.append(f"check {cid} (step {step}) owns no contract item")
            for item in entry.owns:
                owners.setdefault(item, []).append(cid)
                known = ITEMS.get(item)
                if known is None:
                    problems.append(f"check {cid} owns {item!r}, which is no contract item")
                elif known.step != step:
                    problems.append(f"check {cid} (step {step}) owns {item!r} of step {known.step}")
    steps = set(rubric.steps)
    for item, known in ITEMS.items():
        if known.step not in steps:
            continue  # a hand-out for an earlier step holds only its steps
        found = owners.get(item, [])
        if not found:
            problems.append(f"contract item {item!r} has no owner")
        elif len(found) > 1:
            problems.append(f"contract item {item!r} has {len(found)} owners: {', '.join(found)}")
    return problems
