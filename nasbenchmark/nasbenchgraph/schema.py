"""NAS-Bench-Graph tables. ``SCHEMA_SQL`` is what the generator executes; the peewee models read it.

* ``nbgrapharch``: one row per architecture key found in the converted files (26,206 for the release):
  the key, a readable arch string, the canonical link (index and list) and the four ops (names and indices).
* ``nbgraphdataset``: one row per converted dataset: how many architectures it has and which ops were
  benchmarked on it. proteins has 2,021 architectures over 5 ops: absent archs are not missing rows.
* ``nbgraphresult``: the four numbers of the release per (dataset, key), values exactly as in the files:
  ``valid_perf`` / ``test_perf`` fractions of 1 (accuracy; proteins presumably ROC-AUC, unverified),
  ``latency`` seconds, ``parameters`` millions. A WITHOUT ROWID table keyed (dataset, key), with
  indexes for lookup by key, top-k by test/valid perf per dataset and perf-vs-cost scatter/Pareto queries.
"""
from __future__ import annotations

import peewee

from .. import database
from ..fields import JSONField
from .constants import DB_FILENAME, GENERATE_COMMAND, NUM_NODES

#: Metric columns of nbgraphresult, in order, with the release's name of each.
RESULT_COLUMNS = {"valid_perf": "valid_perf", "test_perf": "perf", "latency": "latency", "parameters": "para"}

_NODES = range(1, NUM_NODES + 1)

SCHEMA_SQL = f"""
CREATE TABLE nbgrapharch (
    key INTEGER NOT NULL PRIMARY KEY,
    arch_str TEXT NOT NULL UNIQUE,
    link_index INTEGER NOT NULL,
    link JSON NOT NULL,
    {", ".join(f"op_{n} TEXT NOT NULL" for n in _NODES)},
    {", ".join(f"op_index_{n} INTEGER NOT NULL" for n in _NODES)}
);
CREATE TABLE nbgraphdataset (
    dataset TEXT NOT NULL PRIMARY KEY,
    num_archs INTEGER NOT NULL,
    num_ops INTEGER NOT NULL,
    ops JSON NOT NULL,
    metric TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE nbgraphresult (
    dataset TEXT NOT NULL REFERENCES nbgraphdataset (dataset),
    key INTEGER NOT NULL REFERENCES nbgrapharch (key),
    valid_perf REAL NOT NULL,
    test_perf REAL NOT NULL,
    latency REAL NOT NULL,
    parameters REAL NOT NULL,
    PRIMARY KEY (dataset, key)
) WITHOUT ROWID;
-- Secondary indexes of a WITHOUT ROWID table carry the primary key, so each one below also covers key.
CREATE INDEX nbgraphresult_key ON nbgraphresult (key);
CREATE INDEX nbgraphresult_test_perf ON nbgraphresult (dataset, test_perf DESC);
CREATE INDEX nbgraphresult_valid_perf ON nbgraphresult (dataset, valid_perf DESC);
CREATE INDEX nbgraphresult_parameters ON nbgraphresult (dataset, parameters, test_perf DESC);
CREATE INDEX nbgraphresult_latency ON nbgraphresult (dataset, latency, test_perf DESC);
"""

DATABASE = database.BenchmarkDatabase(DB_FILENAME, GENERATE_COMMAND)
#: Bind the models to another file: ``bind("/path/to/nasbenchgraph.db")`` (read-only).
bind = DATABASE.bind


class _Model(peewee.Model):
    class Meta:
        database = DATABASE.proxy


class NbGraphArch(_Model):
    """One architecture: ``key`` (the release's hash), ``arch_str`` (``'[0,1,1,2] gcn-gin-cheb-fc'``),
    ``link_index`` / ``link`` (canonical link), ``op_1`` to ``op_4`` (op of node 1 to 4) and their indices."""

    key = peewee.IntegerField(primary_key=True)
    arch_str = peewee.TextField(unique=True)
    link_index = peewee.IntegerField()
    link = JSONField()
    op_1 = peewee.TextField()
    op_2 = peewee.TextField()
    op_3 = peewee.TextField()
    op_4 = peewee.TextField()
    op_index_1 = peewee.IntegerField()
    op_index_2 = peewee.IntegerField()
    op_index_3 = peewee.IntegerField()
    op_index_4 = peewee.IntegerField()

    class Meta:
        table_name = "nbgrapharch"


class NbGraphDataset(_Model):
    """One converted dataset: ``num_archs`` evaluated, the ``ops`` it was benchmarked with, its ``metric``."""

    dataset = peewee.TextField(primary_key=True)
    num_archs = peewee.IntegerField()
    num_ops = peewee.IntegerField()
    ops = JSONField()
    metric = peewee.TextField()

    class Meta:
        table_name = "nbgraphdataset"
        without_rowid = True


class NbGraphResult(_Model):
    """The release's numbers for one architecture on one dataset.

    ``valid_perf`` / ``test_perf`` fraction of 1, ``latency`` seconds, ``parameters`` millions.
    ``arch`` is the ``NbGraphArch`` row; its raw key is ``.key`` (the column's name).
    """

    dataset = peewee.ForeignKeyField(NbGraphDataset, field="dataset", column_name="dataset", backref="results")
    arch = peewee.ForeignKeyField(NbGraphArch, field="key", column_name="key", backref="results")
    valid_perf = peewee.FloatField()
    test_perf = peewee.FloatField()
    latency = peewee.FloatField()
    parameters = peewee.FloatField()

    class Meta:
        table_name = "nbgraphresult"
        primary_key = peewee.CompositeKey("dataset", "arch")
        without_rowid = True
