"""NAS-Bench-Graph peewee models and SQL, derived from ``descriptor.BENCHMARK`` (see there for the tables).

``NbGraphResult.arch`` is the ``NbGraphArch`` row; its raw key is ``.key`` (the column's name).
"""
from __future__ import annotations

from .. import database
from ..models import build_models
from ..schema_sql import schema_statements
from .constants import DB_FILENAME, GENERATE_COMMAND
from .descriptor import BENCHMARK, RESULT_COLUMNS

DATABASE = database.BenchmarkDatabase(DB_FILENAME, GENERATE_COMMAND)
#: Bind the models to another file: ``bind("/path/to/nasbenchgraph.db")`` (read-only).
bind = DATABASE.bind

_MODELS = build_models(BENCHMARK, DATABASE.proxy, __name__)
NbGraphArch = _MODELS["NbGraphArch"]
NbGraphDataset = _MODELS["NbGraphDataset"]
NbGraphResult = _MODELS["NbGraphResult"]

#: What the converter executes: the tables, then (after loading) the indexes.
SCHEMA_SQL = ";\n".join(schema_statements(BENCHMARK).tables + schema_statements(BENCHMARK).indexes) + ";"

__all__ = ["DATABASE", "bind", "NbGraphArch", "NbGraphDataset", "NbGraphResult", "RESULT_COLUMNS", "SCHEMA_SQL"]
