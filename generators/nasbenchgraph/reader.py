"""Read and check one ``<dataset>.bench`` file of the release (restricted unpickling, no numpy needed)."""
from __future__ import annotations

import functools
from pathlib import Path

from generators.common import InputError
from generators.common.unpickle import restricted_load
from nasbenchmark.nasbenchgraph.constants import DATASET_OPS
from nasbenchmark.nasbenchgraph.descriptor import RESULT_TABLE
from nasbenchmark.nasbenchgraph.graph_util import Arch, arch_key, decode_key

#: The only globals the release's pickles use: numpy float64 scalars.
ALLOWED_GLOBALS = [("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"), ("numpy", "dtype")]
#: Our column -> the release's field name, in nbgraphresult's column order.
RELEASE_FIELDS = {"valid_perf": "valid_perf", "test_perf": "perf", "latency": "latency", "parameters": "para"}
_FIELDS = sorted(RELEASE_FIELDS.values())

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
        rows.append((dataset, key, *(_value(record, column, field, where) for column, field in RELEASE_FIELDS.items())))
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


def _value(record: dict, column: str, field: str, where: str) -> float:
    """The release's ``field`` checked against our ``column``'s declared range (descriptor)."""
    value = record[field]
    problem = RESULT_TABLE.column(column).check(value)
    if problem:
        raise InputError(f"{where}: {field}: {problem}; not an original release file")
    return float(value)
