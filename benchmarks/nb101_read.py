"""NAS-Bench-101 reading at full scale: TFRecord framing + CRCs alone, then every record decoded and checked.

    python benchmarks/nb101_read.py [--models 423624] [--kind full|only108] [--work DIR]

Writes a ``nasbench_<kind>.tfrecord`` fixture (``generators.fixtures.nb101``; all 423,624 models x 4
budgets x 3 repeats is about 2 GB, like the release; reused from ``--work`` on later runs), then in a
fresh process per pass: ``iter_tfrecords`` (framing, both masked CRC-32C checks), and ``read_records``
with ``Completeness`` (JSON, base64, protobuf, every check, each cell hashed once). Prints MB/s,
records/s, CPU time and peak RSS of each pass. The conversion budget of issue 12 is 5 minutes in all.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generators.fixtures.nb101 import SPACE_SIZE, write_fixture  # noqa: E402

_PASS_SCRIPT = """
import json, resource, sys, time
from generators.nasbench101 import Completeness, iter_tfrecords, read_records
path, which = sys.argv[1], sys.argv[2]
started = time.perf_counter()
if which == "framing":
    records = sum(1 for _ in iter_tfrecords(path))
    summary = ""
else:
    completeness = Completeness(path)
    for record in read_records(path):
        completeness.add(record)
    records = completeness.records
    summary = f"{completeness.kind}, {completeness.num_models:,} models; missing: {completeness.missing()}"
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - started, "records": records, "summary": summary,
                  "cpu_s": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}))
"""


def build_fixture(work: Path, kind: str, num_models: int) -> Path:
    path = work / f"nasbench_{kind}-synthetic-{num_models}.tfrecord"
    if path.exists():
        print(f"fixture: reusing {path} ({path.stat().st_size / 1e9:.2f} GB)")
        return path
    started = time.perf_counter()
    write_fixture(path, kind, num_models, progress=True)
    print(f"fixture: wrote {path} ({path.stat().st_size / 1e9:.2f} GB) in {time.perf_counter() - started:.0f} s")
    return path


def run_pass(path: Path, which: str) -> None:
    repo = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", _PASS_SCRIPT, str(path), which], cwd=repo,
                          capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    seconds, size = result["seconds"], path.stat().st_size
    print(f"{which:9} {seconds:6.1f} s wall, {result['cpu_s']:6.1f} s CPU: {size / 1e6 / seconds:6.1f} MB/s, "
          f"{result['records'] / seconds:,.0f} records/s, peak RSS {result['rss_mb']:.0f} MB")
    if result["summary"]:
        print(f"{'':9} {result['summary']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=SPACE_SIZE, help="models in the fixture (default: all)")
    parser.add_argument("--kind", choices=("full", "only108"), default="full")
    parser.add_argument("--work", type=Path, help="directory for the fixture (default: a temp dir)")
    args = parser.parse_args()
    if not 1 <= args.models <= SPACE_SIZE:
        parser.error(f"--models must be in 1..{SPACE_SIZE}")
    with tempfile.TemporaryDirectory(prefix="nb101-bench-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        fixture = build_fixture(work, args.kind, args.models)
        run_pass(fixture, "framing")
        run_pass(fixture, "decoding")


if __name__ == "__main__":
    main()
