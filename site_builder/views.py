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


def page_spec(bench: Benchmark, browse: tuple[BrowseSpec, ...], absent: dict | None = None) -> dict:
    """The views the page's JavaScript renders (JSON-serialisable), fitted to what the DB holds."""
    site = bench.site
    spec = {
        "browse": [asdict(spec) for spec in browse],
        "scatter": asdict(site.scatter) if site.scatter else None,
        "arch": asdict(site.arch) if site.arch else None,
        "designer": asdict(site.designer) if site.designer else None,
        "js_module": site.js_module,
        "example_sql": site.example_sql or f"select * from {bench.arch_table.name} limit 10",
        "space": bench.space.constants,
        "space_size": bench.space.size,
    }
    return fit_to_data(spec, absent or {})


def _fit_filters(filters: list[dict], columns: set[str], values: dict[str, set[str]]) -> list[dict]:
    fitted = []
    for spec in filters:
        if "column" in spec:  # a range filter
            if spec["column"] not in columns:
                fitted.append(spec)
            continue
        missing = values.get(spec["name"], set())
        spec["choices"] = [choice for choice in spec["choices"] if choice[0] not in missing]
        if spec.get("default") in missing:
            spec["default"] = spec["choices"][0][0] if spec["choices"] else None
        fitted.append(spec)
    return fitted


def _first_present(options: list[str], preferred: str, columns: set[str]) -> str:
    return preferred if preferred not in columns else next((o for o in options if o not in columns), preferred)


def fit_to_data(site: dict, absent: dict) -> dict:
    """The views without what a partial source does not hold (its ``absent`` metadata): no column, sort,
    axis, filter value or learning curve that could only show NULL; defaults move to what the DB has."""
    columns = set(absent.get("columns", ()))
    values = {name: {str(v) for v in found} for name, found in absent.items() if name not in ("columns", "tables")}
    for spec in site["browse"]:
        spec["columns"] = [c for c in spec["columns"] if c not in columns]
        spec["sorts"] = {c: index for c, index in spec["sorts"].items() if c not in columns}
        metrics = [c for c in spec["sorts"] if c not in (spec["tie_breaker"], spec["row_link_column"])]
        spec["default_sort"] = _first_present(metrics or list(spec["sorts"]), spec["default_sort"], columns)
        spec["filters"] = _fit_filters(spec["filters"], columns, values)
    scatter = site["scatter"]
    if scatter:
        scatter["x_options"] = [o for o in scatter["x_options"] if o not in columns]
        scatter["y_options"] = [o for o in scatter["y_options"] if o not in columns]
        scatter["default_x"] = _first_present(scatter["x_options"], scatter["default_x"], columns)
        scatter["default_y"] = _first_present(scatter["y_options"], scatter["default_y"], columns)
        scatter["filters"] = _fit_filters(scatter["filters"], columns, values)
    arch = site["arch"]
    if arch and arch["curves_sql"] and any(table in arch["curves_sql"] for table in absent.get("tables", ())):
        arch["curves_sql"] = None
    return site


def queries_spec(bench: Benchmark, absent: dict | None = None) -> list[dict]:
    """The canned queries as the page runs them: full SQL, defaults (on this DB), choices, chart."""
    return [{"name": q.name, "title": q.title, "description": q.description, "sql": q.sql,
             "params": q.defaults_for(absent), "choices": q.choices, "chart": q.chart} for q in bench.queries]
