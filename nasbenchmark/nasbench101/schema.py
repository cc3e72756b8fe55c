"""NAS-Bench-101 peewee models and SQL, derived from ``descriptor.BENCHMARK`` (see there for the tables).

The models read the DB read-only; bind them to another file with ``bind(path)``::

    Nb101MeanStats.select().where(Nb101MeanStats.num_epochs == 108).order_by(Nb101MeanStats.test_acc.desc()).limit(10)
"""
from __future__ import annotations

import peewee

from .. import database
from ..fields import JSONField
from ..models import build_models
from .constants import DB_FILENAME, GENERATE_COMMAND
from .descriptor import BENCHMARK, MEAN_COLUMNS
from .storage import is_computed, sql_type

DATABASE = database.BenchmarkDatabase(DB_FILENAME, GENERATE_COMMAND)
#: Bind the models to another file: ``bind("/path/to/nasbench101.db")`` (read-only).
bind = DATABASE.bind

_MODELS = build_models(BENCHMARK, DATABASE.proxy, __name__)
_FIELDS = {"REAL": peewee.FloatField, "INTEGER": peewee.IntegerField, "JSON": JSONField, "TEXT": peewee.TextField}
# Computed columns get the field of their declared type (``build_models`` knows only plain types).
for _table in BENCHMARK.tables:
    for _column in _table.columns:
        if _table.model and is_computed(_column):
            _MODELS[_table.model]._meta.add_field(
                _column.name, _FIELDS[sql_type(_column)](null=True, help_text=_column.doc))

Nb101Arch = _MODELS["Nb101Arch"]
Nb101RunConfig = _MODELS["Nb101RunConfig"]
Nb101ComputedStats = _MODELS["Nb101ComputedStats"]
Nb101IntermediateStats = _MODELS["Nb101IntermediateStats"]
Nb101MeanStats = _MODELS["Nb101MeanStats"]

# NNI's released names.
Nb101TrialConfig = Nb101RunConfig
Nb101TrialStats = Nb101ComputedStats

#: NNI's columns of nb101trialstats after id and config_id, in NNI's order.
STATS_COLUMNS = ["train_acc", "valid_acc", "test_acc", "parameters", "training_time"]
#: NNI's columns of nb101intermediatestats after id, trial_id and current_epoch.
INTERMEDIATE_COLUMNS = ["train_acc", "valid_acc", "test_acc", "training_time"]

__all__ = ["DATABASE", "bind", "Nb101Arch", "Nb101RunConfig", "Nb101ComputedStats", "Nb101IntermediateStats",
           "Nb101MeanStats", "Nb101TrialConfig", "Nb101TrialStats", "MEAN_COLUMNS", "STATS_COLUMNS",
           "INTERMEDIATE_COLUMNS"]
