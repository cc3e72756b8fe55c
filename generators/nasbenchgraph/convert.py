"""Write ``nasbenchgraph.db`` from the release's ``.bench`` files, atomically."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterable

from generators.checksums import check_inputs
from generators.common import InputError, add_search_index, atomic_database, write_metadata
from generators.common.output import check_output_path
from nasbenchmark import database
from nasbenchmark.nasbenchgraph.constants import DATASET_METRIC, DATASET_OPS, DB_FILENAME, OP_INDEX
from nasbenchmark.nasbenchgraph.descriptor import ARCH_TABLE, BENCHMARK, DATASET_TABLE, RESULT_TABLE
from nasbenchmark.nasbenchgraph.graph_util import decode_key, format_arch_str, link_index
from nasbenchmark.schema_sql import schema_statements

from .inputs import installed_light_dir, installed_version, resolve_inputs
from .reader import read_bench


def convert(inputs: str | Path | Iterable[str | Path] | None = None, output_path: str | Path | None = None,
            progress: bool = True, force: bool = False) -> dict:
    """Convert ``.bench`` files to one SQLite DB; returns a summary (datasets, row counts, seconds).

    ``inputs``: None for the installed ``nas-bench-graph`` package, else files/folders (see
    ``resolve_inputs``). ``output_path`` defaults to ``$NASBENCHMARK_DIR/nasbenchgraph.db``.
    Every file is read and checked before anything is written; bad input raises ``InputError``
    and leaves an existing DB untouched. A known release file whose checksum differs is refused
    unless ``force`` (then the metadata says so).
    """
    from tqdm import tqdm

    started = time.perf_counter()
    files = resolve_inputs(inputs)
    checked = check_inputs(files.values(), BENCHMARK.key, force)
    # Before reading the files: a bad --output fails in a moment, not after every file is read.
    output = check_output_path(output_path or database.database_path(DB_FILENAME), files.values())
    results = {dataset: read_bench(path, dataset)
               for dataset, path in tqdm(files.items(), desc="nbgraph: reading", unit="file", disable=not progress)}
    keys = sorted({row[1] for rows in results.values() for row in rows})
    schema = schema_statements(BENCHMARK)
    with atomic_database(output, inputs=files.values()) as conn:
        for statement in schema.tables:
            conn.execute(statement)
        conn.executemany(ARCH_TABLE.insert_sql(), (_arch_row(key) for key in keys))
        conn.executemany(DATASET_TABLE.insert_sql(),
                         ((dataset, len(rows), len(DATASET_OPS[dataset]), json.dumps(DATASET_OPS[dataset]),
                           DATASET_METRIC[dataset]) for dataset, rows in results.items()))
        for rows in results.values():
            conn.executemany(RESULT_TABLE.insert_sql(), rows)
        for statement in schema.indexes:
            conn.execute(statement)
        add_search_index(conn, BENCHMARK.key)
        write_metadata(conn, benchmark=BENCHMARK.key, sources=list(files.values()), synthetic=False,
                       datasets=",".join(results), **_package_metadata(files), **checked)
    return {"datasets": {dataset: len(rows) for dataset, rows in results.items()},
            "architectures": len(keys), "results": sum(len(rows) for rows in results.values()),
            "seconds": round(time.perf_counter() - started, 2)}


def convert_installed(output_path: str | Path) -> dict:
    """The embedded default: every light file of the installed ``nas-bench-graph`` wheel."""
    return convert(None, output_path, progress=True)


def _arch_row(key: int) -> tuple:
    link, ops = decode_key(key)
    return (key, format_arch_str(link, ops), link_index(link), json.dumps(list(link), separators=(",", ":")),
            *ops, *(OP_INDEX[op] for op in ops))


def _package_metadata(files: dict[str, Path]) -> dict[str, str]:
    """Name the installed package version when the files are the installed package's."""
    try:
        light = installed_light_dir().resolve()
    except InputError:  # not installed: the files came from elsewhere
        return {}
    if all(path.resolve().parent == light for path in files.values()):
        return {"source_package": f"nas-bench-graph {installed_version()}"}
    return {}
