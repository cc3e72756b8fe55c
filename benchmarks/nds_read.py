"""NDS reader + row builder at full scale: seconds, throughput and peak memory, without the DB writes.

    python benchmarks/nds_read.py [--scale 1.0] [--work DIR] [--layouts zip folder]

Writes the synthetic release (``generators.fixtures.nds``; at scale 1: 152,624 job records,
15.2 M per-epoch rows) as ``data.zip`` and as its extracted folder, reused from ``--work`` on
later runs. Then, for each layout, one fresh process per phase:

* ``read``: decode every record (``open_release(...).records()``),
* ``read+rows``: decode and ``build_rows`` every record, and number the configurations by
  identity key the way a DB writer must (a dict key -> id), counting the per-epoch rows.

Both phases run with the cyclic GC paused, as the converters do (records hold no cycles).
Peak RSS is the phase process's ``ru_maxrss``. The whole NDS conversion has 5 minutes on the
2-core machine (NNI: about 80 min), so reading must leave most of that to the DB writes.
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

from generators.fixtures import nds as fixture  # noqa: E402

BUDGET_S = 300.0

_PHASE_SCRIPT = """
import gc, json, resource, sys, time
from generators.nds import build_rows, open_release
path, phase = sys.argv[1], sys.argv[2]
gc.disable()
started, cpu = time.perf_counter(), time.process_time()
release = open_release(path)
records = epoch_rows = 0
config_ids = {}
if phase == "read":
    for record in release.records():
        records += 1
else:
    for record in release.records():
        rows = build_rows(record)
        config_ids.setdefault(rows.config.key, len(config_ids) + 1)
        records += 1
        epoch_rows += len(rows.epochs)
print(json.dumps({"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
                  "records": records, "configs": len(config_ids), "epoch_rows": epoch_rows,
                  "bytes": release.total_bytes,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def build_inputs(work: Path, scale: float, seed: int, layouts=("zip", "folder")) -> dict[str, Path]:
    """The release in ``layouts`` (data.zip, its folder), written once per (scale, seed)."""
    tag = f"scale{scale:g}-seed{seed}"
    folder, archive = work / f"nds-{tag}" / "nds_data", work / f"nds-{tag}.zip"
    if "folder" in layouts and not folder.is_dir():
        started = time.perf_counter()
        fixture.write_folder(folder, scale=scale, seed=seed)
        size = sum(path.stat().st_size for path in folder.iterdir())
        print(f"fixture: wrote {folder} ({size / 1e9:.2f} GB) in {time.perf_counter() - started:.0f} s")
    if "zip" in layouts and not archive.is_file():
        started = time.perf_counter()
        fixture.write_zip(archive, scale=scale, seed=seed)
        print(f"fixture: wrote {archive} ({archive.stat().st_size / 1e9:.2f} GB) in "
              f"{time.perf_counter() - started:.0f} s")
    return {layout: path for layout, path in (("folder", folder), ("zip", archive)) if layout in layouts}


def run_phase(path: Path, phase: str) -> dict:
    repo = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", _PHASE_SCRIPT, str(path), phase], cwd=repo,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the real release size (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, help="directory for the fixture (default: a temp dir)")
    parser.add_argument("--layouts", nargs="+", choices=("zip", "folder"), default=["zip", "folder"])
    args = parser.parse_args()
    if not 0 < args.scale <= 1:
        parser.error("--scale must be in (0, 1]")
    records, epochs = fixture.release_size(args.scale)
    print(f"release: {records:,} job records, {epochs:,} per-epoch rows (scale {args.scale:g})")
    with tempfile.TemporaryDirectory(prefix="nds-bench-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        inputs = build_inputs(work, args.scale, args.seed, args.layouts)
        for layout in args.layouts:
            for phase in ("read", "read+rows"):
                result = run_phase(inputs[layout], phase)
                assert result["records"] == records
                line = (f"{layout:6} {phase:9}: {result['seconds']:6.1f} s wall, {result['cpu']:6.1f} s CPU, "
                        f"{result['bytes'] / 2**20 / result['seconds']:5.0f} MiB/s, "
                        f"{result['records'] / result['seconds']:8,.0f} records/s, peak RSS {result['rss_mb']:5.0f} MB")
                if phase == "read+rows":
                    line += (f"; {result['configs']:,} configs, {result['epoch_rows']:,} per-epoch rows; "
                             f"{result['seconds'] / BUDGET_S:.0%} of the 5-min conversion budget "
                             f"({result['cpu'] / BUDGET_S:.0%} in CPU time)")
                print(line, flush=True)


if __name__ == "__main__":
    main()
