"""Datasette metadata and configuration generated from the benchmark descriptors.

Datasette 0.65 reads everything (descriptions, table options, canned queries) from ``metadata.yml``;
1.0 reads table options and queries only from ``datasette.yaml`` and ignores ``queries`` in the
metadata. Both are built here from the same descriptors, so moving to 1.0 needs no new source.
A DB whose data is a synthetic sample or a partial source says so in its title, description and on
the index page (``data_label``, read by our ``templates/index.html``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping

from ..descriptor import Benchmark, CannedQuery, Table
from ..provenance import SYNTHETIC_LABEL, Provenance, read_provenance

#: Server settings (Datasette names). Every canned query runs in well under 100 ms on full-size DBs;
#: the limit is for hand-written SQL, the row cap keeps result pages light in the browser.
SETTINGS = {
    "sql_time_limit_ms": 2000,
    # Whole-space canned queries (every NAS-Bench-Graph architecture of a dataset: 26,206 rows) must
    # come back whole, not cut at Datasette's default of 1,000; table pages still paginate.
    "max_returned_rows": 30000,
    "default_page_size": 100,
    # Suggesting facets runs a count per column on every table page: slow on the per-epoch tables.
    "suggest_facets": False,
}


def database_name(bench: Benchmark) -> str:
    """The name Datasette gives the benchmark's DB (the file name without suffix): ``/nasbench201/...``."""
    return Path(bench.db_filename).stem


def _labelled(text: str, provenance: Provenance) -> str:
    if provenance.synthetic:
        return f"{SYNTHETIC_LABEL}: {text}"
    if provenance.partial:
        return f"Real data, partial ({provenance.partial}): {text}"
    return text


def _table_options(table: Table) -> dict:
    """Display options (0.65 metadata keys; 1.0 moved the same keys to datasette.yaml). Full-text search
    needs none: Datasette finds a table's ``<table>_fts`` index itself and shows its search box."""
    options: dict = {}
    if table.facets:
        options["facets"] = list(table.facets)
    if table.label_column:
        options["label_column"] = table.label_column
    if table.sort_desc:
        options["sort_desc"] = table.sort_desc
    return options


def _query_entry(query: CannedQuery, provenance: Provenance) -> dict:
    defaults = ", ".join(f"{name}={value}" for name, value in query.defaults.items())
    description = query.description + (f" Blank fields use the defaults: {defaults}." if defaults else "")
    return {
        "title": query.title,
        "description": _labelled(description, provenance),
        "sql": query.sql,
        "params": [p.name for p in query.params],
        # The SQL starts with parameter checks; the form and results matter more. "Show SQL" reveals it.
        "hide_sql": True,
    }


def _present(benchmarks: Iterable[Benchmark], db_paths: Mapping[str, Path | str]):
    """(benchmark, provenance) for each benchmark with a DB in ``db_paths`` (keyed by benchmark key)."""
    return [(bench, read_provenance(db_paths[bench.key])) for bench in benchmarks if bench.key in db_paths]


def build_metadata(benchmarks: Iterable[Benchmark], db_paths: Mapping[str, Path | str]) -> dict:
    """Datasette 0.65 metadata for the benchmarks whose DB is in ``db_paths`` ({benchmark key: DB path})."""
    present = _present(benchmarks, db_paths)
    description = ("NAS benchmark results converted from the original releases to SQLite. Every database is "
                   "read-only; canned queries are listed on each database page.")
    synthetic = [database_name(bench) for bench, provenance in present if provenance.synthetic]
    if synthetic:
        description += f" {SYNTHETIC_LABEL}: {', '.join(synthetic)}."
    databases = {}
    for bench, provenance in present:
        databases[database_name(bench)] = {
            "title": _labelled(bench.title, provenance),
            "description": _labelled(bench.description, provenance),
            "data_label": provenance.label,
            "license": bench.license,
            "license_url": bench.license_url,
            "source": bench.source,
            "source_url": bench.source_url,
            "tables": {
                table.name: {"description": table.description,
                             "columns": {column.name: column.doc for column in table.columns},
                             **_table_options(table)}
                for table in bench.tables
            },
            "queries": {query.name: _query_entry(query, provenance) for query in bench.queries},
        }
    return {"title": "NAS benchmarks", "description": description, "databases": databases}


def build_config(benchmarks: Iterable[Benchmark], db_paths: Mapping[str, Path | str]) -> dict:
    """Datasette 1.0 ``datasette.yaml``: settings, table options and queries (used with the metadata file)."""
    databases = {}
    for bench, provenance in _present(benchmarks, db_paths):
        tables = {table.name: _table_options(table) for table in bench.tables if _table_options(table)}
        databases[database_name(bench)] = {"tables": tables, "queries": {
            query.name: _query_entry(query, provenance) for query in bench.queries}}
    return {"settings": dict(SETTINGS), "databases": databases}
