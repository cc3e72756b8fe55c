"""NAS-Bench-201 tables: NNI's three tables (same names and columns) plus ``nb201arch``.

``SCHEMA_SQL`` is what the generator executes; the peewee models below read it. Table and
column names are NNI's, so NNI's own models (``Nb201TrialConfig``...) run on our DB unchanged.
Differences from NNI, all additive or about storage:

* ``nb201arch``: official index, original arch string, arch dict and one column per edge.
* ``nb201trialconfig.arch_index``: the official index of the config's architecture.
* ``nb201intermediatestats`` is a WITHOUT ROWID table keyed ``(trial_id, current_epoch)``:
  one b-tree instead of NNI's table plus two indexes. It still has NNI's ``id`` column.
* ``nb201meanstats`` (ours): the mean over seeds of each config's final accuracies and costs,
  keyed ``(dataset, num_epochs, arch_index)`` so one dataset and budget is one contiguous range:
  whole-space queries (top-k, Pareto fronts, histograms) read ~1.4 MB of it instead of every run,
  which matters most in the browser, where each page read is a range request.
* Values the original files do not contain are NULL, never copied from elsewhere:
  ``valid_*`` on ``cifar10`` (no validation split), epochs missing from sparse
  per-epoch dicts, ``latency`` of -1 ("unavailable"), times absent from v1_0 results.
"""
from __future__ import annotations

import peewee

from .. import database
from ..fields import JSONField
from .constants import DATASETS, DB_FILENAME, GENERATE_COMMAND

_METRICS = ["train_acc", "valid_acc", "test_acc", "ori_test_acc",
            "train_loss", "valid_loss", "test_loss", "ori_test_loss"]
#: Columns of nb201trialstats after id/config_id/seed, in order.
STATS_COLUMNS = _METRICS + ["parameters", "latency", "flops", "training_time",
                            "valid_evaluation_time", "test_evaluation_time", "ori_test_evaluation_time"]
#: Columns of nb201meanstats averaged over seeds: what whole-space queries rank and plot, no more
#: (every column widens the range a whole-dataset query reads).
MEAN_COLUMNS = ["train_acc", "valid_acc", "test_acc", "ori_test_acc", "parameters", "flops", "latency"]
#: Metric columns of nb201intermediatestats, in order.
INTERMEDIATE_COLUMNS = list(_METRICS)

SCHEMA_SQL = f"""
CREATE TABLE nb201arch (
    arch_index INTEGER NOT NULL PRIMARY KEY,
    arch_str TEXT NOT NULL UNIQUE,
    arch JSON NOT NULL UNIQUE,
    op_0_1 TEXT NOT NULL, op_0_2 TEXT NOT NULL, op_1_2 TEXT NOT NULL,
    op_0_3 TEXT NOT NULL, op_1_3 TEXT NOT NULL, op_2_3 TEXT NOT NULL
);
CREATE TABLE nb201trialconfig (
    id INTEGER NOT NULL PRIMARY KEY,
    arch JSON NOT NULL,
    num_epochs INTEGER NOT NULL,
    num_channels INTEGER NOT NULL,
    num_cells INTEGER NOT NULL,
    dataset VARCHAR(20) NOT NULL,
    arch_index INTEGER NOT NULL REFERENCES nb201arch (arch_index)
);
CREATE UNIQUE INDEX nb201trialconfig_arch ON nb201trialconfig (arch, num_epochs, dataset);
CREATE UNIQUE INDEX nb201trialconfig_arch_index ON nb201trialconfig (arch_index, num_epochs, dataset);
CREATE INDEX nb201trialconfig_dataset ON nb201trialconfig (dataset, num_epochs);
CREATE TABLE nb201trialstats (
    id INTEGER NOT NULL PRIMARY KEY,
    config_id INTEGER NOT NULL REFERENCES nb201trialconfig (id),
    seed INTEGER NOT NULL,
    {", ".join(f"{c} REAL" for c in STATS_COLUMNS)}
);
CREATE INDEX nb201trialstats_config_id ON nb201trialstats (config_id);
CREATE TABLE nb201intermediatestats (
    id INTEGER NOT NULL,
    trial_id INTEGER NOT NULL REFERENCES nb201trialstats (id),
    current_epoch INTEGER NOT NULL,
    {", ".join(f"{c} REAL" for c in INTERMEDIATE_COLUMNS)},
    PRIMARY KEY (trial_id, current_epoch)
) WITHOUT ROWID;
CREATE TABLE nb201meanstats (
    dataset VARCHAR(20) NOT NULL,
    num_epochs INTEGER NOT NULL,
    arch_index INTEGER NOT NULL REFERENCES nb201arch (arch_index),
    config_id INTEGER NOT NULL REFERENCES nb201trialconfig (id),
    seeds INTEGER NOT NULL,
    {", ".join(f"{c} REAL" for c in MEAN_COLUMNS)},
    PRIMARY KEY (dataset, num_epochs, arch_index)
) WITHOUT ROWID;
"""

#: Fills ``nb201meanstats`` once the runs are written (the generator runs it after the indexes).
MEAN_STATS_SQL = f"""
INSERT INTO nb201meanstats
SELECT c.dataset, c.num_epochs, c.arch_index, c.id, count(*), {", ".join(f"avg(s.{c})" for c in MEAN_COLUMNS)}
FROM nb201trialconfig c JOIN nb201trialstats s ON s.config_id = c.id
GROUP BY c.id
ORDER BY c.dataset, c.num_epochs, c.arch_index
"""

DATABASE = database.BenchmarkDatabase(DB_FILENAME, GENERATE_COMMAND)
#: Bind the models to another file: ``bind("/path/to/nasbench201.db")`` (read-only).
bind = DATABASE.bind


class _Model(peewee.Model):
    class Meta:
        database = DATABASE.proxy


class Nb201Arch(_Model):
    """One of the 15,625 cells, by its official index."""

    arch_index = peewee.IntegerField(primary_key=True)
    arch_str = peewee.TextField()
    arch = JSONField()
    op_0_1 = peewee.TextField()
    op_0_2 = peewee.TextField()
    op_1_2 = peewee.TextField()
    op_0_3 = peewee.TextField()
    op_1_3 = peewee.TextField()
    op_2_3 = peewee.TextField()

    class Meta:
        table_name = "nb201arch"


class Nb201RunConfig(_Model):
    """One architecture trained with one setup (epochs, dataset). NNI: ``Nb201TrialConfig``.

    Attributes: ``arch`` (6-edge dict), ``num_epochs`` (12 or 200), ``num_channels`` (16),
    ``num_cells`` (5), ``dataset`` (``cifar10-valid``, ``cifar10``, ``cifar100``,
    ``imagenet16-120``), ``arch_index`` (official index, our addition).
    """

    arch = JSONField(index=True)
    num_epochs = peewee.IntegerField(index=True)
    num_channels = peewee.IntegerField()
    num_cells = peewee.IntegerField()
    dataset = peewee.CharField(max_length=20, index=True, choices=DATASETS)
    arch_index = peewee.IntegerField()

    class Meta:
        table_name = "nb201trialconfig"


class Nb201ComputedStats(_Model):
    """Final results of one training run (one seed) of a config. NNI: ``Nb201TrialStats``.

    Accuracies are percent (0-100), losses cross-entropy, ``parameters`` millions,
    ``flops`` MFLOPs, ``latency`` seconds per batch, times seconds.
    """

    config = peewee.ForeignKeyField(Nb201RunConfig, backref="trial_stats", index=True)
    seed = peewee.IntegerField()
    train_acc = peewee.FloatField(null=True)
    valid_acc = peewee.FloatField(null=True)
    test_acc = peewee.FloatField(null=True)
    ori_test_acc = peewee.FloatField(null=True)
    train_loss = peewee.FloatField(null=True)
    valid_loss = peewee.FloatField(null=True)
    test_loss = peewee.FloatField(null=True)
    ori_test_loss = peewee.FloatField(null=True)
    parameters = peewee.FloatField(null=True)
    latency = peewee.FloatField(null=True)
    flops = peewee.FloatField(null=True)
    training_time = peewee.FloatField(null=True)
    valid_evaluation_time = peewee.FloatField(null=True)
    test_evaluation_time = peewee.FloatField(null=True)
    ori_test_evaluation_time = peewee.FloatField(null=True)

    class Meta:
        table_name = "nb201trialstats"


class Nb201IntermediateStats(_Model):
    """Metrics after one epoch (``current_epoch`` is 1-based) of one run; missing values are None."""

    id = peewee.IntegerField()
    trial = peewee.ForeignKeyField(Nb201ComputedStats, backref="intermediates")
    current_epoch = peewee.IntegerField()
    train_acc = peewee.FloatField(null=True)
    valid_acc = peewee.FloatField(null=True)
    test_acc = peewee.FloatField(null=True)
    ori_test_acc = peewee.FloatField(null=True)
    train_loss = peewee.FloatField(null=True)
    valid_loss = peewee.FloatField(null=True)
    test_loss = peewee.FloatField(null=True)
    ori_test_loss = peewee.FloatField(null=True)

    class Meta:
        table_name = "nb201intermediatestats"
        primary_key = peewee.CompositeKey("trial", "current_epoch")


class Nb201MeanStats(_Model):
    """A config's final accuracies and costs, mean over its seeds (our table; no NNI equivalent).

    One row per ``(dataset, num_epochs, arch_index)``, stored in that order, so ranking a whole
    dataset reads one contiguous range::

        Nb201MeanStats.select().where(Nb201MeanStats.dataset == 'cifar100', Nb201MeanStats.num_epochs == 200)
                       .order_by(Nb201MeanStats.test_acc.desc()).limit(10)
    """

    dataset = peewee.CharField(max_length=20, choices=DATASETS)
    num_epochs = peewee.IntegerField()
    arch_index = peewee.IntegerField()
    config = peewee.ForeignKeyField(Nb201RunConfig, backref="mean_stats")
    seeds = peewee.IntegerField()
    train_acc = peewee.FloatField(null=True)
    valid_acc = peewee.FloatField(null=True)
    test_acc = peewee.FloatField(null=True)
    ori_test_acc = peewee.FloatField(null=True)
    parameters = peewee.FloatField(null=True)
    flops = peewee.FloatField(null=True)
    latency = peewee.FloatField(null=True)

    class Meta:
        table_name = "nb201meanstats"
        primary_key = peewee.CompositeKey("dataset", "num_epochs", "arch_index")


# NNI's released names.
Nb201TrialConfig = Nb201RunConfig
Nb201TrialStats = Nb201ComputedStats
