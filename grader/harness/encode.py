"""Turn what a test saw into plain JSON, without trusting the objects it saw.

The sandbox side encodes; the host reads the records strictly (``grader.wire``) and compares
the encoded values as they are (``compare``), without turning them back into objects.
Only exact built-in types pass through as themselves. Anything else -- a float subclass
whose ``__eq__`` lies, an object that claims to equal everything, a ``Value`` where a number
was expected -- becomes a marker ``{"$obj": "<type name>"}`` that never equals a number.
NaN and infinities are kept as markers too, because JSON has no spelling for them.
"""

from __future__ import annotations

import math
from typing import Any

MAX_STR = 2_000
MAX_ITEMS = 5_000
MAX_DEPTH = 12
_SPECIAL_FLOATS = ("nan", "inf", "-inf")  # a tuple: `x in` must not hash a forged list


def encode(value: Any, depth: int = 0) -> Any:
    """Return a JSON-ready copy of ``value``; unknown objects become ``$obj`` markers."""
    if depth > MAX_DEPTH:
        return {"$obj": "<nested too deeply>"}
    kind = type(value)
    if value is None or kind is bool or kind is str and len(value) <= MAX_STR:
        return value
    if kind is str:
        return value[:MAX_STR] + "…"
    if kind is int:
        # Beyond 64 bits: hexadecimal, which (unlike decimal) has no conversion size limit.
        return value if abs(value) < 2**63 else {"$int": hex(value)[:1000]}
    if kind is float:
        return value if math.isfinite(value) else {"$float": _float_name(value)}
    if kind is list or kind is tuple:
        items = [encode(item, depth + 1) for item in value[:MAX_ITEMS]]
        return items if len(value) <= MAX_ITEMS else items + [{"$obj": "<truncated>"}]
    if kind is dict:
        pairs = list(value.items())[:MAX_ITEMS]
        return {"$map": [[_key(k), encode(v, depth + 1)] for k, v in pairs]}
    return {"$obj": _type_name(kind)}


def _key(key: Any) -> str:
    # Exact built-in keys spell themselves (their str() runs no student code); any other
    # key is named by its type, since its __str__ may raise or lie.
    if type(key) is str:
        return key[:MAX_STR]
    if key is None or type(key) in (bool, float) or type(key) is int and abs(key) < 2**63:
        return str(key)
    return f"<{_type_name(type(key))}>"


def _float_name(value: float) -> str:
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def _type_name(kind: type) -> str:
    # type.__qualname__ cannot be overridden per instance, and reading it runs no student code.
    try:
        name = type.__getattribute__(kind, "__qualname__")
        module = type.__getattribute__(kind, "__module__")
    except Exception:  # noqa: BLE001 - metaclass games; pragma: no cover
        return "<unknown type>"
    name = name if type(name) is str else "<unknown type>"
    if type(module) is str and module not in ("builtins", "__main__"):
        return f"{module}.{name}"[:200]
    return name[:200]


def is_number(value: Any) -> bool:
    """True for an encoded int or float, including the NaN/inf markers (never for bools)."""
    if type(value) in (int, float):
        return True
    return type(value) is dict and set(value) == {"$float"} and value["$float"] in _SPECIAL_FLOATS


def as_float(value: Any) -> float:
    """The float an encoded number stands for (NaN and infinities included)."""
    if type(value) is dict:
        return float(value["$float"])
    return float(value)


def describe(value: Any, limit: int = 200) -> str:
    """A short human-readable spelling of an encoded value, for feedback."""
    if type(value) is dict:
        if "$obj" in value:
            return f"an object of type {value['$obj']}"
        if "$float" in value:
            return str(value["$float"])
        if "$int" in value:
            return str(value["$int"])
        if "$map" in value:
            pairs = value["$map"] if type(value["$map"]) is list else []
            inner = ", ".join(
                f"{p[0]}: {describe(p[1], 40)}" for p in pairs if type(p) is list and len(p) == 2
            )
            return _clip("{" + inner + "}", limit)
    if type(value) is float:
        return _clip(f"{value:.10g}", limit)
    if type(value) is list:
        return _clip("[" + ", ".join(describe(v, 40) for v in value) + "]", limit)
    if type(value) is str:
        return _clip(repr(value), limit)
    return _clip(repr(value), limit)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
