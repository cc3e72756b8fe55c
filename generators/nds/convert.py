"""``convert(input, output)``: the NDS release (``data.zip`` or its folder) -> ``nds.db``, atomically."""
from __future__ import annotations

import math
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from generators.common.gc_pause import gc_paused
from generators.common.output import check_output_path
from generators.checksums import check_inputs
from generators.common import InputError, add_search_index, atomic_database, write_metadata
from nasbenchmark import database
from nasbenchmark.nds.constants import DB_FILENAME
from nasbenchmark.nds.descriptor import BENCHMARK
from nasbenchmark.schema_sql import schema_statements

from .dbwriter import NdsWriter
from .reader import Release, open_release
from .rows import build_rows


@dataclass(frozen=True)
class ConvertSummary:
    input_format: str
    configs: int
    trials: int
    per_epoch_rows: int
    seconds: float

    def __str__(self) -> str:
        return (f"{self.input_format}: {self.configs:,} configurations, {self.trials:,} trials, "
                f"{self.per_epoch_rows:,} per-epoch rows in {self.seconds:.1f} s")


def convert(input_path: Path | str, output_path: Path | str | None = None, progress: bool = True,
            synthetic: bool = False, force: bool = False) -> ConvertSummary:
    """Convert the NDS release at ``input_path`` (``data.zip``, the folder of its 34 JSON files, or a folder
    holding either) into ``output_path`` (default ``$NASBENCHMARK_DIR/nds.db``).

    The output is written atomically: on any error (``InputError`` names the file, the record and the fix)
    nothing is written and an earlier DB at ``output_path`` is unchanged. Input files whose checksum is known
    and differs are refused unless ``force`` (``generators.checksums``; the metadata records them).
    """
    started = time.perf_counter()
    output = check_output_path(output_path or database.database_path(DB_FILENAME), [input_path])
    release = open_release(input_path)
    with gc_paused():  # records hold no reference cycles (10-15 % of the reading time, benchmarks/nds_read.py)
        return _write(release, output, progress, synthetic, force, started)


def _write(release: Release, output: Path, progress: bool, synthetic: bool, force: bool,
           started: float) -> ConvertSummary:
    schema = schema_statements(BENCHMARK)
    input_format = "data.zip" if release.zip_path else "folder of JSON files"
    sources = [release.zip_path] if release.zip_path else [source.path for source in release.sources]
    checksums = check_inputs(sources, BENCHMARK.key, force)
    with atomic_database(output, inputs=[release.path]) as conn:
        writer = NdsWriter(conn, schema)
        with tqdm(total=release.total_bytes, unit="B", unit_scale=True, desc=f"nds {input_format}",
                  disable=not progress) as bar:
            for record in release.records(progress=bar.update):
                writer.add(record, build_rows(record))
        counts = writer.finish()
        if counts.trials == 0:
            raise InputError(f"{release.path}: the 34 files hold no job records; pass the NDS release")
        for statement in schema.indexes:
            conn.execute(statement)
        _ensure_sqrt(conn)
        for statement in schema.fills:
            conn.execute(statement)
        add_search_index(conn, BENCHMARK.key)
        write_metadata(conn, benchmark=BENCHMARK.key, sources=sources, synthetic=synthetic, input_format=input_format,
                       **checksums)
    return ConvertSummary(input_format, counts.configs, counts.trials, counts.epochs, time.perf_counter() - started)


def _ensure_sqrt(conn: sqlite3.Connection) -> None:
    """The seed-mean fill takes square roots; SQLite builds without its math functions get Python's."""
    try:
        conn.execute("select sqrt(4.0)")
    except sqlite3.OperationalError:
        conn.create_function("sqrt", 1, math.sqrt, deterministic=True)
