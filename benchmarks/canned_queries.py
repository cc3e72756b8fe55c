"""Time every canned query with its defaults on full-size DBs; target: under 100 ms each.

    python benchmarks/canned_queries.py [--dir DIR] [--repeat N]

DBs are built once into DIR (default ``.nasbenchmark/benchmark-dbs``) and reused; delete one to rebuild.
Each benchmark's descriptor names its full-scale builder (``Benchmark.full_scale``): real data where it
is installable (NAS-Bench-Graph), a fixture at the release's scale otherwise.
Each query runs on a fresh read-only connection ("first") and then ``repeat`` more times ("median");
"plan" says whether ``EXPLAIN QUERY PLAN`` reads any large table in full.
"""
from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nasbenchmark import registry  # noqa: E402
from nasbenchmark.serving.plans import full_reads, large_tables  # noqa: E402

TARGET_MS = 100


def _time_ms(conn: sqlite3.Connection, sql: str, params: dict) -> tuple[float, int]:
    started = time.perf_counter()
    rows = conn.execute(sql, params).fetchall()
    return (time.perf_counter() - started) * 1000, len(rows)


def measure(path: Path, bench, repeat: int) -> list[tuple]:
    uri = f"file:{path}?mode=ro"
    results = []
    for query in bench.queries:
        with sqlite3.connect(uri, uri=True) as conn:
            first, rows = _time_ms(conn, query.sql, query.defaults)
            median = statistics.median(_time_ms(conn, query.sql, query.defaults)[0] for _ in range(repeat))
            scans = full_reads(conn, query.sql, query.defaults, large_tables(bench))
        results.append((bench.key, query.name, rows, first, median, "; ".join(scans) or "index"))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=REPO / ".nasbenchmark" / "benchmark-dbs")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    results = []
    for bench in registry.benchmarks():
        path = args.dir / bench.db_filename
        if not path.is_file():
            print(f"building {path}: {bench.full_scale.what} ...", flush=True)
            print(bench.full_scale.build(path))
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            counts = ", ".join(f"{t.name}={conn.execute(f'select count(*) from {t.name}').fetchone()[0]:,}"
                               for t in bench.tables)
        print(f"{bench.key}: {path} ({path.stat().st_size / 1e6:,.0f} MB; {counts})")
        results += measure(path, bench, args.repeat)
    print(f"\n{'benchmark':9} {'query':28} {'rows':>6} {'first ms':>9} {'median ms':>9}  plan")
    for key, name, rows, first, median, plan in results:
        flag = "" if median < TARGET_MS else f"  > {TARGET_MS} ms"
        print(f"{key:9} {name:28} {rows:6} {first:9.1f} {median:9.1f}  {plan}{flag}")
    slow = [r for r in results if r[4] >= TARGET_MS or r[5] != "index"]
    print(f"\n{len(results) - len(slow)}/{len(results)} queries under {TARGET_MS} ms (median) reading large tables "
          "by index only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
