"""How NAS-Bench-101 values are stored compactly, and the SQL that reads them back as NNI's columns.

Two encodings keep the 5 M runs and 10 M per-epoch rows of the release under 1 GB (NNI's layout takes
1.9 GB), without losing a bit:

* **float32 bits.** The release's accuracies and training times are float32 values (widened to double
  in the protobuf). Each is stored as its 32 IEEE-754 bits in a 4-byte INTEGER (``*_f32`` columns)
  instead of an 8-byte REAL; SQLite computes NNI's column from it on every read (a virtual generated
  column). The value read is exactly NNI's: an accuracy ``a`` reads as the double ``a * 100``, which is
  exact because a float32 mantissa times 100 needs at most 31 bits.
* **the cell code.** A cell is stored as one integer below 2**31 (4 bytes): bit ``i + j(j-1)/2`` for the
  edge i -> j (the bit order of nasbench's ``generate_graphs.py``), plus ``2**21`` times the inner vertices'
  ops as base-4 digits, vertex 1 least significant, each its op's label plus 1 (0: no such vertex, so the
  code alone gives the vertex count). SQLite builds NNI's arch dict and the stored spelling from it on read
  (``arch_json_sql``...) instead of storing ~200 bytes per config.
"""
from __future__ import annotations

import dataclasses
import struct
from typing import Sequence

from ..descriptor import Column, Table
from .constants import AVAILABLE_OPS, INPUT, MAX_VERTICES, OUTPUT

#: Where the op digits start in a cell code: after the 21 edge bits of a 7-vertex cell.
OPS_SHIFT = MAX_VERTICES * (MAX_VERTICES - 1) // 2
_FLOAT32 = struct.Struct("<f")
_BITS = struct.Struct("<I")
#: Smallest positive float32 the decoding SQL reads back exactly: ``1 << (150 - exponent)`` must stay
#: below 2**63. Accuracies are at least 1/10,000 and times are seconds, so real values are far above it.
MIN_POSITIVE = 2.0 ** -39
#: Largest float32 exponent the decoding handles (values below 2**24, i.e. 194 days of training).
MAX_VALUE = 2.0 ** 24


_GENERATED = " GENERATED ALWAYS AS ("


def computed(column: Column, expression: str) -> Column:
    """``column`` as SQLite computes it from the row's stored columns on every read (a VIRTUAL generated
    column): it takes no space, and NNI's models and every query read it like any other column."""
    return dataclasses.replace(column, type=f"{column.type}{_GENERATED}{expression}) VIRTUAL")


def is_computed(column: Column) -> bool:
    return _GENERATED in column.type


def sql_type(column: Column) -> str:
    """The declared type of a column, computed or stored: ``REAL``, ``INTEGER``, ``JSON``..."""
    return column.type.split(_GENERATED, 1)[0]


def stored_columns(table: Table) -> list[Column]:
    """The columns a converter writes (the computed ones are read only)."""
    return [column for column in table.columns if not is_computed(column)]


def loading_schema(table: Table) -> tuple[str, list[str]]:
    """``(CREATE TABLE of the stored columns, ALTER TABLE statements adding the computed ones)``.

    A converter creates the table, inserts and then adds the computed columns (they must come last): an
    INSERT into a table with computed columns computes them all, which doubles its cost (measured)."""
    computed_columns = [column for column in table.columns if is_computed(column)]
    if table.columns[len(table.columns) - len(computed_columns):] != tuple(computed_columns):
        raise ValueError(f"{table.name}: the computed columns must come after the stored ones")
    create = dataclasses.replace(table, columns=tuple(stored_columns(table))).create_sql()
    return create, [f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.type}" for column in computed_columns]


def edge_bit(source: int, target: int) -> int:
    """The bit of the edge ``source -> target`` (source < target) in a cell code."""
    return source + target * (target - 1) // 2


def float32_problem(value: float) -> str | None:
    """Why ``value`` cannot be stored as float32 bits (None when it can), for converters' messages."""
    if not 0.0 <= value < MAX_VALUE:
        return f"{value!r} is outside 0..2**24"
    if 0.0 < value < MIN_POSITIVE:
        return f"{value!r} is too small to be a stored value"
    if _FLOAT32.unpack(_FLOAT32.pack(value))[0] != value:
        return f"{value!r} is not a float32 value (the release stores float32 accuracies and times)"
    return None


def float32_bits(value: float) -> int:
    """The IEEE-754 bits of a float32 ``value`` (check it with ``float32_problem`` first)."""
    return _BITS.unpack(_FLOAT32.pack(value))[0]


def float32_value(bits: int) -> float:
    """The value of float32 ``bits``, as Python reads the release (for tests and documentation)."""
    return _FLOAT32.unpack(_BITS.pack(bits))[0]


def float32_sql(column: str, scale: int = 1) -> str:
    """SQL reading the float32 bits in ``column`` as their value times ``scale``, exactly.

    A positive float32 is ``mantissa * 2**(exponent - 150)`` with the implicit bit in the mantissa; the
    product with ``scale`` is an exact integer and the division by a power of two is exact, so the double
    equals Python's ``value * scale``. NULL stays NULL. Works in SQLite 3.35 (no math functions)."""
    scaled = f"((({column} & 8388607) | 8388608) * {scale})" if scale != 1 else f"(({column} & 8388607) | 8388608)"
    return (f"CASE WHEN {column} = 0 THEN 0.0 "
            f"ELSE {scaled} * 1.0 / (1 << (150 - ({column} >> 23))) END")


def cell_code(matrix: Sequence[Sequence[int]], ops: Sequence[str]) -> int:
    """The cell code of a valid, pruned spec (nasbench's ``(matrix, ops)``)."""
    vertices = len(matrix)
    code = 0
    for target in range(1, vertices):
        for source in range(target):
            if matrix[source][target]:
                code |= 1 << edge_bit(source, target)
    digits = 0
    for vertex in range(vertices - 2, 0, -1):
        digits = digits * 4 + AVAILABLE_OPS.index(ops[vertex]) + 1
    return code | digits << OPS_SHIFT


def decode_cell(code: int) -> tuple[list[list[int]], list[str]]:
    """``(matrix, ops)`` of a cell code (the inverse of ``cell_code``)."""
    digits = code >> OPS_SHIFT
    inner = []
    while digits:
        digits, digit = divmod(digits, 4)
        inner.append(AVAILABLE_OPS[digit - 1])
    size = len(inner) + 2
    matrix = [[(code >> edge_bit(i, j)) & 1 if i < j else 0 for j in range(size)] for i in range(size)]
    return matrix, [INPUT, *inner, OUTPUT]


def _inputs_sql(code: str, target: int) -> str:
    """JSON text of vertex ``target``'s sorted predecessors, e.g. ``[0,3,4]``."""
    listed = " || ".join(f"(CASE WHEN ({code} >> {edge_bit(source, target)}) & 1 THEN '{source},' ELSE '' END)"
                         for source in range(target))
    return f"('[' || rtrim({listed}, ',') || ']')"


def op_digit_sql(code: str, vertex: int) -> str:
    """SQL of inner vertex ``vertex``'s digit in a cell code: its op's label plus 1, 0 if there is none."""
    return f"((({code} >> {OPS_SHIFT}) >> {2 * (vertex - 1)}) & 3)"


def _op_sql(code: str, vertex: int) -> str:
    return f"(CASE {op_digit_sql(code, vertex)} " + " ".join(
        f"WHEN {label + 1} THEN '{op}'" for label, op in enumerate(AVAILABLE_OPS)) + " END)"


def arch_json_sql(num_vertices: str = "num_vertices", code: str = "cell") -> str:
    """SQL building NNI's arch dict of a cell as minified JSON with sorted keys (``input1``.. then
    ``op1``..), the very text NNI's ``JSONField`` stores, from the row's vertex count and cell code."""
    parts = []
    for target in range(1, MAX_VERTICES):
        entry = f"'\"input{target}\":' || {_inputs_sql(code, target)}"
        parts.append(entry if target == 1 else f"(CASE WHEN {num_vertices} > {target} THEN ',' || {entry} ELSE '' END)")
    for vertex in range(1, MAX_VERTICES - 1):
        parts.append(f"(CASE WHEN {num_vertices} > {vertex + 1} THEN ',\"op{vertex}\":\"' || {_op_sql(code, vertex)} "
                     f"|| '\"' ELSE '' END)")
    return "'{' || " + " || ".join(parts) + " || '}'"


def adjacency_sql(num_vertices: str = "num_vertices", code: str = "cell") -> str:
    """SQL writing a cell's adjacency matrix as the release stores it: V*V digits, row by row."""
    branches = []
    for size in range(2, MAX_VERTICES + 1):
        digits = [f"(({code} >> {edge_bit(i, j)}) & 1)" if i < j else "'0'" for i in range(size) for j in range(size)]
        branches.append(f"WHEN {size} THEN " + " || ".join(digits))
    return f"(CASE {num_vertices} " + " ".join(branches) + " END)"


def ops_sql(num_vertices: str = "num_vertices", code: str = "cell") -> str:
    """SQL writing a cell's ops as the release stores them: comma-separated, input first, output last."""
    inner = [f"(CASE WHEN {num_vertices} > {vertex + 1} THEN {_op_sql(code, vertex)} || ',' ELSE '' END)"
             for vertex in range(1, MAX_VERTICES - 1)]
    return f"('{INPUT},' || " + " || ".join(inner) + f" || '{OUTPUT}')"


def cell_counts(ops: Sequence[str]) -> tuple[int, ...]:
    """How many inner vertices have each op of ``AVAILABLE_OPS``."""
    return tuple(ops.count(op) for op in AVAILABLE_OPS)

