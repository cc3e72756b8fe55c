"""query_nb201_computed_stats semantics, on a hand-written DB whose every value is known."""
from __future__ import annotations

import json
import random
import sqlite3

import pytest
from click.testing import CliRunner

import nb201_handmade
from nasbenchmark import database
from nasbenchmark.cli import main
from nasbenchmark.nasbench201 import (Nb201ComputedStats, Nb201IntermediateStats, Nb201RunConfig,
                                      Nb201TrialConfig, Nb201TrialStats, arch_str_to_dict,
                                      dict_to_arch_str, query_nb201_computed_stats,
                                      query_nb201_trial_stats)

ARCH0 = nb201_handmade.ARCHS[0]


@pytest.fixture
def db(nasbenchmark_dir):
    return nb201_handmade.write(nasbenchmark_dir / "nasbench201.db")


def q(*args, **kwargs):
    return list(query_nb201_computed_stats(*args, **kwargs))


def test_arch_spellings_select_the_same_runs(db):
    arch = arch_str_to_dict(ARCH0)
    shuffled = dict(random.Random(1).sample(sorted(arch.items()), k=6))
    by_dict, by_shuffled, by_str, by_index = (q(a, 200, "cifar10-valid") for a in (arch, shuffled, ARCH0, 0))
    assert [r["seed"] for r in by_dict] == [777, 888]
    assert by_dict == by_shuffled == by_str == by_index
    assert by_dict[0]["config"] == {"id": 1, "arch": arch, "num_epochs": 200, "num_channels": 16,
                                    "num_cells": 5, "dataset": "cifar10-valid", "arch_index": 0}


def test_values_and_nni_shape(db):
    (run,) = [r for r in q(1, 200, "cifar10-valid") if r["seed"] == 888]
    assert run["test_acc"] == pytest.approx(50 + 10 + 0 + 0.888 + 0.02)
    assert set(run) == {"id", "config", "seed", "train_acc", "valid_acc", "test_acc", "ori_test_acc",
                        "train_loss", "valid_loss", "test_loss", "ori_test_loss", "parameters", "latency",
                        "flops", "training_time", "valid_evaluation_time", "test_evaluation_time",
                        "ori_test_evaluation_time"}


def test_cifar10_has_no_validation_values(db):
    runs = q(None, None, "cifar10")
    assert runs and all(r["valid_acc"] is None and r["valid_loss"] is None for r in runs)


def test_wildcards(db):
    assert len(q(None, None, None)) == 3 * 2 * 2 + 1
    assert len(q(None, 12, None)) == 1
    assert len(q(None, 200, "cifar10")) == 6
    assert len(q(2, None, None)) == 4
    assert {r["config"]["dataset"] for r in q(0, 200, None)} == {"cifar10-valid", "cifar10"}


def test_dataset_name_is_case_insensitive(db):
    assert q(0, 200, "CIFAR10-valid") == q(0, 200, "cifar10-valid")


def test_reduction_none_spellings_agree(db):
    assert q(0, 200, "cifar10", reduction=None) == q(0, 200, "cifar10", reduction="none")


def test_mean_reduction(db):
    (mean,) = q(0, 200, "cifar10-valid", reduction="mean")
    runs = q(0, 200, "cifar10-valid")
    assert mean["id"] is None and "seed" not in mean
    assert mean["test_acc"] == pytest.approx(sum(r["test_acc"] for r in runs) / 2)
    assert mean["config"] == runs[0]["config"]
    assert len(q(None, None, None, reduction="mean")) == 3 * 2 + 1


def test_intermediates_in_one_go(db):
    runs = q(0, 200, "cifar10-valid", include_intermediates=True)
    first = runs[0]["intermediates"]
    assert [i["current_epoch"] for i in first] == [1, 2, 3]
    assert "trial" not in first[0] and isinstance(first[0]["id"], int)
    assert first[0]["train_acc"] == pytest.approx(10.777)
    assert first[1]["test_acc"] is None and first[1]["train_loss"] is not None  # sparse epoch stays sparse
    assert runs[1]["intermediates"][0]["train_acc"] == pytest.approx(10.888)
    assert "intermediates" not in q(0, 200, "cifar10-valid")[0]


def test_mean_intermediates_are_per_epoch_means(db):
    (mean,) = q(0, 200, "cifar10-valid", reduction="mean", include_intermediates=True)
    epochs = mean["intermediates"]
    assert [e["current_epoch"] for e in epochs] == [1, 2, 3]
    assert epochs[0]["train_acc"] == pytest.approx((10.777 + 10.888) / 2)
    assert epochs[1]["test_acc"] is None
    assert "id" not in epochs[0]


def test_nni_alias_names(db):
    assert query_nb201_trial_stats is query_nb201_computed_stats
    assert Nb201TrialConfig is Nb201RunConfig and Nb201TrialStats is Nb201ComputedStats


def test_peewee_models_read_the_db(db):
    run = Nb201ComputedStats.select().join(Nb201RunConfig).where(Nb201RunConfig.arch_index == 2).first()
    assert run.config.arch == arch_str_to_dict(nb201_handmade.ARCHS[2])
    assert [i.current_epoch for i in run.intermediates.order_by(Nb201IntermediateStats.current_epoch)] == [1, 2, 3]


@pytest.mark.parametrize("args, message", [
    (({"0_1": "conv_5x5", "0_2": "none", "0_3": "none", "1_2": "none", "1_3": "none", "2_3": "none"}, 200,
      "cifar10"), "unknown op 'conv_5x5'"),
    (({"0_1": "none"}, 200, "cifar10"), "exactly the keys"),
    (("|nor_conv_3x3~0|+|", 200, "cifar10"), "malformed NAS-Bench-201 arch string"),
    (("|bogus~0|+|none~0|none~1|+|none~0|none~1|none~2|", 200, "cifar10"), "unknown op 'bogus'"),
    ((15625, 200, "cifar10"), "out of range"),
    ((True, 200, "cifar10"), "arch must be"),
    ((1.5, 200, "cifar10"), "arch must be"),
    ((0, 100, "cifar10"), "unsupported num_epochs 100; expected one of [12, 200]"),
    ((0, 200, "imagenet"), "unsupported dataset 'imagenet'; expected one of ['cifar10-valid'"),
])
def test_bad_values_raise_value_error_naming_accepted_values(db, args, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")):
        q(*args)


def test_bad_reduction(db):
    with pytest.raises(ValueError, match="Unsupported reduction: 'max'; expected None, 'none' or 'mean'"):
        q(0, 200, "cifar10", reduction="max")


def test_missing_db_names_path_and_command(nasbenchmark_dir):
    with pytest.raises(database.DatabaseNotFoundError) as info:
        q(0, 200, "cifar10")
    assert str(nasbenchmark_dir / "nasbench201.db") in str(info.value)
    assert "nasbenchmark generate nb201" in str(info.value)


def test_directory_resolved_at_first_use_not_import(tmp_path, monkeypatch):
    other = tmp_path / "elsewhere"
    other.mkdir()
    nb201_handmade.write(other / "nasbench201.db")
    monkeypatch.setenv(database.ENV_DIR, str(other))
    database.close_all()
    try:
        assert len(q(0, 200, "cifar10")) == 2
    finally:
        database.close_all()


def test_queries_open_read_only(db):
    q(0, 200, "cifar10")
    connection = Nb201RunConfig._meta.database
    with pytest.raises(Exception, match="not authorized"):
        connection.execute_sql("delete from nb201trialstats")
    assert sqlite3.connect(db).execute("select count(*) from nb201trialstats").fetchone()[0] == 13


def test_arch_string_round_trip():
    for arch_str in nb201_handmade.ARCHS:
        assert dict_to_arch_str(arch_str_to_dict(arch_str)) == arch_str


def test_cli_query_prints_json_lines(db):
    result = CliRunner().invoke(main, ["query", "nb201", "--arch", "0", "--epochs", "200",
                                       "--dataset", "cifar10-valid", "--reduction", "mean"])
    assert result.exit_code == 0, result.output
    (line,) = result.output.splitlines()
    assert json.loads(line)["config"]["arch_index"] == 0


def test_cli_query_bad_arch_is_one_line_error(db):
    result = CliRunner().invoke(main, ["query", "nb201", "--arch", "|x~0|"])
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error: malformed NAS-Bench-201 arch string")
    assert len(result.output.strip().splitlines()) == 1
