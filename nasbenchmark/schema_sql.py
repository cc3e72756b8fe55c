"""The SQL a converter executes for a benchmark, derived from its descriptor, in loading order:
tables first, indexes after the bulk inserts (building them once is faster than updating them per
row), then the fills of derived tables (which read through those indexes)."""
from __future__ import annotations

from dataclasses import dataclass

from .descriptor import Benchmark, Table
from .provenance import METADATA_TABLE


@dataclass(frozen=True)
class SchemaStatements:
    tables: list[str]
    indexes: list[str]
    fills: list[str]


def data_tables(benchmark: Benchmark) -> list[Table]:
    """The tables a converter writes rows or fills into (the metadata table is written on its own)."""
    return [table for table in benchmark.tables if not table.site_only and table.name != METADATA_TABLE.name]


def schema_statements(benchmark: Benchmark) -> SchemaStatements:
    tables = data_tables(benchmark)
    return SchemaStatements(
        tables=[table.create_sql() for table in tables],
        indexes=[statement for table in tables for statement in table.index_sql()],
        fills=[table.fill_sql for table in tables if table.fill_sql],
    )
