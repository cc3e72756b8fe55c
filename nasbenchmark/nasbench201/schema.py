"""NAS-Bench-201 peewee models and SQL, derived from ``descriptor.BENCHMARK`` (see there for the tables).

The models read the DB read-only; bind them to another file with ``bind(path)``::

    Nb201MeanStats.select().where(Nb201MeanStats.dataset == 'cifar100', Nb201MeanStats.num_epochs == 200)
                   .order_by(Nb201MeanStats.test_acc.desc()).limit(10)
"""
from __future__ import annotations

from .. import database
from ..models import build_models
from ..schema_sql import schema_statements
from .constants import DB_FILENAME, GENERATE_COMMAND
from .descriptor import BENCHMARK, INTERMEDIATE_TABLE, MEAN_COLUMNS, MEAN_TABLE, STATS_TABLE

DATABASE = database.BenchmarkDatabase(DB_FILENAME, GENERATE_COMMAND)
#: Bind the models to another file: ``bind("/path/to/nasbench201.db")`` (read-only).
bind = DATABASE.bind

_MODELS = build_models(BENCHMARK, DATABASE.proxy, __name__)
Nb201Arch = _MODELS["Nb201Arch"]
Nb201RunConfig = _MODELS["Nb201RunConfig"]
Nb201ComputedStats = _MODELS["Nb201ComputedStats"]
Nb201IntermediateStats = _MODELS["Nb201IntermediateStats"]
Nb201MeanStats = _MODELS["Nb201MeanStats"]

# NNI's released names.
Nb201TrialConfig = Nb201RunConfig
Nb201TrialStats = Nb201ComputedStats

#: Columns of nb201trialstats after id/config_id/seed, in order.
STATS_COLUMNS = STATS_TABLE.column_names[3:]
#: Metric columns of nb201intermediatestats, in order.
INTERMEDIATE_COLUMNS = INTERMEDIATE_TABLE.column_names[3:]
#: What the converter executes: the tables, then (after loading) the indexes, then ``MEAN_STATS_SQL``.
SCHEMA_SQL = ";\n".join(schema_statements(BENCHMARK).tables + schema_statements(BENCHMARK).indexes) + ";"
MEAN_STATS_SQL = MEAN_TABLE.fill_sql

__all__ = ["DATABASE", "bind", "Nb201Arch", "Nb201RunConfig", "Nb201ComputedStats", "Nb201IntermediateStats",
           "Nb201MeanStats", "Nb201TrialConfig", "Nb201TrialStats", "MEAN_COLUMNS", "STATS_COLUMNS",
           "INTERMEDIATE_COLUMNS", "SCHEMA_SQL", "MEAN_STATS_SQL"]
