"""The shape every benchmark declares once, in ``nasbenchmark/<benchmark>/descriptor.py``.

A ``Benchmark`` lists its tables (columns with SQL type, unit, description, NNI's name, the range a
converter accepts), keys and indexes, canned queries (one parameter idiom for all benchmarks), its
search space and the site's views. Everything else is derived from it: the SQL schema the converters
execute (``Table.create_sql``), the peewee models (``nasbenchmark.models``), Datasette's metadata,
the site's column docs and page data, the API docs and the README tables.

This module only describes; it imports nothing but the standard library.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Iterable

from .errors import shown

# --- Tables ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column. ``type`` is the SQL type as NNI's tables declare it (INTEGER, REAL, TEXT, JSON,
    VARCHAR(n)); ``valid`` the closed range of numbers a converter may store (None: any)."""

    name: str
    type: str
    description: str
    unit: str = ""
    not_null: bool = False
    #: ``"table.column"`` this column references (a foreign key).
    references: str | None = None
    #: The peewee attribute when it differs from the column (NNI's ``config`` for ``config_id``).
    field: str | None = None
    #: The peewee backref of a foreign key (NNI's ``trial_stats``, ``intermediates``).
    backref: str | None = None
    valid: tuple[float, float] | None = None
    #: How NNI's table differs for this column, shown in the docs.
    nni_note: str = ""

    @property
    def doc(self) -> str:
        """The description with its unit, as Datasette and the site show it."""
        return f"{self.description}, in {self.unit}" if self.unit else self.description

    @property
    def is_number(self) -> bool:
        return self.type in ("INTEGER", "REAL")

    def check(self, value) -> str | None:
        """Why ``value`` cannot be stored in this column, or None. Used by every converter."""
        if value is None:
            return "missing" if self.not_null else None
        if not self.is_number:
            return None if isinstance(value, str) else f"expected text, got {type(value).__name__}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"expected a number, got {type(value).__name__} {shown(value)}"
        if self.type == "INTEGER" and not isinstance(value, int):
            return f"expected an integer, got {shown(value)}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"expected a finite number, got {value}"
        if self.valid and not self.valid[0] <= value <= self.valid[1]:
            low, high = self.valid
            return f"{shown(value)} is outside {low:g}..{high:g}" + (f" {self.unit}" if self.unit else "")
        return None


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]
    unique: bool = False


@dataclass(frozen=True)
class Table:
    """One table of a benchmark DB (``site_only`` tables exist only in the site's browser DB)."""

    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    without_rowid: bool = False
    indexes: tuple[Index, ...] = ()
    #: The peewee model's class name (None: no model), and NNI's released name when it differs.
    model: str | None = None
    nni_model: str | None = None
    #: ``INSERT INTO <table> SELECT ...`` that fills a table derived from the others.
    fill_sql: str | None = None
    #: A handful of rows: a query may read all of it (others must be reached by index).
    small: bool = False
    #: Columns of the full-text index (sqlite-utils FTS5), e.g. an architecture's spellings.
    search: tuple[str, ...] = ()
    facets: tuple[str, ...] = ()
    label_column: str | None = None
    sort_desc: str | None = None
    site_only: bool = False

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def create_sql(self) -> str:
        lines = []
        for column in self.columns:
            line = f"    {column.name} {column.type}"
            if column.not_null:
                line += " NOT NULL"
            if self.primary_key == (column.name,) and not self.without_rowid:
                line += " PRIMARY KEY"
            if column.references:
                table, target = column.references.split(".")
                line += f" REFERENCES {table} ({target})"
            lines.append(line)
        if self.primary_key and (self.without_rowid or len(self.primary_key) > 1):
            lines.append(f"    PRIMARY KEY ({', '.join(self.primary_key)})")
        suffix = " WITHOUT ROWID" if self.without_rowid else ""
        return f"CREATE TABLE {self.name} (\n" + ",\n".join(lines) + f"\n){suffix}"

    def index_sql(self) -> list[str]:
        return [f"CREATE {'UNIQUE ' if index.unique else ''}INDEX {index.name} ON {self.name} "
                f"({', '.join(index.columns)})" for index in self.indexes]

    def insert_sql(self) -> str:
        return f"INSERT INTO {self.name} VALUES ({', '.join('?' * len(self.columns))})"

    def check_row(self, row: Iterable) -> list[tuple[str, str]]:
        """(column, problem) for every value of ``row`` (in column order) that cannot be stored."""
        problems = []
        for column, value in zip(self.columns, row):
            problem = column.check(value)
            if problem:
                problems.append((column.name, problem))
        return problems


# --- Canned queries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """A canned-query parameter. Blank means ``default``; ``choices`` or ``integer`` (a closed range)
    restrict it, otherwise any text is passed on and the query itself resolves it.

    ``absent`` names a list in the DB's ``absent`` metadata (``{"columns": [...], "dataset": [...]}``,
    written by converters of partial sources): a value on that list stops the query with a message
    saying this DB does not hold it, and a default on it is replaced by the first choice the DB holds.
    """

    name: str
    default: str
    choices: tuple[str, ...] = ()
    integer: tuple[int, int] | None = None
    absent: str | None = None

    @property
    def expected(self) -> str:
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.integer:
            return f"an integer {self.integer[0]}..{self.integer[1]}"
        return "any text"

    def default_for(self, absent: dict | None = None) -> str:
        missing = {str(v) for v in (absent or {}).get(self.absent, ())} if self.absent else set()
        if self.default not in missing:
            return self.default
        return next((c for c in self.choices if c not in missing), self.default)

    def problem(self, value: str | None, absent: dict | None = None) -> str | None:
        """Why ``value`` (as a form sends it) is not accepted, or None: the same rule as the SQL."""
        text = (str(value) if value is not None else "").strip() or self.default_for(absent)
        if self.choices and text not in self.choices:
            return f'{self.name} must be {self.expected}; got "{text}"'
        if self.integer:
            low, high = self.integer
            if not text.isdigit() or not low <= int(text) <= high:
                return f'{self.name} must be {self.expected}; got "{text}"'
        if self.absent and text in {str(v) for v in (absent or {}).get(self.absent, ())}:
            return f'{self.name} = "{text}": {_ABSENT_TEXT}'
        return None

    def condition_sql(self) -> str | None:
        """SQL that is true when the text column ``raw.<name>`` is accepted (None: always)."""
        if self.choices:
            return f"{self.name} in ({', '.join(sql_text(c) for c in self.choices)})"
        if self.integer:
            return (f"{self.name} <> '' and {self.name} not glob '*[^0-9]*' and "
                    f"cast({self.name} as integer) between {self.integer[0]} and {self.integer[1]}")
        return None

    def value_sql(self) -> str:
        return f"cast({self.name} as integer)" if self.integer else self.name

    def absent_list_sql(self) -> str:
        return (f"(select value from json_each(coalesce((select value from metadata where key = 'absent'), '{{}}'), "
                f"'$.{self.absent}'))")

    def default_sql(self) -> str:
        if not self.absent:
            return sql_text(self.default)
        ordered = [self.default] + [c for c in self.choices if c != self.default]
        listed = sql_text("[" + ", ".join(f'"{c}"' for c in ordered) + "]")
        return (f"coalesce((select value from json_each({listed}) where value not in {self.absent_list_sql()} "
                f"order by key limit 1), {sql_text(self.default)})")


#: What a stop says of a value the DB does not hold (a partial source).
_ABSENT_TEXT = "this DB does not hold it (a partial source; its metadata table lists what is absent)"


def sql_text(text: str) -> str:
    """``text`` as an SQL string literal (for constants a descriptor writes, never for user values)."""
    return "'" + text.replace("'", "''") + "'"


#: SQLite has no RAISE() outside triggers. A malformed JSON path aborts a statement with our text in
#: the message, portably down to the SQLite 3.35 inside the site's sql.js; the site and Datasette show
#: the text alone (``stop_message``).
_STOP_PREFIX = "JSON path error near '"


def stop_sql(message_sql: str) -> str:
    """SQL that stops the statement with the text ``message_sql`` evaluates to."""
    return f"json_extract('{{}}', {message_sql})"


def stop_message(error: str) -> str:
    """The text a ``stop_sql`` put into an SQLite error message, or the message unchanged. SQLite quotes
    the path in its message as an SQL literal, so its doubled single quotes are undone."""
    start = error.find(_STOP_PREFIX)
    if start < 0 or not error.endswith("'"):
        return error
    return error[start + len(_STOP_PREFIX):-1].replace("''", "'")


def stop_with(text: str) -> str:
    """SQL that stops the statement with a fixed message."""
    return stop_sql(sql_text(text))


def present_table_sql(table: str, message: str) -> str:
    """A one-row CTE body (``select ... as ok``) that stops with ``message`` when the DB's ``absent``
    metadata lists ``table`` (a partial source that has none of its rows); join it where the table is read."""
    listed = ("select 1 from json_each(coalesce((select value from metadata where key = 'absent'), '{}'), "
              f"'$.tables') where value = {sql_text(table)}")
    return f"select case when exists ({listed}) then {stop_with(message)} else 1 end as ok"


def per_choice_sql(param: Param, branch: str) -> str:
    """One UNION ALL branch per choice of ``param``, so that each branch reads its own index; ``branch`` holds
    ``{<param's name>}`` (the choice) and ``{chosen}`` (SQL that is true in the chosen choice's branch only)."""
    return "\nunion all\n".join(
        "select * from (" + branch.format(**{param.name: choice},
                                          chosen=f"(select {param.name} from params) = '{choice}'") + ")"
        for choice in param.choices)


def histogram_sql(values: str, column: str) -> str:
    """The end of a histogram query: ``params.bins`` equal-width bins of ``column`` over the rows of the CTE
    ``values``, from its lowest to its highest value, empty bins included (``bin``, ``bin_start``, ``bin_end``,
    ``archs``). A body starts ``with <values> as (...),`` and ends with this."""
    return f"""bounds as (
  select min({column}) as low, max({column}) as high from {values}
),
bins(bin) as (
  select 0 union all select bin + 1 from bins where bin + 1 < (select bins from params)
),
counts as (
  select case when b.high > b.low then min(cast((m.{column} - b.low) * p.bins / (b.high - b.low) as integer),
                                          p.bins - 1)
              else 0 end as bin,
         count(*) as archs
  from {values} m cross join bounds b cross join params p
  where m.{column} is not null
  group by 1
)
select n.bin, b.low + n.bin * (b.high - b.low) / p.bins as bin_start,
       b.low + (n.bin + 1) * (b.high - b.low) / p.bins as bin_end, coalesce(k.archs, 0) as archs
from bins n
cross join bounds b
cross join params p
left join counts k on k.bin = n.bin
where b.low is not null
order by n.bin"""


@dataclass(frozen=True)
class CannedQuery:
    """A named query with checked parameters, run as it is by Datasette, the site and ``up``.

    ``body`` reads parameter values only from the one-row ``params`` table (``cross join params p``,
    ``(select k from params)``), which ``sql`` defines before it: blank values become the defaults and
    any bad value stops the query with one message naming every bad parameter. A body that starts with
    ``with`` continues that WITH clause. Values are bound, never formatted in. ``params`` is
    MATERIALIZED (SQLite 3.35+): read once, not re-checked for every row that reads it.
    """

    name: str
    title: str
    description: str
    body: str
    params: tuple[Param, ...] = ()
    #: The site's default chart: {"type": "bar"|"line"|"scatter", "x": column, "y": column[, "series"]}.
    chart: dict[str, str] | None = None

    @property
    def defaults(self) -> dict[str, str]:
        return {p.name: p.default for p in self.params}

    def defaults_for(self, absent: dict | None) -> dict[str, str]:
        """The defaults on a DB whose metadata lists ``absent`` values (what a blank form field means there)."""
        return {p.name: p.default_for(absent) for p in self.params}

    @property
    def choices(self) -> dict[str, tuple[str, ...]]:
        return {p.name: p.choices for p in self.params if p.choices}

    def stop_text(self, values: dict[str, str | None], absent: dict | None = None) -> str | None:
        """The message ``sql`` stops with for these form values, or None when they are accepted."""
        problems = [problem for p in self.params if (problem := p.problem(values.get(p.name), absent))]
        return " ".join(f"{problem}." for problem in problems) or None

    @property
    def sql(self) -> str:
        body = self.body.strip()
        if not self.params:
            return body
        raw = ",\n    ".join(f"coalesce(nullif(trim(:{p.name}), ''), {p.default_sql()}) as {p.name}"
                             for p in self.params)
        problems = []
        for p in self.params:
            condition = p.condition_sql()
            expected = p.expected.replace("'", "''")
            if condition:
                problems.append(f"case when {condition} then '' "
                                f"else '{p.name} must be {expected}; got \"' || {p.name} || '\". ' end")
            if p.absent:
                problems.append(f"case when {p.value_sql()} in {p.absent_list_sql()} "
                                f"then '{p.name} = \"' || {p.name} || '\": {_ABSENT_TEXT}. ' else '' end")
        values = ",\n    ".join(
            f"case when problem = '' then {p.value_sql()} else {stop_sql('rtrim(problem)')} end as {p.name}"
            for p in self.params)
        head = (f"with raw as (\n  select\n    {raw}\n),\n"
                f"checked as (\n  select *, {' || '.join(problems) or chr(39) * 2} as problem from raw\n),\n"
                f"params as materialized (\n  select\n    {values}\n  from checked\n)")
        if re.match(r"with\b", body, re.I):
            return head + ",\n" + body[4:].lstrip()
        return head + "\n" + body


# --- The site's views -----------------------------------------------------------------------------


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
    """A paginated, filterable table. Sorting is offered on ``sorts`` only (column -> the index that
    serves it, None: the table's own key order), so a page never sorts a whole table."""

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
    """Whole-space scatter: one row per architecture. ``sql`` holds ``{x}`` and ``{y}``; each (x, y)
    pair has its own narrow covering index so the whole space stays a small read."""

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
class DesignerSpec:
    """The cell designer ``#/-/designer``: draw or edit a cell in the browser, see what makes it invalid as
    you edit, and look it up; the URL holds the cell, so a designed cell is a link.

    ``js_module`` is ``templates/static/js/bench/<name>.js``, the editor: it reads the cell from the URL's
    parameters and writes it back, draws it for editing, lists its problems and gives its lookup key (e.g.
    the canonical hash). ``lookup_sql`` binds ``:key`` and returns the architecture page's id as ``id``; the
    page then shows ``ArchSpec.results_sql`` for it. ``help`` is shown above the editor."""

    js_module: str
    lookup_sql: str
    help: str = ""


@dataclass(frozen=True)
class ViewBudget:
    """A view of the site and the most bytes it may fetch on a full-scale DB (``benchmarks/site_bytes.py``).

    ``route`` is the page's hash route (after ``#/``), ``counter``
    the ``data-query`` name of the query-stats line to read (None: every query of the page)."""

    label: str
    route: str
    counter: str | None
    budget_bytes: int | None = None


@dataclass(frozen=True)
class SiteViews:
    """What the static site shows beyond the canned queries and the SQL console.

    ``tables`` are added to the browser DB only (derived summaries and covering indexes that keep each
    view within its byte budget); every statement a view runs is declared here, where the tests can
    ``EXPLAIN QUERY PLAN`` it.
    """

    tables: tuple[Table, ...] = ()
    browse: tuple[BrowseSpec, ...] = ()
    scatter: ScatterSpec | None = None
    arch: ArchSpec | None = None
    #: ``templates/static/js/bench/<name>.js``: what only this benchmark draws (its cell).
    js_module: str | None = None
    example_sql: str = ""
    #: Views measured by ``benchmarks/site_bytes.py`` on a full-scale DB, with their byte budgets.
    budgets: tuple[ViewBudget, ...] = ()
    #: Covering indexes the browser DB adds to the benchmark's own tables: table name -> indexes.
    indexes: dict[str, tuple[Index, ...]] = field(default_factory=dict)
    designer: DesignerSpec | None = None

    def statements(self, tables_by_name: dict[str, Table]) -> list[str]:
        """The SQL that turns a copy of the benchmark DB into the browser DB: site tables, fills, indexes."""
        statements = []
        for table in self.tables:
            statements.append(table.create_sql())
            if table.fill_sql:
                statements.append(table.fill_sql)
            statements += table.index_sql()
        for name, indexes in self.indexes.items():
            extra = Table(name, "", tables_by_name[name].columns, indexes=indexes)
            statements += extra.index_sql()
        return statements


# --- The benchmark --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchSpace:
    """Facts about the architectures, shown on the site and handed to its JavaScript as page data.
    ``size``: how many architectures the space has (None where the release samples a continuous space)."""

    size: int | None
    #: How an architecture is spelled and what it means (trusted HTML written by us, never DB values).
    prose_html: str
    #: Named lists the page's cell module reads (ops, edges, ...): one source for Python and JS.
    constants: dict = field(default_factory=dict)
    #: Shown as tables on the benchmark page: title -> rows of (value, note).
    facts: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Builder:
    """A function that writes this benchmark's DB to the path it is given: ``"module:function"`` in
    ``generators/`` (named, never imported, by the helper), and one line saying what it builds."""

    function: str
    what: str  # printed before building, e.g. "real: the light files of the nas-bench-graph wheel"

    def build(self, path):
        import importlib

        module, name = self.function.split(":")
        return getattr(importlib.import_module(module), name)(path)


@dataclass(frozen=True)
class Source:
    """One file of an original release (or a prebuilt DB) and how to get and check it.

    ``sha256`` is the published checksum, or one computed from a copy whose provenance ``note`` gives;
    ``name_md5_suffix`` is the fragment some releases put in their file names (the md5's last hex digits).
    ``available`` is False when the host is gone; ``note`` then names what still works."""

    name: str
    url: str | None
    size: int | None = None
    sha256: str | None = None
    name_md5_suffix: str | None = None
    license: str = ""
    available: bool = True
    note: str = ""
    #: "release" (converted by ``generate``), "package" (a PyPI wheel holding release files) or
    #: "nni-db" (NNI's prebuilt DB, adopted as it is).
    kind: str = "release"


@dataclass(frozen=True)
class Example:
    """A canned query ``up`` prints on the embedded default DB."""

    title: str
    query: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Benchmark:
    key: str  # short name used in URLs and the CLI: "nb201", "nbgraph"
    db_filename: str
    title: str
    description: str
    license: str
    license_url: str
    source: str
    source_url: str
    citation: str
    generate_command: str  # the CLI command that builds the DB, shown in errors and docs
    tables: tuple[Table, ...]
    queries: tuple[CannedQuery, ...]
    space: SearchSpace
    site: SiteViews = SiteViews()
    #: What ``nasbenchmark up`` builds when the DB is missing (the embedded default).
    embedded: Builder | None = None
    #: A labelled synthetic sample from the fixture writer, for the tests and ``up --sample``; None
    #: when the embedded default is real and complete enough to test every view.
    sample: Builder | None = None
    #: A DB at the release's scale (real data, or a full-scale fixture) for ``benchmarks/`` figures.
    full_scale: Builder | None = None
    examples: tuple[Example, ...] = ()
    #: SQL counting the architectures with results (a sample lists the space but evaluates a few).
    evaluated_archs_sql: str | None = None
    #: The original release files and prebuilt DBs: where to get them, their size and checksum.
    sources: tuple[Source, ...] = ()

    def table(self, name: str) -> Table:
        for table in (*self.tables, *self.site.tables):
            if table.name == name:
                return table
        raise KeyError(f"{self.key} has no table {name!r}")

    def query(self, name: str) -> CannedQuery:
        for query in self.queries:
            if query.name == name:
                return query
        raise KeyError(f"{self.key} has no canned query {name!r}; it has {', '.join(q.name for q in self.queries)}")

    def site_statements(self) -> list[str]:
        """The SQL that turns a copy of this benchmark's DB into the site's browser DB."""
        return self.site.statements({table.name: table for table in self.tables})

    @property
    def arch_table(self) -> Table:
        """The table with one row per architecture (the first table)."""
        return self.tables[0]
