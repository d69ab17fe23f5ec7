"""Check ids and the random inputs of a check: the same on both sides of a comparison."""

from __future__ import annotations

import random


def check_id(test_name: str) -> str:
    """``test_add_two_values`` -> ``add_two_values``."""
    return test_name[5:] if test_name.startswith("test_") else test_name


def check_rng(seed: int, check: str) -> random.Random:
    """The random generator a check draws its inputs from (identical on both sides)."""
    return random.Random(f"micrograde:{seed}:{check}")
