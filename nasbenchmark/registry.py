"""The benchmarks this package knows. Adding a benchmark means adding a subpackage and one line here."""
from __future__ import annotations

import importlib

from .catalog import BenchmarkCatalog

# key -> subpackage; each subpackage has a ``catalog`` module with ``CATALOG``.
BENCHMARK_PACKAGES = {
    "nb201": "nasbenchmark.nasbench201",
    "nbgraph": "nasbenchmark.nasbenchgraph",
}


def catalog(key: str) -> BenchmarkCatalog:
    if key not in BENCHMARK_PACKAGES:
        raise ValueError(f"unknown benchmark {key!r}; expected one of {sorted(BENCHMARK_PACKAGES)}")
    return importlib.import_module(BENCHMARK_PACKAGES[key] + ".catalog").CATALOG


def catalogs() -> list[BenchmarkCatalog]:
    """Every benchmark whose package is present (in registry order)."""
    found = []
    for key in BENCHMARK_PACKAGES:
        try:
            found.append(catalog(key))
        except ModuleNotFoundError:
            continue
    return found
