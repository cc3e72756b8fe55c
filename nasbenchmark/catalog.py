"""One source for each benchmark's documentation: columns, canned queries, licence.

Every benchmark package defines ``catalog.CATALOG`` with these types. The Datasette
``metadata.yml`` and the static site are both generated from it, so a column description
or a canned query is written once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import database


def sql_text(text: str) -> str:
    """``text`` as an SQL string literal (for constants the catalog writes, never for user values)."""
    return "'" + text.replace("'", "''") + "'"


def choice_check(value_sql: str, allowed) -> tuple[str, str]:
    """(SQL condition that ``value_sql`` is one of ``allowed``, what an error message says is allowed)."""
    return f"{value_sql} in ({', '.join(sql_text(a) for a in allowed)})", "one of " + ", ".join(allowed)


def integer_check(value_sql: str, low: int, high: int) -> tuple[str, str]:
    """(SQL condition that the text ``value_sql`` is an integer in low..high, what an error message says)."""
    return (f"{value_sql} not glob '*[^0-9]*' and cast({value_sql} as integer) between {low} and {high}",
            f"an integer {low}..{high}")


def sql_error(message: str, value_sql: str) -> str:
    """SQL that stops the query with ``message`` followed by the offending value in quotes.

    SQLite has no RAISE() outside triggers; a malformed JSON path is a portable way (down to the
    SQLite 3.35 of the site's sql.js) to abort a query with our own message, which Datasette shows
    on its error page.
    """
    return "json_extract('{}', " + sql_text(message + '; got "') + f" || {value_sql} || '\"')"


@dataclass(frozen=True)
class Column:
    """One documented column. ``unit`` is shown next to values (percent, seconds, ...)."""

    name: str
    description: str
    unit: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    facets: tuple[str, ...] = ()
    label_column: str | None = None
    sort_desc: str | None = None


@dataclass(frozen=True)
class CannedQuery:
    """A named, parameterised SQL query. Parameters are bound (``:name``), never formatted in.

    ``params`` maps each parameter to its default value (as text, like a form field).
    ``chart`` optionally names the default chart for the site: ``{"type": "scatter", "x": col, "y": col}``
    or ``{"type": "line", "x": col, "y": col, "series": col}`` or ``{"type": "bar", ...}``.
    """

    name: str
    title: str
    description: str
    sql: str
    params: dict[str, str] = field(default_factory=dict)
    chart: dict[str, str] | None = None
    #: The accepted values of parameters that take one of a few (the site offers them as a select).
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class BenchmarkCatalog:
    key: str  # short name used in URLs and the CLI: "nb201", "nbgraph"
    db_filename: str  # "nasbench201.db"
    title: str
    description: str
    license: str
    license_url: str
    source: str
    source_url: str
    generate_command: str  # the CLI command that builds the DB, shown in errors and docs
    tables: tuple[Table, ...]
    queries: tuple[CannedQuery, ...]

    def table(self, name: str) -> Table:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)

    def query(self, name: str) -> CannedQuery:
        for query in self.queries:
            if query.name == name:
                return query
        raise KeyError(name)

    def missing_tables(self, path: Path | str) -> list[str]:
        """Documented tables that the DB at ``path`` lacks: it was written by an older generator."""
        with database.connect_readonly(path) as conn:
            existing = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
        return [table.name for table in self.tables if table.name not in existing]
