"""The benchmark DBs the serving and site tests run on: one per registered benchmark, built with its
descriptor's synthetic sample builder, or its embedded default where that is real data (NAS-Bench-Graph:
the installed wheel). ``conftest.served_dir`` builds them once per session; a benchmark that cannot be
built fails the tests that need it."""
from __future__ import annotations

from pathlib import Path

from nasbenchmark import registry
from nasbenchmark.descriptor import Benchmark


def build_all(directory: Path) -> None:
    for bench in registry.benchmarks():
        (bench.sample or bench.embedded).build(directory / bench.db_filename)


def require_db(directory: Path, key: str) -> Benchmark:
    """The descriptor of ``key``, whose DB is in ``directory``."""
    bench = registry.benchmark(key)
    assert (directory / bench.db_filename).is_file(), f"{key}: no DB was built in {directory}"
    return bench
