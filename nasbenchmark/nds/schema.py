"""NDS peewee models, derived from ``descriptor.BENCHMARK`` (see there for the tables).

The models read the DB read-only; bind them to another file with ``bind(path)``::

    space = NdsDesignSpace.get(NdsDesignSpace.name == 'ResNeXt-A')
    NdsMeanStats.select().where(NdsMeanStats.space == space).order_by(NdsMeanStats.best_test_acc.desc()).limit(10)
"""
from __future__ import annotations

from .. import database
from ..models import build_models
from .constants import DB_FILENAME, GENERATE_COMMAND
from .descriptor import BENCHMARK, CONFIG_TABLE, INTERMEDIATE_TABLE, STATS_TABLE

DATABASE = database.BenchmarkDatabase(DB_FILENAME, GENERATE_COMMAND)
#: Bind the models to another file: ``bind("/path/to/nds.db")`` (read-only).
bind = DATABASE.bind

_MODELS = build_models(BENCHMARK, DATABASE.proxy, __name__)
NdsRunConfig = _MODELS["NdsRunConfig"]
NdsComputedStats = _MODELS["NdsComputedStats"]
NdsIntermediateStats = _MODELS["NdsIntermediateStats"]
NdsDesignSpace = _MODELS["NdsDesignSpace"]
NdsMeanStats = _MODELS["NdsMeanStats"]

# NNI's released names.
NdsTrialConfig = NdsRunConfig
NdsTrialStats = NdsComputedStats

#: Columns of ndstrialconfig, in order.
CONFIG_COLUMNS = CONFIG_TABLE.column_names
#: Columns of ndstrialstats after id/config_id/seed, in order.
STATS_COLUMNS = STATS_TABLE.column_names[3:]
#: Metric columns of ndsintermediatestats, in order.
INTERMEDIATE_COLUMNS = INTERMEDIATE_TABLE.column_names[3:]

__all__ = ["DATABASE", "bind", "NdsRunConfig", "NdsComputedStats", "NdsIntermediateStats", "NdsDesignSpace",
           "NdsMeanStats", "NdsTrialConfig", "NdsTrialStats", "CONFIG_COLUMNS", "STATS_COLUMNS",
           "INTERMEDIATE_COLUMNS"]
