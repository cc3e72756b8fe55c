"""The ``metadata`` table every generated DB carries, so every view can say what it shows."""
from __future__ import annotations

import datetime
import hashlib
import json
import sqlite3
from pathlib import Path

import nasbenchmark


def sha256_file(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_metadata(conn: sqlite3.Connection, *, benchmark: str, sources: list[Path], synthetic: bool,
                   **extra: str) -> None:
    """Create and fill ``metadata(key, value)``: benchmark, sources with sha256, generator version, synthetic."""
    conn.execute("create table metadata (key text not null primary key, value text not null)")
    source_list = [{"path": Path(p).name, "size": Path(p).stat().st_size, "sha256": sha256_file(p)}
                   for p in sources]
    values = {
        "benchmark": benchmark,
        "synthetic": "true" if synthetic else "false",
        "generator": "nasbenchmark",
        "generator_version": nasbenchmark.__version__,
        "created": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "sources": json.dumps(source_list),
        **{k: str(v) for k, v in extra.items()},
    }
    conn.executemany("insert into metadata values (?, ?)", sorted(values.items()))
