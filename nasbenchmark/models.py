"""peewee models derived from a benchmark's descriptor: one class per table that names a ``model``.

Field types follow the declared SQL types (INTEGER, REAL, TEXT, VARCHAR(n), JSON); a column that
references another table becomes a ``ForeignKeyField`` with NNI's attribute and backref names
(``config`` / ``trial_stats``, ``trial`` / ``intermediates``), so NNI-style queries work unchanged.
Each field's ``help_text`` is the column's documentation.
"""
from __future__ import annotations

import re

import peewee

from .descriptor import Benchmark, Column, Table
from .fields import JSONField

_VARCHAR = re.compile(r"VARCHAR\((\d+)\)")


def _plain_field(column: Column, primary_key: bool) -> peewee.Field:
    options = {"null": not column.not_null, "help_text": column.doc}
    if primary_key:
        return peewee.AutoField(help_text=column.doc) if column.name == "id" else peewee.IntegerField(
            primary_key=True, help_text=column.doc)
    if column.type == "INTEGER":
        return peewee.IntegerField(**options)
    if column.type == "REAL":
        return peewee.FloatField(**options)
    if column.type == "JSON":
        return JSONField(**options)
    match = _VARCHAR.fullmatch(column.type)
    if match:
        return peewee.CharField(max_length=int(match.group(1)), **options)
    return peewee.TextField(**options)


def _fields(table: Table, models: dict[str, type]) -> dict[str, peewee.Field]:
    fields = {}
    single_key = table.primary_key[0] if len(table.primary_key) == 1 else None
    for column in table.columns:
        if column.references and column.field:
            target_table, target_column = column.references.split(".")
            target = models[target_table]
            fields[column.field] = peewee.ForeignKeyField(
                target, field=target._meta.columns[target_column].name, column_name=column.name,
                backref=column.backref or "+", null=not column.not_null, help_text=column.doc,
                primary_key=column.name == single_key)
        else:
            fields[column.name] = _plain_field(column, column.name == single_key)
    return fields


def build_models(benchmark: Benchmark, database: peewee.DatabaseProxy, module: str) -> dict[str, type[peewee.Model]]:
    """``{model name: class}`` for every table of ``benchmark`` that names a model, bound to ``database``;
    ``module`` is where the classes are documented (the benchmark's ``schema`` module)."""
    by_table: dict[str, type] = {}
    by_name: dict[str, type] = {}
    for table in benchmark.tables:
        if not table.model:
            continue
        fields = _fields(table, by_table)
        meta = {"database": database, "table_name": table.name, "without_rowid": table.without_rowid}
        if len(table.primary_key) > 1:
            names = {column.name: column.field or column.name for column in table.columns}
            meta["primary_key"] = peewee.CompositeKey(*(names[key] for key in table.primary_key))
        doc = table.description + (f" NNI: ``{table.nni_model}``." if table.nni_model else "")
        model = type(table.model, (peewee.Model,), {**fields, "Meta": type("Meta", (), meta), "__doc__": doc,
                                                     "__module__": module})
        by_table[table.name] = by_name[table.model] = model
    return by_name

