"""The ``metadata`` table every generated DB carries, so every view can say what it shows, and the
full-text index over each benchmark's architecture spellings. Both written with sqlite-utils."""
from __future__ import annotations

import datetime
import json
import sqlite3
from pathlib import Path

import sqlite_utils

import nasbenchmark
from nasbenchmark import registry
from nasbenchmark.provenance import METADATA_TABLE, sha256_file

__all__ = ["write_metadata", "sha256_file", "add_search_index"]


def write_metadata(conn: sqlite3.Connection, *, benchmark: str, sources: list[Path], synthetic: bool,
                   partial: str | None = None, absent: dict | None = None, **extra: str) -> None:
    """Create and fill ``metadata(key, value)``: benchmark, sources with sha256, generator version,
    ``synthetic``, and for a real but partial source what it holds (``partial``) and which canned-query
    values it cannot serve (``absent``: ``{"columns": [...], "dataset": [...], ...}``). The number of
    architectures with results (``evaluated_archs``) is counted here, from the rows just written."""
    descriptor = registry.benchmark(benchmark)
    counting = descriptor.evaluated_archs_sql or f"select count(*) from {descriptor.arch_table.name}"
    values = {
        "benchmark": benchmark,
        "synthetic": "true" if synthetic else "false",
        "generator": "nasbenchmark",
        "generator_version": nasbenchmark.__version__,
        "created": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "sources": json.dumps([{"path": Path(p).name, "size": Path(p).stat().st_size, "sha256": sha256_file(p)}
                               for p in sources]),
        "evaluated_archs": str(conn.execute(counting).fetchone()[0]),
        **({"partial": partial} if partial else {}),
        **({"absent": json.dumps(absent, sort_keys=True)} if absent else {}),
        **{k: str(v) for k, v in extra.items()},
    }
    conn.execute(METADATA_TABLE.create_sql())
    sqlite_utils.Database(conn)[METADATA_TABLE.name].insert_all(
        ({"key": key, "value": value} for key, value in sorted(values.items())))


def add_search_index(conn: sqlite3.Connection, benchmark: str) -> None:
    """A full-text index (FTS5) over the declared ``search`` columns of each table, so Datasette's search
    box and the site find architectures by the ops they use (``nor_conv_3x3``, ``gcn``...)."""
    db = sqlite_utils.Database(conn)
    for table in registry.benchmark(benchmark).tables:
        if table.search:
            db[table.name].enable_fts(table.search, tokenize="unicode61 tokenchars '_'")
            db[table.name].populate_fts(table.search)
