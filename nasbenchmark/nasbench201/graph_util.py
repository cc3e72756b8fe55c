"""Conversions between the three spellings of a NAS-Bench-201 cell.

* the 6-edge dict ``{"0_1": "conv_3x3", ...}`` (NNI's ``arch``),
* the original arch string ``|nor_conv_3x3~0|+|none~0|none~1|+|...|``,
* the official index 0..15624 (resolved through the database's ``nb201arch`` table).
"""
from __future__ import annotations

import json
import re
from itertools import islice

from ..errors import shown
from .constants import EDGES, OP_TO_ORIGINAL, ORIGINAL_TO_OP, PRIMITIVES

_ARCH_STR = re.compile(r"^\|([a-z_0-9]+)~0\|\+\|([a-z_0-9]+)~0\|([a-z_0-9]+)~1\|\+"
                       r"\|([a-z_0-9]+)~0\|([a-z_0-9]+)~1\|([a-z_0-9]+)~2\|$")


def arch_str_to_dict(arch_str: str) -> dict[str, str]:
    """``'|nor_conv_3x3~0|+|...|'`` -> ``{'0_1': 'conv_3x3', ...}``. Raises ``ValueError`` when malformed."""
    match = _ARCH_STR.match(arch_str) if isinstance(arch_str, str) else None
    if not match:
        raise ValueError(f"malformed NAS-Bench-201 arch string {shown(arch_str)}; expected "
                         "'|op~0|+|op~0|op~1|+|op~0|op~1|op~2|'")
    arch = {}
    for edge, op in zip(EDGES, match.groups()):
        if op not in ORIGINAL_TO_OP:
            raise ValueError(f"unknown op {shown(op)} in arch string; expected one of {sorted(ORIGINAL_TO_OP)}")
        arch[edge] = ORIGINAL_TO_OP[op]
    return arch


def validate_arch_dict(arch: dict) -> dict[str, str]:
    """Check a 6-edge dict (any key order) and return it in canonical edge order."""
    if not isinstance(arch, dict) or set(arch) != set(EDGES):
        keys = ", ".join(map(shown, islice(arch, 8))) if isinstance(arch, dict) else shown(arch)
        raise ValueError(f"arch dict must have exactly the keys {sorted(EDGES)}, got {keys or 'none'}")
    for edge, op in arch.items():
        if not isinstance(op, str) or op not in PRIMITIVES:
            raise ValueError(f"unknown op {shown(op)} on edge {edge}; expected one of {PRIMITIVES}")
    return {edge: arch[edge] for edge in EDGES}


def dict_to_arch_str(arch: dict) -> str:
    """``{'0_1': 'conv_3x3', ...}`` -> ``'|nor_conv_3x3~0|+|...|'``."""
    ops = [OP_TO_ORIGINAL[op] for op in validate_arch_dict(arch).values()]
    return f"|{ops[0]}~0|+|{ops[1]}~0|{ops[2]}~1|+|{ops[3]}~0|{ops[4]}~1|{ops[5]}~2|"


def arch_json(arch: dict) -> str:
    """The stored JSON text of an arch dict: sorted keys, minified (what NNI's JSONField stores)."""
    return json.dumps(validate_arch_dict(arch), sort_keys=True, separators=(",", ":"))
