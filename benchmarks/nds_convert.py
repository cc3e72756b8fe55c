"""NDS end to end at full scale: conversion time, peak memory and DB size; lookup latency; canned queries.

    python benchmarks/nds_convert.py [--scale 1.0] [--work DIR] [--input PATH] [--layouts folder zip]
                                     [--lookups 300] [--repeat 5]

Writes the synthetic release (``generators.fixtures.nds``; at scale 1: 152,624 job records, 15.2 M per-epoch
rows; reused from ``--work``) or takes ``--input``, converts it in a fresh process per layout (peak RSS is
that process's ``ru_maxrss``), then on the DB:

* ``query_nds_computed_stats`` for ``--lookups`` runs drawn at random, by their full configuration (family,
  proposer, generator, model_spec, cell_spec, dataset): p50 / p99, plain, with intermediates and ``'mean'``;
* every canned query with its defaults, on a fresh read-only connection ("first") and ``--repeat`` more times
  (median), and through Datasette in-process (median of ``--repeat`` requests, as ``nasbenchmark serve``
  configures it).

Targets (issue 13): conversion <= 5 min on the 2-core machine (NNI: about 80 min), DB <= 1 GB (NNI: about
1.6 GB), canned queries < 100 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nds_read import build_inputs  # noqa: E402

from nasbenchmark import registry, serving  # noqa: E402

BUDGET_S = 300.0
BUDGET_BYTES = 1e9
CANNED_TARGET_MS = 100.0

_CONVERT_SCRIPT = """
import json, resource, sys
from generators.nds import convert
summary = convert(sys.argv[1], sys.argv[2], progress=False)
print(json.dumps({"seconds": summary.seconds, "configs": summary.configs, "trials": summary.trials,
                  "epochs": summary.per_epoch_rows,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def convert_in_process(source: Path, output: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", _CONVERT_SCRIPT, str(source), str(output)], cwd=REPO,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"conversion of {source} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def percentiles(times_ms: list[float]) -> str:
    ordered = sorted(times_ms)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):7.2f} ms / p99 {p99:7.2f} ms"


def lookups(db: Path, count: int) -> None:
    from nasbenchmark.nds import bind, query_nds_computed_stats

    bind(db)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        total = conn.execute("select max(id) from ndstrialstats").fetchone()[0]
        picks = random.Random(13).sample(range(1, total + 1), count)
        configs = [conn.execute("select c.model_family, c.proposer, c.generator, c.model_spec, c.cell_spec, c.dataset "
                                "from ndstrialstats s join ndstrialconfig c on c.id = s.config_id where s.id = ?",
                                (trial,)).fetchone() for trial in picks]
    cases = [(family, proposer, generator, json.loads(model), json.loads(cell), dataset)
             for family, proposer, generator, model, cell, dataset in configs]
    for label, options in (("runs", {}), ("runs + intermediates", {"include_intermediates": True}),
                           ("mean + intermediates", {"reduction": "mean", "include_intermediates": True})):
        times = []
        for case in cases:
            started = time.perf_counter()
            rows = list(query_nds_computed_stats(*case, **options))
            times.append((time.perf_counter() - started) * 1000)
            assert rows, case
        print(f"query_nds_computed_stats, {label:22} {percentiles(times)} ({count} configurations)")


def canned_sqlite(db: Path, repeat: int) -> dict[str, tuple[int, float, float]]:
    bench = registry.benchmark("nds")
    results = {}
    for query in bench.queries:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            started = time.perf_counter()
            rows = conn.execute(query.sql, query.defaults).fetchall()
            first = (time.perf_counter() - started) * 1000
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                conn.execute(query.sql, query.defaults).fetchall()
                times.append((time.perf_counter() - started) * 1000)
        results[query.name] = (len(rows), first, statistics.median(times))
    return results


def canned_datasette(db_dir: Path, repeat: int) -> dict[str, float]:
    import yaml
    from datasette.app import Datasette

    bench = registry.benchmark("nds")
    files = serving.write_config(db_dir)
    ds = Datasette(immutables=[str(p) for p in files.databases], metadata=yaml.safe_load(files.metadata.read_text()),
                   inspect_data=json.loads(files.inspect.read_text()), settings=serving.SETTINGS,
                   plugins_dir=str(files.plugins), template_dir=str(serving.server.TEMPLATES_DIR))
    name = serving.database_name(bench)

    async def timed() -> dict[str, float]:
        medians = {}
        for query in bench.queries:
            times = []
            for _ in range(repeat + 1):
                started = time.perf_counter()
                response = await ds.client.get(f"/{name}/{query.name}.json?_shape=array")
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (query.name, response.text[:300])
            medians[query.name] = statistics.median(times[1:])
        return medians

    return asyncio.run(timed())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the real release size (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "nasbenchmark-nds-convert")
    parser.add_argument("--input", type=Path, help="convert this release instead of writing the fixture")
    parser.add_argument("--layouts", nargs="+", choices=("folder", "zip"), default=["folder"])
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    inputs = {"input": args.input} if args.input else build_inputs(args.work, args.scale, args.seed, args.layouts)
    db_dir = args.work / "dbs"
    db_dir.mkdir(exist_ok=True)
    db = db_dir / registry.benchmark("nds").db_filename
    for layout, source in inputs.items():
        result = convert_in_process(source, db)
        size = db.stat().st_size
        print(f"convert {layout:6}: {result['seconds']:6.1f} s ({result['seconds'] / BUDGET_S:.0%} of 5 min), peak RSS "
              f"{result['rss_mb']:,.0f} MB, DB {size / 1e6:,.0f} MB ({size / BUDGET_BYTES:.0%} of 1 GB); "
              f"{result['configs']:,} configurations, {result['trials']:,} trials, {result['epochs']:,} per-epoch rows")
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        try:
            sizes = conn.execute("select name, sum(pgsize) from dbstat group by name order by 2 desc limit 6").fetchall()
            print("largest: " + ", ".join(f"{name} {pages / 1e6:,.0f} MB" for name, pages in sizes))
        except sqlite3.OperationalError:  # an SQLite build without the dbstat table
            pass
    lookups(db, args.lookups)
    through_datasette = canned_datasette(db_dir, args.repeat)
    print(f"\n{'canned query':24} {'rows':>6} {'first ms':>9} {'median ms':>10} {'Datasette ms':>13}")
    for name, (rows, first, median) in canned_sqlite(db, args.repeat).items():
        flag = "" if through_datasette[name] < CANNED_TARGET_MS else f"  > {CANNED_TARGET_MS:.0f} ms"
        print(f"{name:24} {rows:6} {first:9.1f} {median:10.1f} {through_datasette[name]:13.1f}{flag}")


if __name__ == "__main__":
    main()
