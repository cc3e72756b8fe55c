"""What the static site does with each benchmark, beyond the catalog: derived tables and views.

The catalog (``nasbenchmark.catalog``) documents a benchmark's tables and canned queries. A site
adapter adds what the browser needs to stay within its byte budgets: derived tables and covering
indexes written into the browser DB, and the SQL of each interactive view (browse table, scatter,
architecture page, learning curves), which the page runs as given. Every statement the site runs is
therefore declared here, where the tests can ``EXPLAIN QUERY PLAN`` it.

A benchmark without an adapter still gets a page: documentation, canned queries, an SQL console
and a plain browser over its catalog tables (``generic_adapter``).
"""
from __future__ import annotations

import importlib
import sqlite3
from dataclasses import asdict, dataclass, field

from nasbenchmark.catalog import BenchmarkCatalog


@dataclass(frozen=True)
class ChoiceFilter:
    """An equality filter: URL ``?name=label``; ``sql`` binds ``:name`` to the choice's value."""

    name: str
    label: str
    sql: str
    choices: tuple[tuple[str, object], ...]  # (label shown and put in the URL, value bound in SQL)
    required: bool = False  # required filters pick the index prefix: they always have a value
    default: str | None = None


@dataclass(frozen=True)
class RangeFilter:
    """A numeric range: URL ``?column__gte=a&column__lte=b`` (Datasette's spelling)."""

    column: str
    label: str
    unit: str = ""


@dataclass(frozen=True)
class BrowseSpec:
    """A paginated, filterable table. ``sql`` holds ``{columns}``, ``{index}``, ``{filters}``, ``{order}``.

    ``sorts`` maps each sortable column to the index that serves it (``None``: the table's own key
    order); sorting is offered on these columns only, so a page never sorts the whole table.
    """

    table: str
    title: str
    columns: tuple[str, ...]
    sorts: dict[str, str | None]
    default_sort: str
    default_desc: bool
    filters: tuple[ChoiceFilter | RangeFilter, ...] = ()
    tie_breaker: str | None = None
    page_sizes: tuple[int, ...] = (25, 50, 100, 200)
    default_page_size: int = 50
    row_link_column: str | None = None  # link each row to the architecture page by this column

    def sql(self, sort: str, desc: bool, filters_sql: str = "") -> str:
        """The statement for one page (the page builds the same text in JavaScript)."""
        index = self.sorts[sort]
        direction = " desc" if desc else ""
        order = f"{sort}{direction}" + (f", {self.tie_breaker}{direction}" if self.tie_breaker else "")
        return (f"select {', '.join(self.columns)} from {self.table}"
                + (f" indexed by {index}" if index else "")
                + (f" where {filters_sql}" if filters_sql else "")
                + f" order by {order} limit :_limit offset :_offset")


@dataclass(frozen=True)
class ScatterSpec:
    """Whole-space scatter: one row per architecture. ``sql`` holds ``{x}`` and ``{y}``; each
    (x, y) pair has its own narrow covering index so the whole space stays a small read."""

    sql: str
    x_options: tuple[str, ...]
    y_options: tuple[str, ...]
    filters: tuple[ChoiceFilter, ...]
    key_column: str
    default_x: str
    default_y: str
    log_x: bool = True
    colour_sql: str | None = None  # when colouring by a property of the cell needs more columns


@dataclass(frozen=True)
class ArchSpec:
    """The architecture page ``#/<table>/<id>``: its row, its results, optional learning curves."""

    table: str
    key_column: str
    row_sql: str  # :id
    results_sql: str  # :id
    results_columns: tuple[str, ...]
    curves_sql: str | None = None  # :id plus the curve filters' names
    curve_filters: tuple[ChoiceFilter, ...] = ()
    curve_metrics: tuple[str, ...] = ()
    curve_series: str | None = None  # column that splits one architecture's curve (e.g. seed)
    curve_x: str | None = None


@dataclass(frozen=True)
class SiteAdapter:
    key: str
    derived_sql: str = ""  # run on the browser DB after the copy: derived tables and indexes
    derived_tables: tuple = ()  # catalog.Table docs of derived tables
    space_html: str = ""  # trusted HTML written here, never DB values
    constants: dict = field(default_factory=dict)  # shown on the benchmark page (op names, edges, ...)
    browse: tuple[BrowseSpec, ...] = ()
    scatter: ScatterSpec | None = None
    arch: ArchSpec | None = None
    js_module: str | None = None  # static/js/bench/<name>.js: cell drawing and decoding
    example_sql: str = ""  # the SQL console's starting query
    # How many architectures have results (a sample DB may list the whole space but evaluate a few);
    # None: every row of the arch table counts.
    evaluated_archs_sql: str | None = None

    def page_spec(self) -> dict:
        """What the page's JavaScript reads (JSON-serialisable)."""
        return {
            "browse": [asdict(spec) for spec in self.browse],
            "scatter": asdict(self.scatter) if self.scatter else None,
            "arch": asdict(self.arch) if self.arch else None,
            "js_module": self.js_module,
            "example_sql": self.example_sql,
            "constants": self.constants,
        }


def adapter_for(catalog: BenchmarkCatalog, conn: sqlite3.Connection) -> SiteAdapter:
    """The benchmark's own adapter (``site_builder.adapters.<key>``), or the generic one.

    ``conn`` is the source DB, read by the generic adapter to find indexed columns and facets.
    """
    try:
        module = importlib.import_module(f"{__name__}.{catalog.key}")
    except ModuleNotFoundError:
        return generic_adapter(catalog, conn)
    return module.adapter(catalog, conn)


def indexed_columns(conn: sqlite3.Connection, table: str) -> list[str]:
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


def facet_choices(conn: sqlite3.Connection, table: str, column: str, limit: int = 60) -> list:
    """Distinct values of a facet column (computed at build time, so the page need not scan)."""
    rows = conn.execute(f'select distinct "{column}" from "{table}" order by 1 limit ?', (limit + 1,)).fetchall()
    return [row[0] for row in rows] if len(rows) <= limit else []


def generic_browse(catalog: BenchmarkCatalog, conn: sqlite3.Connection) -> tuple[BrowseSpec, ...]:
    """A plain browser for each catalog table that exists in the DB: sort on indexed columns,
    equality filters on the catalog's facets."""
    existing = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
    specs = []
    for table in catalog.tables:
        if table.name not in existing:
            continue
        sortable = indexed_columns(conn, table.name)
        if not sortable:
            continue
        filters = []
        for column in table.facets:
            values = facet_choices(conn, table.name, column)
            if values:
                filters.append(ChoiceFilter(column, column, f'"{column}" = :{column}',
                                            tuple((str(v), v) for v in values)))
        specs.append(BrowseSpec(
            table=table.name, title=table.description, columns=tuple(c.name for c in table.columns),
            sorts={column: None for column in sortable}, default_sort=sortable[0], default_desc=False,
            filters=tuple(filters)))
    return tuple(specs)


def generic_adapter(catalog: BenchmarkCatalog, conn: sqlite3.Connection) -> SiteAdapter:
    first = catalog.tables[0].name if catalog.tables else "metadata"
    return SiteAdapter(key=catalog.key, browse=generic_browse(catalog, conn),
                       example_sql=f"select * from {first} limit 10")


def column_docs(catalog: BenchmarkCatalog, adapter: SiteAdapter) -> dict[str, dict]:
    """``name -> {description, unit}`` for result-table headers: derived tables first, then the catalog."""
    docs: dict[str, dict] = {}
    for table in (*adapter.derived_tables, *catalog.tables):
        for column in table.columns:
            docs.setdefault(column.name, {"description": column.description, "unit": column.unit})
    return docs


__all__ = ["ArchSpec", "BrowseSpec", "ChoiceFilter", "RangeFilter", "ScatterSpec", "SiteAdapter",
           "adapter_for", "column_docs", "generic_adapter", "generic_browse"]
