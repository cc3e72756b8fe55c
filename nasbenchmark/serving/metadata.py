"""Datasette metadata and configuration generated from the benchmark catalogs.

Datasette 0.65 reads everything (descriptions, table options, canned queries) from ``metadata.yml``;
1.0 reads table options and queries only from ``datasette.yaml`` and ignores ``queries`` in the
metadata. Both are built here from the same catalog data, so moving to 1.0 needs no new source.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping

from .. import database
from ..catalog import BenchmarkCatalog, CannedQuery, Column, Table

SYNTHETIC_LABEL = "SYNTHETIC SAMPLE — not real results"

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


def database_name(catalog: BenchmarkCatalog) -> str:
    """The name Datasette gives the catalog's DB (the file name without suffix): ``/nasbench201/...``."""
    return Path(catalog.db_filename).stem


def is_synthetic(db_path: Path | str) -> bool:
    return database.read_metadata(db_path).get("synthetic") == "true"


def _labelled(text: str, synthetic: bool) -> str:
    return f"{SYNTHETIC_LABEL}: {text}" if synthetic else text


def _column_text(column: Column) -> str:
    return f"{column.description}, in {column.unit}" if column.unit else column.description


def _table_options(table: Table) -> dict:
    """Display options (0.65 metadata keys; 1.0 moved the same keys to datasette.yaml)."""
    options: dict = {}
    if table.facets:
        options["facets"] = list(table.facets)
    if table.label_column:
        options["label_column"] = table.label_column
    if table.sort_desc:
        options["sort_desc"] = table.sort_desc
    return options


def _query_entry(query: CannedQuery, synthetic: bool) -> dict:
    defaults = ", ".join(f"{name}={value}" for name, value in query.params.items())
    description = query.description + (f" Blank fields use the defaults: {defaults}." if defaults else "")
    return {
        "title": query.title,
        "description": _labelled(description, synthetic),
        "sql": query.sql,
        "params": list(query.params),
        # The SQL starts with parameter checks; the form and results matter more. "Show SQL" reveals it.
        "hide_sql": True,
    }


def _queries(catalog: BenchmarkCatalog, synthetic: bool) -> dict:
    return {query.name: _query_entry(query, synthetic) for query in catalog.queries}


def _present(catalogs: Iterable[BenchmarkCatalog], db_paths: Mapping[str, Path | str]):
    """(catalog, synthetic) for each catalog with a DB in ``db_paths`` (keyed by catalog key)."""
    return [(catalog, is_synthetic(db_paths[catalog.key])) for catalog in catalogs if catalog.key in db_paths]


def build_metadata(catalogs: Iterable[BenchmarkCatalog], db_paths: Mapping[str, Path | str]) -> dict:
    """Datasette 0.65 metadata for the catalogs whose DB is in ``db_paths`` ({catalog key: DB path})."""
    present = _present(catalogs, db_paths)
    synthetic_names = [database_name(catalog) for catalog, synthetic in present if synthetic]
    description = ("NAS benchmark results converted from the original releases to SQLite. "
                   "Every database is read-only; canned queries are listed on each database page.")
    if synthetic_names:
        description += f" {SYNTHETIC_LABEL}: {', '.join(synthetic_names)}."
    databases = {}
    for catalog, synthetic in present:
        databases[database_name(catalog)] = {
            "title": _labelled(catalog.title, synthetic),
            "description": _labelled(catalog.description, synthetic),
            "license": catalog.license,
            "license_url": catalog.license_url,
            "source": catalog.source,
            "source_url": catalog.source_url,
            "tables": {
                table.name: {"description": table.description,
                             "columns": {column.name: _column_text(column) for column in table.columns},
                             **_table_options(table)}
                for table in catalog.tables
            },
            "queries": _queries(catalog, synthetic),
        }
    return {"title": "NAS benchmarks", "description": description, "databases": databases}


def build_config(catalogs: Iterable[BenchmarkCatalog], db_paths: Mapping[str, Path | str]) -> dict:
    """Datasette 1.0 ``datasette.yaml``: settings, table options and queries (used with the metadata file)."""
    databases = {}
    for catalog, synthetic in _present(catalogs, db_paths):
        tables = {table.name: _table_options(table) for table in catalog.tables if _table_options(table)}
        databases[database_name(catalog)] = {"tables": tables, "queries": _queries(catalog, synthetic)}
    return {"settings": dict(SETTINGS), "databases": databases}
