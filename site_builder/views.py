"""What the page's JavaScript reads about a benchmark (its page data), derived from the descriptor.

A benchmark whose descriptor declares no browse views still gets a plain browser over its tables:
sortable on indexed columns, filterable on the declared facets (``generic_browse``).
"""
from __future__ import annotations

import sqlite3
from dataclasses import asdict

from nasbenchmark.descriptor import Benchmark, BrowseSpec, ChoiceFilter, Table


def _indexed_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """Columns that lead an index (or are the integer primary key): the ones a page may sort on."""
    leading = []
    for column in conn.execute(f'pragma table_info("{table}")'):
        if column[5] == 1 and column[2].upper() == "INTEGER":
            leading.append(column[1])
    for index in conn.execute(f'pragma index_list("{table}")'):
        first = conn.execute(f'pragma index_info("{index[1]}")').fetchone()
        if first and first[2] and first[2] not in leading:
            leading.append(first[2])
    return leading


def _facet_choices(conn: sqlite3.Connection, table: str, column: str, limit: int = 60) -> list:
    """Distinct values of a facet column (computed at build time, so the page need not scan)."""
    rows = conn.execute(f'select distinct "{column}" from "{table}" order by 1 limit ?', (limit + 1,)).fetchall()
    return [row[0] for row in rows] if len(rows) <= limit else []


def generic_browse(bench: Benchmark, conn: sqlite3.Connection) -> tuple[BrowseSpec, ...]:
    """A plain browser for each table that exists in the DB: sort on indexed columns, filter on facets."""
    existing = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
    specs = []
    for table in bench.tables:
        sortable = _indexed_columns(conn, table.name) if table.name in existing else []
        if not sortable:
            continue
        filters = []
        for column in table.facets:
            values = _facet_choices(conn, table.name, column)
            if values:
                filters.append(ChoiceFilter(column, column, f'"{column}" = :{column}', tuple((str(v), v) for v in values)))
        specs.append(BrowseSpec(
            table=table.name, title=table.description, columns=tuple(table.column_names),
            sorts={column: None for column in sortable}, default_sort=sortable[0], default_desc=False,
            filters=tuple(filters)))
    return tuple(specs)


def browse_specs(bench: Benchmark, conn: sqlite3.Connection) -> tuple[BrowseSpec, ...]:
    return bench.site.browse or generic_browse(bench, conn)


def column_docs(bench: Benchmark) -> dict[str, dict]:
    """``name -> {description, unit}`` for result-table headers: site tables first, then the benchmark's."""
    docs: dict[str, dict] = {}
    for table in (*bench.site.tables, *bench.tables):
        for column in table.columns:
            docs.setdefault(column.name, {"description": column.description, "unit": column.unit})
    return docs


def documented_tables(bench: Benchmark) -> tuple[Table, ...]:
    return (*bench.tables, *bench.site.tables)


def page_spec(bench: Benchmark, browse: tuple[BrowseSpec, ...]) -> dict:
    """The views the page's JavaScript renders (JSON-serialisable)."""
    site = bench.site
    return {
        "browse": [asdict(spec) for spec in browse],
        "scatter": asdict(site.scatter) if site.scatter else None,
        "arch": asdict(site.arch) if site.arch else None,
        "js_module": site.js_module,
        "example_sql": site.example_sql or f"select * from {bench.arch_table.name} limit 10",
        "space": bench.space.constants,
        "space_size": bench.space.size,
    }


def queries_spec(bench: Benchmark) -> list[dict]:
    """The canned queries as the page runs them: full SQL, defaults, choices, chart."""
    return [{"name": q.name, "title": q.title, "description": q.description, "sql": q.sql, "params": q.defaults,
             "choices": q.choices, "chart": q.chart} for q in bench.queries]
