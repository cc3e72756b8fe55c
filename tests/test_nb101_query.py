"""``query_nb101_computed_stats`` on a converted fixture: every spelling of a cell finds its model, the values are
the DB's, NNI's own peewee models (defined here as NNI defines them) read the same tables, and the CLI prints them."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import peewee
import pytest
from playhouse.shortcuts import model_to_dict

from conftest import REPO
from generators.fixtures import nb101 as fixture
from generators.nasbench101 import convert
from nasbenchmark import database
from nasbenchmark.nasbench101 import (Nb101Arch, Nb101MeanStats, Nb101RunConfig, bind, query_nb101_computed_stats,
                                      query_nb101_trial_stats)

STORED = {"op1": "conv3x3-bn-relu", "op2": "conv1x1-bn-relu", "op3": "maxpool3x3", "op4": "conv3x3-bn-relu",
          "op5": "conv3x3-bn-relu", "input1": [0], "input2": [0], "input3": [0], "input4": [0], "input5": [4],
          "input6": [1, 2, 3, 5]}
INCEPTION = "28cfc7874f6d200472e1a9dcd8650aa0"
# nasbench's README spells the same model with other vertex numbers.
README_MATRIX = [[0, 1, 1, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 1, 0, 0],
                 [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]]
README_OPS = ["input", "conv1x1-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "maxpool3x3",
              "output"]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("query")
    path = fixture.write_fixture(folder / "nasbench_full-fixture.tfrecord", "full", 12, include=fixture.KNOWN_MODELS)
    convert(path, folder / "nasbench101.db", progress=False, synthetic=True)
    database.close_all()
    bind(folder / "nasbench101.db")
    yield folder / "nasbench101.db"
    database.close_all()


def _unpruned() -> tuple[list[list[int]], list[str]]:
    """The README spelling with a vertex no path from the input reaches (nasbench prunes it)."""
    matrix = [row[:-1] + [0] + row[-1:] for row in README_MATRIX]
    matrix.insert(6, [0] * 6 + [0, 1])  # vertex 6 feeds the output, but nothing feeds it
    return matrix, README_OPS[:-1] + ["maxpool3x3", "output"]


def test_every_spelling_finds_the_model(db):
    by_hash = list(query_nb101_computed_stats(INCEPTION, 108))
    assert len(by_hash) == 3 and {run["config"]["hash"] for run in by_hash} == {INCEPTION}
    assert [run["repeat"] for run in by_hash] == [0, 1, 2]
    assert by_hash[0]["config"]["arch"] == STORED and by_hash[0]["config"]["num_epochs"] == 108
    for spelling in (STORED, (README_MATRIX, README_OPS), (np.array(README_MATRIX), README_OPS), _unpruned(),
                     INCEPTION.upper(), by_hash[0]["config"]["arch_id"]):
        assert list(query_nb101_computed_stats(spelling, 108)) == by_hash, spelling


def test_without_isomorphism_only_the_stored_spelling_matches(db):
    stored = list(query_nb101_computed_stats(STORED, None, isomorphism=False))
    assert len(stored) == 12 and stored == list(query_nb101_computed_stats(INCEPTION, None))
    assert list(query_nb101_computed_stats((README_MATRIX, README_OPS), None, isomorphism=False)) == []
    assert list(query_nb101_computed_stats(_unpruned(), None, isomorphism=False)) == []


def test_values_are_the_tables_and_nni_units(db):
    run = next(query_nb101_computed_stats(INCEPTION, 36, include_intermediates=True))
    halfway, final = run["intermediates"]
    assert (halfway["current_epoch"], final["current_epoch"]) == (18, 36)
    assert (halfway["id"], final["id"]) == (2 * run["id"] - 1, 2 * run["id"])
    assert {key: final[key] for key in ("train_acc", "valid_acc", "test_acc", "training_time")} == {
        key: run[key] for key in ("train_acc", "valid_acc", "test_acc", "training_time")}
    assert 0 < halfway["training_time"] < final["training_time"] < 10_000  # seconds, not NNI's x 60
    assert run["parameters"] == Nb101Arch.get_by_id(run["config"]["arch_id"]).trainable_parameters / 1e6


def test_mean_over_runs_and_per_epoch(db):
    runs = list(query_nb101_computed_stats(INCEPTION, 12, include_intermediates=True))
    [mean] = list(query_nb101_computed_stats(INCEPTION, 12, reduction="mean", include_intermediates=True))
    assert mean["id"] is None and "repeat" not in mean
    for key in ("train_acc", "valid_acc", "test_acc", "parameters", "training_time"):
        assert mean[key] == pytest.approx(sum(run[key] for run in runs) / 3, rel=1e-12)
    for epoch_mean, *epochs in zip(mean["intermediates"], *(run["intermediates"] for run in runs)):
        assert epoch_mean["test_acc"] == pytest.approx(sum(e["test_acc"] for e in epochs) / 3, rel=1e-12)
    stored_mean = Nb101MeanStats.get(Nb101MeanStats.num_epochs == 12, Nb101MeanStats.model == mean["config"]["arch_id"])
    assert stored_mean.test_acc == pytest.approx(mean["test_acc"], rel=1e-12) and stored_mean.runs == 3


def test_wildcards_and_nni_alias(db):
    assert query_nb101_trial_stats is query_nb101_computed_stats
    assert len(list(query_nb101_computed_stats(None, 4))) == 12 * 3
    assert len(list(query_nb101_computed_stats(None, None, reduction="mean"))) == 12 * 4
    assert Nb101RunConfig.select().where(Nb101RunConfig.hash == INCEPTION).count() == 4


@pytest.mark.parametrize("call, message", [
    (lambda: query_nb101_computed_stats(INCEPTION, 100), "unsupported num_epochs 100; expected one of [4, 12, 36, 108]"),
    (lambda: query_nb101_computed_stats(INCEPTION, 108, reduction="max"), "Unsupported reduction: 'max'"),
    (lambda: query_nb101_computed_stats("abc", 108), "a module hash is 32 hex digits"),
    (lambda: query_nb101_computed_stats(0, 108), "arch_id 0 out of range; expected 1..423624"),
    (lambda: query_nb101_computed_stats(([[0, 1], [0, 0]], ["input", "conv5x5"]), 108),
     'the last vertex must be the output, got "conv5x5"'),
    (lambda: query_nb101_computed_stats(([[0, 0], [0, 0]], ["input", "output"]), 108),
     "no path from the input to the output"),
    (lambda: query_nb101_computed_stats(3.5, 108), "arch must be NNI's dict"),
])
def test_bad_values_raise_value_error_naming_what_is_accepted(db, call, message):
    with pytest.raises(ValueError) as caught:
        list(call())
    assert message in str(caught.value)


# -- NNI's own models, as NNI 1.8-3.0 declare them (nni-reference 2.1) --------------------------------

class _NniJSONField(peewee.TextField):
    field_type = "JSON"

    def db_value(self, value):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))

    def python_value(self, value):
        return json.loads(value)


_nni_db = peewee.SqliteDatabase(None)


class NniTrialConfig(peewee.Model):
    arch = _NniJSONField(index=True)
    num_vertices = peewee.IntegerField(index=True)
    hash = peewee.CharField(max_length=64, index=True)
    num_epochs = peewee.IntegerField(index=True)

    class Meta:
        database = _nni_db
        table_name = "nb101trialconfig"


class NniTrialStats(peewee.Model):
    config = peewee.ForeignKeyField(NniTrialConfig, backref="trial_stats", index=True)
    train_acc = peewee.FloatField()
    valid_acc = peewee.FloatField()
    test_acc = peewee.FloatField()
    parameters = peewee.FloatField()
    training_time = peewee.FloatField()

    class Meta:
        database = _nni_db
        table_name = "nb101trialstats"


class NniIntermediateStats(peewee.Model):
    trial = peewee.ForeignKeyField(NniTrialStats, backref="intermediates", index=True)
    current_epoch = peewee.IntegerField(index=True)
    train_acc = peewee.FloatField()
    valid_acc = peewee.FloatField()
    test_acc = peewee.FloatField()
    training_time = peewee.FloatField()

    class Meta:
        database = _nni_db
        table_name = "nb101intermediatestats"


def test_nni_models_read_our_tables(db):
    """NNI's query (select stats joined to configs, filtered by hash, then each trial's intermediates) works."""
    _nni_db.init(f"file:{db}?mode=ro", uri=True)
    try:
        query = (NniTrialStats.select(NniTrialStats, NniTrialConfig).join(NniTrialConfig)
                 .where(NniTrialConfig.hash == INCEPTION, NniTrialConfig.num_epochs == 108))
        nni = []
        for trial in query:
            data = model_to_dict(trial)
            data["intermediates"] = [{k: v for k, v in model_to_dict(t).items() if k != "trial"}
                                     for t in trial.intermediates]
            nni.append(data)
        ours = list(query_nb101_computed_stats(INCEPTION, 108, include_intermediates=True))
        assert len(nni) == 3
        for theirs, mine in zip(nni, ours):
            assert theirs["config"] == {key: mine["config"][key] for key in theirs["config"]}
            assert {key: theirs[key] for key in ("id", "train_acc", "valid_acc", "test_acc", "parameters",
                                                "training_time")} == {key: mine[key] for key in
                                                                      ("id", "train_acc", "valid_acc", "test_acc",
                                                                       "parameters", "training_time")}
            assert theirs["intermediates"] == mine["intermediates"]
        exact = NniTrialConfig.select().where(NniTrialConfig.arch == STORED)  # NNI's isomorphism=False
        assert [config.hash for config in exact] == [INCEPTION] * 4
        assert NniIntermediateStats.get_by_id(2).trial.config.num_epochs == 4
    finally:
        _nni_db.close()


# -- the command line -----------------------------------------------------------------------------------

def _query(db, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nasbenchmark", "query", "nb101", "--db", str(db), *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_the_query_command(db):
    done = _query(db, "--arch", json.dumps([README_MATRIX, README_OPS]), "--epochs", "108", "--reduction", "mean")
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    assert json.loads(line)["config"]["hash"] == INCEPTION
    by_dict = _query(db, "--arch", json.dumps(STORED), "--epochs", "4", "--exact-spelling", "--intermediates")
    assert [json.loads(line)["repeat"] for line in by_dict.stdout.splitlines()] == [0, 1, 2]
    missing = _query(db, "--arch", "0" * 32)
    assert missing.returncode == 1
    assert "no results for this architecture with these filters in this DB (SYNTHETIC SAMPLE; it holds 12 of the " \
           "423,624 architectures)" in missing.stderr
    invalid = _query(db, "--arch", json.dumps([[[0, 0], [0, 0]], ["input", "output"]]))
    assert invalid.returncode == 1 and "no path from the input to the output" in invalid.stderr


#: sqlite_stat1 of the full-scale DB (423,624 models): SQLite plans by these counts, and a plan that is fine for
#: a dozen models can be quadratic at full scale.
FULL_SCALE_STATS = [("nb101trialstats", "nb101trialstats", "5083488 3 1"), ("nb101trialconfig", None, "1694496"),
                    ("nb101arch", "nb101arch_cell", "423624 70604 1"), ("nb101arch", "nb101arch_hash", "423624 1")]


def test_every_query_reads_models_and_configs_by_key(db, tmp_path):
    """With the full-scale row counts, a wildcard query reads one table through and the others by their keys;
    a lookup reads nothing through. (Joined on the config id range alone, SQLite read every config of the
    budget for every model: minutes at full scale.)"""
    import shutil
    import sqlite3

    from nasbenchmark.nasbench101.query import _FROM

    copy = shutil.copy(db, tmp_path / "full-scale-stats.db")
    conn = sqlite3.connect(copy)
    try:
        conn.execute("analyze")
        conn.execute("delete from sqlite_stat1 where tbl in ('nb101trialstats', 'nb101trialconfig', 'nb101arch')")
        conn.executemany("insert into sqlite_stat1 values (?, ?, ?)", FULL_SCALE_STATS)
        conn.commit()
        conn.execute("analyze sqlite_schema")  # reload the statistics

        def plan(where: str, params: list) -> list[str]:
            return [row[3] for row in conn.execute(f"explain query plan select c.id, s.test_acc {_FROM}{where}", params)]

        wildcard = plan(" where c.num_epochs = ?", [108])
        assert wildcard[0].startswith("SCAN") and all("PRIMARY KEY" in step for step in wildcard[1:]), wildcard
        lookup = plan(" where a.hash = ? and c.num_epochs = ?", [INCEPTION, 108])
        assert not any(step.startswith("SCAN") for step in lookup), lookup
    finally:
        conn.close()
