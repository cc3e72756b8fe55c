"""Which canned queries read a whole large table: ``EXPLAIN QUERY PLAN`` checks.

In the browser (sql.js-httpvfs) a scan of a large table downloads most of the file, and in
Datasette it runs into the time limit, so every canned query must reach large tables by index.
"""
from __future__ import annotations

import re
import sqlite3
from typing import Iterable

from ..descriptor import Benchmark
# Words that can follow a table name but are not an alias.
_KEYWORDS = {"on", "where", "join", "cross", "left", "inner", "natural", "group", "order", "using", "limit",
             "union", "as", "and", "or", "having", "window", "select", "from", "full", "outer", "set", "indexed",
             "not", "except", "intersect"}


def _names(sql: str, tables: Iterable[str]) -> set[str]:
    """The tables and their aliases (query plans name a table by its alias when it has one)."""
    names = set(tables)
    for table in tables:
        for alias in re.findall(rf"\b{re.escape(table)}\b\s+(?:as\s+)?([a-z_][a-z0-9_]*)", sql, re.I):
            if alias.lower() not in _KEYWORDS:
                names.add(alias)
    return names


def full_reads(conn: sqlite3.Connection, sql: str, params: dict, tables: Iterable[str]) -> list[str]:
    """Plan lines that read all of one of ``tables``: a scan, or building an automatic index on it."""
    names = _names(sql, tables)
    found = []
    for *_, detail in conn.execute("explain query plan " + sql, params):
        match = re.match(r"(SCAN|SEARCH) (\S+)", detail)
        if match and match.group(2) in names and (match.group(1) == "SCAN" or "AUTOMATIC" in detail):
            found.append(detail)
    return found


def large_tables(bench: Benchmark) -> set[str]:
    """Tables a query must reach by index: all but those the descriptor marks ``small``."""
    return {table.name for table in (*bench.tables, *bench.site.tables) if not table.small}
