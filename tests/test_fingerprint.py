"""The harness's tamper evidence names each patched object once, where it was defined."""

from __future__ import annotations

from types import ModuleType

from grader.harness.recorder import Fingerprint


def _harness() -> tuple[ModuleType, ModuleType, ModuleType]:
    observe = ModuleType("mg_harness.observe")
    exec(
        "class Observer:\n    def given(self, name, value):\n        return value\n", vars(observe)
    )
    fixtures, plugin = ModuleType("mg_harness.fixtures"), ModuleType("mg_harness.plugin")
    for module in (fixtures, plugin):
        module.Observer = observe.Observer  # type: ignore[attr-defined]  # imported by name
    return observe, fixtures, plugin


def test_a_class_three_modules_import_is_named_once_where_it_was_defined() -> None:
    observe, fixtures, plugin = _harness()
    fingerprint = Fingerprint([observe, fixtures, plugin], {})
    assert fingerprint.changes() == []
    observe.Observer.given = lambda self, name, value: 0  # type: ignore[attr-defined]
    assert fingerprint.changes() == ["observe.Observer"]
    assert fingerprint.changes() == []  # reported once


def test_a_name_rebound_in_one_module_is_reported_too() -> None:
    observe, fixtures, plugin = _harness()
    fingerprint = Fingerprint([observe, fixtures, plugin], {})
    fixtures.Observer = type("Observer", (), {})  # type: ignore[attr-defined]
    assert fingerprint.changes() == ["observe.Observer"]
