"""The benchmarks this package knows. Adding a benchmark means adding its folder and one line here.

Each folder has ``descriptor.py`` with ``BENCHMARK`` (see ``nasbenchmark.descriptor``). A folder that
fails to import is an error, never a silently missing benchmark.
"""
from __future__ import annotations

import importlib

from .descriptor import Benchmark

# key -> subpackage
BENCHMARK_PACKAGES = {
    "nb201": "nasbenchmark.nasbench201",
    "nbgraph": "nasbenchmark.nasbenchgraph",
    "nds": "nasbenchmark.nds",
    "nb101": "nasbenchmark.nasbench101",
}


def benchmark(key: str) -> Benchmark:
    """The descriptor of benchmark ``key`` (``"nb201"``...); ``ValueError`` naming the known keys otherwise."""
    if key not in BENCHMARK_PACKAGES:
        raise ValueError(f"unknown benchmark {key!r}; expected one of {', '.join(BENCHMARK_PACKAGES)}")
    return importlib.import_module(BENCHMARK_PACKAGES[key] + ".descriptor").BENCHMARK


def benchmarks() -> list[Benchmark]:
    """Every benchmark, in registry order."""
    return [benchmark(key) for key in BENCHMARK_PACKAGES]
