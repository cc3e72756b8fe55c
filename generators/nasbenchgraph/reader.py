"""Read and check one ``<dataset>.bench`` file of the release (restricted unpickling, no numpy needed)."""
from __future__ import annotations

import functools
import os
from pathlib import Path

from generators.common import InputError
from generators.common.unpickle import restricted_load
from nasbenchmark.errors import describe
from nasbenchmark.nasbenchgraph.constants import DATASET_OPS
from nasbenchmark.nasbenchgraph.descriptor import RESULT_TABLE
from nasbenchmark.nasbenchgraph.graph_util import Arch, arch_key, decode_key

#: The only globals the release's pickles use: numpy float64 scalars.
ALLOWED_GLOBALS = [("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"), ("numpy", "dtype")]
#: Our column -> the release's field name, in nbgraphresult's column order.
RELEASE_FIELDS = {"valid_perf": "valid_perf", "test_perf": "perf", "latency": "latency", "parameters": "para"}
_FIELDS = sorted(RELEASE_FIELDS.values())
#: Four times the largest light file (2.0 MB): a bigger file is not one, and is not read into memory.
MAX_FILE_BYTES = 8 << 20
#: Memory one file's unpickling may take (a real file needs ~40 MB; a pickle of empty dicts would build
#: ~70 bytes per byte).
_LOAD_MEMORY = 128 << 20
#: Integers beyond this many bits are far outside every column's range, and too long to print.
_MAX_INT_BITS = 64

Row = tuple  # (dataset, key, valid_perf, test_perf, latency, parameters)


def read_bench(path: Path, dataset: str) -> list[Row]:
    """Rows ``(dataset, key, valid_perf, test_perf, latency, parameters)`` sorted by key, values unchanged."""
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise InputError(f"{path}: {size:,} bytes, far more than a light .bench file (at most ~2 MB); "
                                 "not a NAS-Bench-Graph light .bench file")
            data = restricted_load(file, ALLOWED_GLOBALS, str(path), max_memory=_LOAD_MEMORY)
            trailing = file.read(1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc}); check the file and its permissions") from None
    if trailing:
        raise InputError(f"{path}: unexpected bytes after the pickle; not an original .bench file")
    if not isinstance(data, dict) or not data:
        raise InputError(f"{path}: expected a non-empty dict of architecture key -> results, got "
                         f"{type(data).__name__}; not a NAS-Bench-Graph light .bench file")
    allowed_ops = set(DATASET_OPS[dataset])
    rows = []
    for key, record in data.items():
        if isinstance(key, bool) or not isinstance(key, int):
            raise InputError(f"{_at(path, key)}: keys must be int architecture hashes; not a NAS-Bench-Graph "
                             ".bench file")
        try:
            arch = _canonical_arch(key)
        except ValueError as exc:
            raise InputError(f"{_at(path, key)}: {exc}; not an original release file") from None
        extra_ops = sorted(set(arch.ops) - allowed_ops)
        if extra_ops:
            raise InputError(f"{_at(path, key)}: uses {extra_ops}, but {dataset} was benchmarked only with "
                             f"{DATASET_OPS[dataset]}; check that the file name matches its dataset")
        if not isinstance(record, dict) or set(record) != set(_FIELDS):
            found = describe(list(record) if isinstance(record, dict) else record)
            raise InputError(f"{_at(path, key)}: expected a dict with exactly the fields {_FIELDS}, got {found}")
        rows.append((dataset, key, *(_value(record, column, field, path, key)
                                     for column, field in RELEASE_FIELDS.items())))
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


def _at(path: Path, key: object) -> str:
    """Where a problem is, for its message (built only then: a hostile key is slow to describe)."""
    return f"{path}: key {describe(key)}"


def _value(record: dict, column: str, field: str, path: Path, key: int) -> float:
    """The release's ``field`` checked against our ``column``'s declared range (descriptor)."""
    value = record[field]
    # Huge ints and non-numbers are described here, briefly: the descriptor's check prints their repr().
    if type(value) is int and value.bit_length() > _MAX_INT_BITS:
        problem = f"{describe(value)} is far outside any measurement"
    elif type(value) not in (float, int, bool):
        problem = f"expected a number, got {describe(value)}"
    else:
        problem = RESULT_TABLE.column(column).check(value)
    if problem:
        raise InputError(f"{_at(path, key)}: {field}: {problem}; not an original release file")
    return float(value)
