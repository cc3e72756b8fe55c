"""Read and check one ``<dataset>.bench`` file of the release (restricted unpickling, no numpy needed)."""
from __future__ import annotations

import functools
import math
from pathlib import Path

from generators.common import InputError
from generators.common.unpickle import restricted_load
from nasbenchmark.nasbenchgraph.constants import DATASET_OPS
from nasbenchmark.nasbenchgraph.graph_util import Arch, arch_key, decode_key
from nasbenchmark.nasbenchgraph.schema import RESULT_COLUMNS

#: The only globals the release's pickles use: numpy float64 scalars.
ALLOWED_GLOBALS = [("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"), ("numpy", "dtype")]
_FIELDS = sorted(RESULT_COLUMNS.values())
#: Fields that are fractions of 1 in the release (a percent file would be a different format).
_FRACTIONS = {"valid_perf", "perf"}

Row = tuple  # (dataset, key, valid_perf, test_perf, latency, parameters)


def read_bench(path: Path, dataset: str) -> list[Row]:
    """Rows ``(dataset, key, valid_perf, test_perf, latency, parameters)`` sorted by key, values unchanged."""
    with open(path, "rb") as file:
        data = restricted_load(file, ALLOWED_GLOBALS, str(path))
        if file.read(1):
            raise InputError(f"{path}: unexpected bytes after the pickle; not an original .bench file")
    if not isinstance(data, dict) or not data:
        raise InputError(f"{path}: expected a non-empty dict of architecture key -> results, got "
                         f"{type(data).__name__}; not a NAS-Bench-Graph light .bench file")
    allowed_ops = set(DATASET_OPS[dataset])
    rows = []
    for key, record in data.items():
        where = f"{path}: key {key!r}"
        if isinstance(key, bool) or not isinstance(key, int):
            raise InputError(f"{where}: keys must be int architecture hashes; not a NAS-Bench-Graph .bench file")
        try:
            arch = _canonical_arch(key)
        except ValueError as exc:
            raise InputError(f"{where}: {exc}; not an original release file") from None
        extra_ops = sorted(set(arch.ops) - allowed_ops)
        if extra_ops:
            raise InputError(f"{where}: uses {extra_ops}, but {dataset} was benchmarked only with "
                             f"{DATASET_OPS[dataset]}; check that the file name matches its dataset")
        if not isinstance(record, dict) or sorted(record) != _FIELDS:
            found = sorted(record) if isinstance(record, dict) else type(record).__name__
            raise InputError(f"{where}: expected a dict with exactly the fields {_FIELDS}, got {found}")
        rows.append((dataset, key, *(_value(record, field, where) for field in RESULT_COLUMNS.values())))
    rows.sort(key=lambda row: row[1])
    return rows


@functools.lru_cache(maxsize=1 << 15)  # the nine files share one key set: check each key once
def _canonical_arch(key: int) -> Arch:
    """The architecture of ``key``; ValueError unless the key decodes and is canonical."""
    arch = decode_key(key)
    canonical = arch_key(*arch)
    if canonical != key:
        raise ValueError(f"not a canonical key (architecture {arch} is stored as {canonical})")
    return arch


def _value(record: dict, field: str, where: str) -> float:
    value = record[field]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{where}: {field} must be a finite number, got {value!r}")
    if value < 0 or (field in _FRACTIONS and value > 1):
        bounds = "0..1 (a fraction)" if field in _FRACTIONS else ">= 0"
        raise InputError(f"{where}: {field} = {value} is outside {bounds}; not an original release file")
    return float(value)
