"""NAS-Bench-101 converter at the release's scale: conversion time, memory, DB size, lookup latency.

    python benchmarks/nb101_convert.py [--models 423624] [--work DIR] [--lookups 1000]

Writes (or reuses from ``--work``) a ``nasbench_full``-shaped fixture of all 423,624 models x 4 budgets x 3
runs (about 2 GB, like the release; ``benchmarks/nb101_read.py`` writes the same file), converts it in a
fresh process (wall and CPU time, peak RSS of the writer process and of its reader child), prints the DB's
size per table, and times ``query_nb101_computed_stats`` by hash, by NNI's dict of the stored spelling and
by an unpruned isomorphic spelling (vertices renumbered, plus a vertex that pruning drops).
Issue 12's budget: <= 5 min, <= 2 GB peak, DB <= 1 GB, lookup p50 <= 1 ms. NNI: ~70 min, 1.9 GB.
"""
from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nb101_read import build_fixture  # noqa: E402

from generators.fixtures.nb101 import SPACE_SIZE  # noqa: E402

_MEASURED_CONVERSION = """
import json, resource, sys, time
from generators.nasbench101 import convert
began = time.perf_counter()
summary = convert(sys.argv[1], sys.argv[2], progress=False, synthetic=True)
wall = time.perf_counter() - began
usage = {who: resource.getrusage(which) for who, which in
         (("writer", resource.RUSAGE_SELF), ("reader", resource.RUSAGE_CHILDREN))}
print(json.dumps({"wall": wall, "summary": str(summary),
                  **{f"{who}_cpu": u.ru_utime + u.ru_stime for who, u in usage.items()},
                  **{f"{who}_rss_mb": u.ru_maxrss / 1024 for who, u in usage.items()}}))
"""


def convert_measured(fixture: Path, db: Path) -> None:
    repo = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", _MEASURED_CONVERSION, str(fixture), str(db)], cwd=repo,
                          capture_output=True, text=True)
    if done.returncode:
        sys.exit(done.stderr[-3000:])
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"convert: {figures['summary']}")
    print(f"convert: {figures['wall']:.0f} s wall ({figures['wall'] / 60:.1f} min; NNI's db_gen: ~70 min); CPU "
          f"{figures['writer_cpu']:.0f} s writer + {figures['reader_cpu']:.0f} s reader child, in parallel")
    together = figures["writer_rss_mb"] + figures["reader_rss_mb"]
    print(f"memory: peak RSS {figures['writer_rss_mb']:.0f} MB writer, {figures['reader_rss_mb']:.0f} MB reader, "
          f"{together:.0f} MB together")


def db_size(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        tables = conn.execute("select name, sum(pgsize) from dbstat group by name order by 2 desc").fetchall()
    print(f"size: {db.stat().st_size / 1e9:.3f} GB (NNI's DB: ~1.9 GB); " + ", ".join(
        f"{name} {size / 1e6:.0f} MB" for name, size in tables if size > 1e6))


def _isomorphic_unpruned(matrix: list[list[int]], ops: list[str], rng: random.Random) -> tuple[list, list]:
    """The cell with its inner vertices in another topological order, plus a vertex no path reaches the
    output from (fed by the input only): nasbench prunes it, so the model is the same."""
    size = len(matrix)
    placed, order = {0}, [0]
    while len(order) < size - 1:
        ready = [v for v in range(1, size - 1) if v not in placed and all(u in placed for u in range(size)
                                                                          if matrix[u][v])]
        vertex = rng.choice(ready)
        placed.add(vertex)
        order.append(vertex)
    order += [size]  # the dangling vertex, numbered just before the output
    order.append(size - 1)
    position = {old: new for new, old in enumerate(order)}
    grown = [[0] * (size + 1) for _ in range(size + 1)]
    for i in range(size):
        for j in range(size):
            if matrix[i][j]:
                grown[position[i]][position[j]] = 1
    grown[0][position[size]] = 1
    new_ops = [None] * (size + 1)
    for old, new in position.items():
        new_ops[new] = ops[old] if old < size else "maxpool3x3"
    return grown, new_ops


def _p50_p99(samples: list[float]) -> str:
    ordered = sorted(samples)
    return f"p50 {statistics.median(ordered):.3f} ms  p99 {ordered[int(len(ordered) * 0.99)]:.3f} ms"


def lookup_latency(db: Path, lookups: int) -> None:
    from nasbenchmark import database
    from nasbenchmark.nasbench101 import bind, query_nb101_computed_stats
    from nasbenchmark.nasbench101.storage import decode_cell

    database.close_all()
    bind(db)
    rng = random.Random(0)
    with sqlite3.connect(db) as conn:
        models = conn.execute("select hash, arch, cell from nb101arch where arch_id % 97 = 0").fetchall()
    chosen = rng.sample(models, min(lookups, len(models)))
    spellings = {
        "by hash": [model_hash for model_hash, _, _ in chosen],
        "by NNI's dict (stored spelling)": [json.loads(arch) for _, arch, _ in chosen],
        "by an unpruned isomorphic spelling": [_isomorphic_unpruned(*decode_cell(code), rng) for _, _, code in chosen],
    }
    for arch in spellings["by hash"][:50]:  # a running service has the index pages cached
        list(query_nb101_computed_stats(arch, 108))
    for label, cases in spellings.items():
        samples = []
        for arch in cases:
            began = time.perf_counter()
            rows = list(query_nb101_computed_stats(arch, 108))
            samples.append((time.perf_counter() - began) * 1000)
            assert len(rows) == 3, (label, arch)
        print(f"lookup {label:36} {_p50_p99(samples)}")
    samples = []
    for arch in spellings["by hash"]:
        began = time.perf_counter()
        list(query_nb101_computed_stats(arch, None, include_intermediates=True))
        samples.append((time.perf_counter() - began) * 1000)
    print(f"lookup {'all budgets, with intermediates':36} {_p50_p99(samples)}")
    database.close_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=SPACE_SIZE, help="models in the fixture (default: all)")
    parser.add_argument("--work", type=Path, help="directory for the fixture and the DB (default: a temp dir)")
    parser.add_argument("--lookups", type=int, default=1000, help="queries per latency case")
    args = parser.parse_args()
    if not 1 <= args.models <= SPACE_SIZE:
        parser.error(f"--models must be in 1..{SPACE_SIZE}")
    with tempfile.TemporaryDirectory(prefix="nb101-convert-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        fixture = build_fixture(work, "full", args.models)
        db = work / "nasbench101.db"
        convert_measured(fixture, db)
        db_size(db)
        lookup_latency(db, args.lookups)


if __name__ == "__main__":
    main()
