"""Validate results.json files against docs/results.schema.json (with jsonschema).

Used by tests/test_results_schema.py and by the session-wide sweep in conftest.py, which
validates every micrograde results.json any test wrote under pytest's temporary folders.
Gradescope's own results.json (written by ``micrograde gradescope``) has another format
and no ``"schema"`` key: it is recognised and left to tests/test_gradescope.py.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "docs" / "results.schema.json"


@cache
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def problems(data: Any) -> list[str]:
    """Every way ``data`` breaks the schema, one line each ([] when it is valid)."""
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<top>'}: {error.message[:300]}"
        for error in validator().iter_errors(data)
    ]


def is_micrograde_results(data: Any) -> bool:
    """A micrograde results.json, as opposed to the one written for Gradescope."""
    return type(data) is dict and "schema" in data


def sweep(root: Path) -> tuple[int, list[str]]:
    """Validate every micrograde results.json under ``root``: (how many, what is wrong)."""
    count, found = 0, []
    for path in sorted(root.rglob("results.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            found.append(f"{path}: unreadable ({error})")
            continue
        if not is_micrograde_results(data):
            continue
        count += 1
        found += [f"{path}: {problem}" for problem in problems(data)]
    return count, found
