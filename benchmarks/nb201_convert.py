"""NAS-Bench-201 converter at full v1_1 scale: conversion time, memory, DB size, lookup latency.

    python benchmarks/nb201_convert.py [--archs 15625] [--work DIR] [--lookups 300]

Writes a legacy-torch .pth fixture with the v1_1 shape (``generators.fixtures.nb201``;
15,625 archs, 12/200 epochs, real seed counts, real sparse per-epoch coverage; reused from
``--work`` on later runs), converts it in a subprocess (peak RSS from ``getrusage``: the parent
process and its reader child), copies the same rows into NNI's table layout (rowid tables and
NNI's indexes) to compare sizes, and times ``query_nb201_computed_stats``. Ratios are against
NNI's own figures: converter 15 s + 0.13 s per arch, lookup 15 ms, with intermediates 295 ms.
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

from generators.fixtures.nb201 import NUM_ARCHS, write_fixture  # noqa: E402

NNI_CONVERT_FIXED_S = 15.0
NNI_CONVERT_PER_ARCH_S = 0.13
NNI_LOOKUP_MS = 15.0
NNI_LOOKUP_INTERMEDIATES_MS = 295.0

#: NNI's tables as peewee creates them (implicit rowid ``id``, FK and ``index=True`` indexes). Metric
#: columns are nullable here because our rows hold NULL where NNI copies another split's value.
NNI_SCHEMA = """
CREATE TABLE nb201trialconfig (id INTEGER NOT NULL PRIMARY KEY, arch JSON NOT NULL, num_epochs INTEGER NOT NULL,
    num_channels INTEGER NOT NULL, num_cells INTEGER NOT NULL, dataset VARCHAR(20) NOT NULL);
CREATE INDEX nb201trialconfig_arch ON nb201trialconfig (arch);
CREATE INDEX nb201trialconfig_num_epochs ON nb201trialconfig (num_epochs);
CREATE INDEX nb201trialconfig_dataset ON nb201trialconfig (dataset);
CREATE TABLE nb201trialstats (id INTEGER NOT NULL PRIMARY KEY, config_id INTEGER NOT NULL, seed INTEGER NOT NULL,
    train_acc REAL, valid_acc REAL, test_acc REAL, ori_test_acc REAL,
    train_loss REAL, valid_loss REAL, test_loss REAL, ori_test_loss REAL, parameters REAL,
    latency REAL, flops REAL, training_time REAL, valid_evaluation_time REAL,
    test_evaluation_time REAL, ori_test_evaluation_time REAL,
    FOREIGN KEY (config_id) REFERENCES nb201trialconfig (id));
CREATE INDEX nb201trialstats_config_id ON nb201trialstats (config_id);
CREATE TABLE nb201intermediatestats (id INTEGER NOT NULL PRIMARY KEY, trial_id INTEGER NOT NULL,
    current_epoch INTEGER NOT NULL, train_acc REAL, valid_acc REAL, test_acc REAL, ori_test_acc REAL,
    train_loss REAL, valid_loss REAL, test_loss REAL, ori_test_loss REAL,
    FOREIGN KEY (trial_id) REFERENCES nb201trialstats (id));
CREATE INDEX nb201intermediatestats_trial_id ON nb201intermediatestats (trial_id);
CREATE INDEX nb201intermediatestats_current_epoch ON nb201intermediatestats (current_epoch);
"""

_CONVERT_SCRIPT = """
import json, resource, sys, time
from generators.nasbench201 import convert
started = time.perf_counter()
summary = convert(sys.argv[1], sys.argv[2], progress=False, synthetic=True)
own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": time.perf_counter() - started, "summary": str(summary),
                  "rss_self_mb": own.ru_maxrss / 1024, "rss_children_mb": children.ru_maxrss / 1024,
                  "cpu_self_s": own.ru_utime + own.ru_stime, "cpu_children_s": children.ru_utime + children.ru_stime}))
"""


def build_fixture(work: Path, num_archs: int) -> Path:
    path = work / f"NAS-Bench-201-synthetic-{num_archs}.pth"
    if path.exists():
        print(f"fixture: reusing {path} ({path.stat().st_size / 1e9:.2f} GB)")
        return path
    started = time.perf_counter()
    write_fixture(path, "pth-legacy", num_archs, progress=True)
    print(f"fixture: wrote {path} ({path.stat().st_size / 1e9:.2f} GB, legacy torch pickle) "
          f"in {time.perf_counter() - started:.1f} s")
    return path


def run_conversion(fixture: Path, output: Path, num_archs: int) -> None:
    repo = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", _CONVERT_SCRIPT, str(fixture), str(output)], cwd=repo,
                          capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    nni_seconds = NNI_CONVERT_FIXED_S + NNI_CONVERT_PER_ARCH_S * num_archs
    print(f"convert: {result['summary']}")
    print(f"convert: {result['seconds']:.1f} s wall ({nni_seconds / 60:.1f} min for NNI's converter: "
          f"{nni_seconds / result['seconds']:.0f}x faster); input {fixture.stat().st_size / 1e9:.2f} GB")
    print(f"convert: CPU {result['cpu_self_s']:.0f} s writer process + {result['cpu_children_s']:.0f} s reader child "
          "(running in parallel)")
    print(f"memory: peak RSS {result['rss_self_mb']:.0f} MB (writer process), "
          f"{result['rss_children_mb']:.0f} MB (reader child), "
          f"{result['rss_self_mb'] + result['rss_children_mb']:.0f} MB together "
          f"({(result['rss_self_mb'] + result['rss_children_mb']) * 2**20 / fixture.stat().st_size:.0%} of the input)")


def nni_layout_size(db: Path, work: Path) -> int:
    """Bytes of the same rows in NNI's layout, loaded the way NNI loads them (indexes present)."""
    nni = work / "nni-layout.db"
    nni.unlink(missing_ok=True)
    conn = sqlite3.connect(nni, isolation_level=None)
    conn.execute("pragma journal_mode = off")
    conn.execute("pragma synchronous = off")
    conn.executescript(NNI_SCHEMA)
    conn.execute("attach database ? as ours", (str(db),))
    conn.execute("begin")
    conn.execute("insert into nb201trialconfig select id, arch, num_epochs, num_channels, num_cells, dataset "
                 "from ours.nb201trialconfig order by id")
    conn.execute("insert into nb201trialstats select * from ours.nb201trialstats order by id")
    conn.execute("insert into nb201intermediatestats select id, trial_id, current_epoch, train_acc, valid_acc, "
                 "test_acc, ori_test_acc, train_loss, valid_loss, test_loss, ori_test_loss "
                 "from ours.nb201intermediatestats order by id")
    conn.execute("commit")
    conn.close()
    size = nni.stat().st_size
    nni.unlink()
    return size


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def lookup_latency(db: Path, num_archs: int, lookups: int) -> None:
    from nasbenchmark import database
    from nasbenchmark.nasbench201 import bind, query_nb201_computed_stats

    database.close_all()
    bind(db)
    with sqlite3.connect(db) as conn:
        archs = [json.loads(a) for (a,) in conn.execute("select arch from nb201arch where arch_index < ?",
                                                          (num_archs,))]
    rng = random.Random(0)
    datasets = ["cifar10-valid", "cifar10", "cifar100", "imagenet16-120"]
    cases = {"plain": {}, "include_intermediates=True": {"include_intermediates": True},
             "reduction='mean'": {"reduction": "mean"}}
    for arch in archs[:20]:  # warm the page cache like a running service would be
        list(query_nb201_computed_stats(arch, 200, "cifar100", include_intermediates=True))
    for label, options in cases.items():
        samples = []
        for _ in range(lookups):
            arch, dataset = rng.choice(archs), rng.choice(datasets)
            started = time.perf_counter()
            rows = list(query_nb201_computed_stats(arch, 200, dataset, **options))
            samples.append((time.perf_counter() - started) * 1000)
            assert rows
        p50, p99 = _percentiles(samples)
        nni = NNI_LOOKUP_INTERMEDIATES_MS if options.get("include_intermediates") else NNI_LOOKUP_MS
        print(f"lookup {label:28} p50 {p50:7.3f} ms  p99 {p99:7.3f} ms  (NNI {nni:.0f} ms: {nni / p50:,.0f}x)")
    database.close_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", type=int, default=NUM_ARCHS, help="architectures in the fixture (default: all)")
    parser.add_argument("--work", type=Path, help="directory for the fixture and DBs (default: a temp dir)")
    parser.add_argument("--lookups", type=int, default=300, help="queries per latency case")
    args = parser.parse_args()
    if not 1 <= args.archs <= NUM_ARCHS:
        parser.error(f"--archs must be in 1..{NUM_ARCHS}")
    with tempfile.TemporaryDirectory(prefix="nb201-bench-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        fixture = build_fixture(work, args.archs)
        db = work / "nasbench201.db"
        run_conversion(fixture, db, args.archs)
        ours, nni = db.stat().st_size, nni_layout_size(db, work)
        print(f"size: {ours / 1e9:.3f} GB ours, {nni / 1e9:.3f} GB in NNI's layout ({ours / nni:.0%})")
        lookup_latency(db, args.archs, args.lookups)


if __name__ == "__main__":
    main()
