"""Time every canned query with its defaults on full-size DBs; target: under 100 ms each.

    python benchmarks/canned_queries.py [--dir DIR] [--repeat N]

DBs are built once into DIR (default ``.nasbenchmark/benchmark-dbs``) and reused; delete one to rebuild:
NAS-Bench-201 with the converter's full-scale synthetic fixture (15,625 archs, real row counts),
NAS-Bench-Graph from all nine real ``.bench`` files of the installed ``nas-bench-graph`` package.
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


def _build_nb201(path: Path) -> None:
    from generators.nasbench201.fixtures import build_full_scale_db

    print(build_full_scale_db(path, progress=True))


def _build_nbgraph(path: Path) -> None:
    from generators.nasbenchgraph import convert

    print(convert(None, path, progress=True))


BUILDERS = {"nb201": _build_nb201, "nbgraph": _build_nbgraph}


def _time_ms(conn: sqlite3.Connection, sql: str, params: dict) -> tuple[float, int]:
    started = time.perf_counter()
    rows = conn.execute(sql, params).fetchall()
    return (time.perf_counter() - started) * 1000, len(rows)


def measure(path: Path, catalog, repeat: int) -> list[tuple]:
    uri = f"file:{path}?mode=ro"
    results = []
    for query in catalog.queries:
        with sqlite3.connect(uri, uri=True) as conn:
            first, rows = _time_ms(conn, query.sql, query.params)
            median = statistics.median(_time_ms(conn, query.sql, query.params)[0] for _ in range(repeat))
            scans = full_reads(conn, query.sql, query.params, large_tables(catalog))
        results.append((catalog.key, query.name, rows, first, median, "; ".join(scans) or "index"))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=REPO / ".nasbenchmark" / "benchmark-dbs")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    results = []
    for catalog in registry.catalogs():
        path = args.dir / catalog.db_filename
        if not path.is_file():
            print(f"building {path} ...", flush=True)
            BUILDERS[catalog.key](path)
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            counts = ", ".join(f"{t.name}={conn.execute(f'select count(*) from {t.name}').fetchone()[0]:,}"
                               for t in catalog.tables)
        print(f"{catalog.key}: {path} ({path.stat().st_size / 1e6:,.0f} MB; {counts})")
        results += measure(path, catalog, args.repeat)
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
