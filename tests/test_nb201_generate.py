"""NB201 converter: every input format, identical DBs, metadata, CLI, bad inputs, query API, NNI models."""
from __future__ import annotations

import bz2
import pickle
import sqlite3
from pathlib import Path

import peewee
import pytest
from click.testing import CliRunner

from generators.common import InputError
from generators.fixtures.nb201 import FORMATS, build_full_scale_db, build_sample_db, write_fixture
from generators.nasbench201 import convert, detect_format
from nasbenchmark import database
from nasbenchmark.cli import main as cli_main

NUM_ARCHS = 6  # seed_counts(6) gives archs with 1, 2 and 3 200-epoch seeds
TABLES = ["nb201arch", "nb201trialconfig", "nb201trialstats", "nb201intermediatestats", "nb201meanstats"]


@pytest.fixture(scope="session")
def fixture_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("nb201-fixtures")
    return {fmt: write_fixture(folder / f"fixture-{fmt}", fmt, NUM_ARCHS) for fmt in FORMATS}


@pytest.fixture(scope="session")
def converted(fixture_files, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("nb201-dbs")
    return {fmt: _convert(path, folder / f"{fmt}.db") for fmt, path in fixture_files.items()}


def _convert(path: Path, output: Path) -> Path:
    convert(path, output, progress=False, synthetic=True)
    return output


def _dump(db: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(db) as conn:
        return {table: conn.execute(f"select * from {table} order by 1, 2, 3").fetchall() for table in TABLES}


def _metadata(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("select key, value from metadata"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_detects_format_from_content(fixture_files, fmt, tmp_path):
    # Names mean nothing: a copy under a misleading name is still recognised.
    source = fixture_files[fmt]
    if source.is_dir():
        assert detect_format(source) == fmt
        return
    renamed = tmp_path / "release.txt"
    renamed.write_bytes(source.read_bytes())
    assert detect_format(renamed) == fmt


def test_every_format_gives_identical_db(converted):
    reference = _dump(converted["nats-simple"])
    assert len(reference["nb201arch"]) == 15625
    assert len(reference["nb201trialconfig"]) == NUM_ARCHS * 8
    for fmt in FORMATS:
        assert _dump(converted[fmt]) == reference, fmt


def test_row_counts_follow_release_layout(converted):
    with sqlite3.connect(converted["pth-legacy"]) as conn:
        seeds = dict(conn.execute(
            "select c.num_epochs || '/' || c.dataset, group_concat(distinct s.seed) from nb201trialstats s "
            "join nb201trialconfig c on s.config_id = c.id where c.arch_index = 0 group by 1"))
        # 12 epochs: cifar10-valid has seeds 111 and 777, the other datasets 111.
        assert seeds["12/cifar10-valid"] in ("111,777", "777,111")
        assert seeds["12/cifar100"] == "111"
        per_arch = conn.execute(
            "select c.arch_index, count(*) / 4 from nb201trialstats s join nb201trialconfig c on s.config_id = c.id "
            "where c.num_epochs = 200 group by c.arch_index").fetchall()
        assert {n for _, n in per_arch} == {1, 2, 3}
        # One per-epoch row per epoch with any value: 12 or 200 per run.
        counts = conn.execute("select c.num_epochs, count(*) * 1.0 / count(distinct i.trial_id) from "
                              "nb201intermediatestats i join nb201trialstats s on i.trial_id = s.id "
                              "join nb201trialconfig c on s.config_id = c.id group by 1").fetchall()
        assert counts == [(12, 12.0), (200, 200.0)]
        # Ids are computed, unique and NNI-numbered for configs.
        assert conn.execute("select min(id) from nb201trialconfig where arch_index = 0").fetchone() == (1,)
        assert conn.execute("select count(distinct id) = count(*) from nb201intermediatestats").fetchone() == (1,)


def test_sparse_and_missing_values_are_null(converted):
    with sqlite3.connect(converted["nats-single"]) as conn:
        # cifar10 has no validation split: valid_* NULL everywhere.
        assert conn.execute("select count(*) from nb201trialstats s join nb201trialconfig c on s.config_id = c.id "
                            "where c.dataset = 'cifar10' and (valid_acc is not null or valid_loss is not null "
                            "or valid_evaluation_time is not null)").fetchone() == (0,)
        # cifar100, 200 epochs: valid/test per epoch only at the last epoch; ori_test at every epoch.
        rows = conn.execute(
            "select i.current_epoch, i.valid_acc is not null, i.test_acc is not null, i.ori_test_acc is not null "
            "from nb201intermediatestats i join nb201trialstats s on i.trial_id = s.id "
            "join nb201trialconfig c on s.config_id = c.id where c.dataset = 'cifar100' and c.num_epochs = 200 "
            "and c.arch_index = 1 and s.seed = 777 order by 1").fetchall()
        assert len(rows) == 200
        assert [r[0] for r in rows if r[1]] == [200] and [r[0] for r in rows if r[2]] == [200]
        assert all(r[3] for r in rows)
        # cifar10-valid, 200 epochs: test (= ori-test) only at the last epoch.
        tests = conn.execute(
            "select count(i.test_acc), count(i.valid_acc) from nb201intermediatestats i join nb201trialstats s "
            "on i.trial_id = s.id join nb201trialconfig c on s.config_id = c.id where c.dataset = 'cifar10-valid' "
            "and c.num_epochs = 200 group by s.id").fetchall()
        assert all(test == 1 and valid == 200 for test, valid in tests)


def test_stats_match_the_release_values(fixture_files, converted):
    from generators.common.unpickle import restricted_load
    from generators.nasbench201.release import RELEASE_GLOBALS

    with bz2.open(fixture_files["nats-simple"] / "000002.pickle.pbz2") as f:
        arch = restricted_load(f, RELEASE_GLOBALS, "test")
    result = arch["200"]["all_results"][("ImageNet16-120", 777)]
    with sqlite3.connect(converted["pth-zip"]) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("select s.* from nb201trialstats s join nb201trialconfig c on s.config_id = c.id where "
                           "c.arch_index = 2 and c.num_epochs = 200 and c.dataset = 'imagenet16-120' "
                           "and s.seed = 777").fetchone()
    assert row["train_acc"] == result["train_acc1es"][199]
    assert row["valid_acc"] == result["eval_acc1es"]["x-valid@199"]
    assert row["test_acc"] == result["eval_acc1es"]["x-test@199"]
    assert row["ori_test_loss"] == result["eval_losses"]["ori-test@199"]
    assert row["parameters"] == result["params"] and row["flops"] == result["flop"]
    assert row["latency"] == result["latency"][0]
    assert row["training_time"] == pytest.approx(sum(result["train_times"].values()))
    assert row["test_evaluation_time"] == result["eval_times"]["x-test@199"]


def test_metadata_names_the_source(converted, fixture_files):
    meta = _metadata(converted["pth-legacy"])
    assert meta["benchmark"] == "nb201" and meta["synthetic"] == "true"
    assert meta["input_format"] == "pth-legacy"
    assert meta["valid_acc_cifar10"].startswith("NULL")
    assert '"sha256"' in meta["sources"] and fixture_files["pth-legacy"].name in meta["sources"]
    simple = _metadata(converted["nats-simple"])
    assert simple["source_arch_files"] == str(NUM_ARCHS) and len(simple["source_arch_files_sha256"]) == 64


def test_indexes_exist_after_load(converted):
    with sqlite3.connect(converted["nats-simple"]) as conn:
        names = {r[0] for r in conn.execute("select name from sqlite_master where type = 'index'")}
    assert {"nb201trialconfig_arch", "nb201trialconfig_arch_index", "nb201trialstats_config_id"} <= names


def test_full_scale_helper_writes_the_same_rows_directly(converted, tmp_path):
    summary = build_full_scale_db(tmp_path / "direct.db", num_archs=NUM_ARCHS)
    assert _dump(tmp_path / "direct.db") == _dump(converted["pth-legacy"])
    assert summary.per_epoch_rows == len(_dump(converted["pth-legacy"])["nb201intermediatestats"])
    assert _metadata(tmp_path / "direct.db")["synthetic"] == "true"


def test_sample_db(tmp_path):
    summary = build_sample_db(tmp_path / "sample.db", num_archs=12)
    assert (summary.archs, summary.configs) == (15625, 12 * 8)   # every arch listed, results for 12
    assert f"{summary.per_epoch_rows:,} per-epoch rows" in str(summary)
    assert _metadata(tmp_path / "sample.db")["synthetic"] == "true"


# -- query API and NNI's own models on our tables ------------------------------------------------

def test_query_api_returns_converted_values(converted, nasbenchmark_dir):
    from nasbenchmark.nasbench201 import bind, query_nb201_computed_stats

    database.close_all()
    bind(converted["nats-simple"])
    runs = list(query_nb201_computed_stats(3, 200, "cifar100"))
    with sqlite3.connect(converted["nats-simple"]) as conn:
        expected = conn.execute("select s.seed, s.test_acc from nb201trialstats s join nb201trialconfig c on "
                                "s.config_id = c.id where c.arch_index = 3 and c.num_epochs = 200 and "
                                "c.dataset = 'cifar100' order by s.id").fetchall()
    assert [(r["seed"], r["test_acc"]) for r in runs] == expected and expected
    mean = next(query_nb201_computed_stats(3, 200, "cifar100", reduction="mean", include_intermediates=True))
    assert mean["test_acc"] == pytest.approx(sum(t for _, t in expected) / len(expected))
    assert len(mean["intermediates"]) == 200


def test_nni_models_read_our_tables(converted):
    db = peewee.SqliteDatabase(str(converted["pth-legacy"]))

    class Nb201TrialConfig(peewee.Model):  # NNI's declarations (nni/nas/benchmarks/nasbench201/model.py)
        arch = peewee.TextField()
        num_epochs = peewee.IntegerField(index=True)
        num_channels = peewee.IntegerField()
        num_cells = peewee.IntegerField()
        dataset = peewee.CharField(max_length=20, index=True)

        class Meta:
            database = db

    class Nb201TrialStats(peewee.Model):
        config = peewee.ForeignKeyField(Nb201TrialConfig, backref="trial_stats", index=True)
        seed = peewee.IntegerField()
        train_acc = peewee.FloatField()
        valid_acc = peewee.FloatField(null=True)
        test_acc = peewee.FloatField()
        ori_test_acc = peewee.FloatField()
        parameters = peewee.FloatField()
        latency = peewee.FloatField(null=True)
        flops = peewee.FloatField()
        training_time = peewee.FloatField()

        class Meta:
            database = db

    class Nb201IntermediateStats(peewee.Model):
        trial = peewee.ForeignKeyField(Nb201TrialStats, backref="intermediates", index=True)
        current_epoch = peewee.IntegerField(index=True)
        train_acc = peewee.FloatField(null=True)
        test_acc = peewee.FloatField(null=True)

        class Meta:
            database = db

    query = (Nb201TrialStats.select(Nb201TrialStats, Nb201TrialConfig).join(Nb201TrialConfig)
             .where((Nb201TrialConfig.num_epochs == 200) & (Nb201TrialConfig.dataset == "cifar10")))
    runs = list(query)
    with sqlite3.connect(converted["pth-legacy"]) as conn:
        expected = conn.execute("select count(*) from nb201trialstats s join nb201trialconfig c on "
                                "s.config_id = c.id where c.num_epochs = 200 and c.dataset = 'cifar10'").fetchone()[0]
    assert len(runs) == expected > NUM_ARCHS
    assert all(run.config.dataset == "cifar10" and run.valid_acc is None for run in runs)
    epochs = list(runs[0].intermediates.order_by(Nb201IntermediateStats.current_epoch))
    assert [e.current_epoch for e in epochs] == list(range(1, 201))
    assert epochs[-1].train_acc == runs[0].train_acc
    db.close()


# -- CLI and bad inputs ---------------------------------------------------------------------------

def test_cli_generate(fixture_files, tmp_path):
    output = tmp_path / "cli.db"
    result = CliRunner().invoke(cli_main, ["generate", "nb201", "--input", str(fixture_files["pth-zip"]),
                                           "--output", str(output), "--sample", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "per-epoch rows" in result.output and _metadata(output)["synthetic"] == "true"


def _truncated(fixture_files, tmp_path):
    data = fixture_files["pth-legacy"].read_bytes()
    path = tmp_path / "truncated.pth"
    path.write_bytes(data[: len(data) * 2 // 3])
    return path


def _png(fixture_files, tmp_path):
    path = tmp_path / "NAS-Bench-201-v1_1-096897.pth"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    return path


def _text(fixture_files, tmp_path):
    path = tmp_path / "notes.pth"
    path.write_text("this is not a benchmark\n")
    return path


def _evil_global(fixture_files, tmp_path):
    folder = tmp_path / "evil-simple"
    folder.mkdir()
    (folder / "meta.pickle.pbz2").write_bytes((fixture_files["nats-simple"] / "meta.pickle.pbz2").read_bytes())
    payload = pickle.dumps({"12": __import__("os").getcwd}, protocol=4)  # references posix.getcwd
    (folder / "000000.pickle.pbz2").write_bytes(bz2.compress(payload))
    return folder


def _no_meta(fixture_files, tmp_path):
    folder = tmp_path / "no-meta"
    folder.mkdir()
    (folder / "000000.pickle.pbz2").write_bytes((fixture_files["nats-simple"] / "000000.pickle.pbz2").read_bytes())
    return folder


def _corrupt_bz2(fixture_files, tmp_path):
    path = tmp_path / "NATS-tss-v1_0-3ffb9.pickle.pbz2"
    data = bytearray(fixture_files["nats-single"].read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = b"\x00" * 64
    path.write_bytes(bytes(data))
    return path


def _corrupt_arch_file(fixture_files, tmp_path):
    folder = tmp_path / "corrupt-simple"
    folder.mkdir()
    for source in fixture_files["nats-simple"].iterdir():
        (folder / source.name).write_bytes(source.read_bytes())
    (folder / "000003.pickle.pbz2").write_bytes(b"BZh91AY&SY" + b"\x01" * 50)
    return folder


BAD_INPUTS = {
    "truncated": (_truncated, "truncated"),
    "png": (_png, "PNG image"),
    "text": (_text, "text file"),
    "disallowed global": (_evil_global, "refusing to unpickle global"),
    "folder without meta": (_no_meta, "meta.pickle.pbz2"),
    "corrupt bz2": (_corrupt_bz2, "download the file again"),
    "corrupt arch file": (_corrupt_arch_file, "000003.pickle.pbz2"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_fails_cleanly(case, fixture_files, tmp_path):
    make, expected = BAD_INPUTS[case]
    bad = make(fixture_files, tmp_path)
    output = tmp_path / "out" / "nasbench201.db"
    output.parent.mkdir()
    earlier = b"SQLite format 3\x00 earlier database, must survive"
    output.write_bytes(earlier)
    with pytest.raises(InputError) as error:
        convert(bad, output, progress=False)
    message = str(error.value)
    assert "\n" not in message and expected in message and bad.name in message
    result = CliRunner().invoke(cli_main, ["generate", "nb201", "--input", str(bad), "--output", str(output),
                                           "--quiet"])
    assert result.exit_code == 1 and expected in result.output
    assert output.read_bytes() == earlier
    assert sorted(p.name for p in output.parent.iterdir()) == ["nasbench201.db"]  # no temp file left


def test_cli_subprocess_exit_code(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "empty.pth"
    bad.write_bytes(b"")
    done = subprocess.run([sys.executable, "-m", "nasbenchmark", "generate", "nb201", "--input", str(bad),
                           "--output", str(tmp_path / "x.db")], capture_output=True, text=True)
    assert done.returncode == 1 and "empty file" in done.stderr
    assert not (tmp_path / "x.db").exists()


# -- record-level rules, on hand-made results -----------------------------------------------------

def _result(epochs=12, **overrides):
    keys = range(epochs)
    result = {"name": "cifar100", "train_acc1es": {e: 50.0 + e for e in keys}, "train_acc5es": None,
              "train_losses": {e: 1.0 for e in keys}, "train_times": None, "params": 0.5, "flop": 10.0,
              "seed": "0777", "epochs": epochs, "latency": [-1], "eval_names": ["x-valid", "x-test", "ori-test"],
              "eval_acc1es": {f"{s}@{e}": 40.0 + e for s in ("x-valid", "x-test", "ori-test") for e in keys},
              "eval_losses": {}, "eval_times": {}, "net_state_dict": None}
    result.update(overrides)
    return result


def _rows(result, hp="12"):
    from generators.nasbench201.archs import official_arch_strings
    from generators.nasbench201.rows import arch_rows, epoch_rows

    arch_str = official_arch_strings()[7]
    arch = {"arch_index": 7, "arch_str": arch_str, "all_results": {("cifar100", 777): result}}
    rows = arch_rows(7, arch_str, "{}", {hp: arch}, "test.pth")
    return rows.trials[0], list(epoch_rows(rows.epoch_blocks))


def test_values_the_release_lacks_are_null():
    from nasbenchmark.nasbench201.schema import STATS_COLUMNS

    trial, epochs = _rows(_result())
    stats = dict(zip(["id", "config_id", "seed"] + STATS_COLUMNS, trial))
    assert stats["latency"] is None and stats["training_time"] is None            # -1 and v1_0's None
    assert stats["valid_evaluation_time"] is None and stats["valid_loss"] is None  # v1_0's empty dicts
    assert stats["train_acc"] == 61.0 and stats["test_acc"] == 51.0 and stats["seed"] == 777
    assert [row[2] for row in epochs] == list(range(1, 13)) and epochs[0][0] == (trial[0] - 1) * 200 + 1


def test_epochs_without_any_value_are_dropped():
    sparse = _result(train_acc1es={11: 61.0}, train_losses={11: 0.5},
                     eval_acc1es={"ori-test@3": 40.0, "ori-test@11": 45.0})
    _, epochs = _rows(sparse)
    assert [row[2] for row in epochs] == [4, 12]
    assert epochs[0][3:] == pytest.approx([float("nan"), float("nan"), float("nan"), 40.0] + [float("nan")] * 4,
                                          nan_ok=True)


@pytest.mark.parametrize("broken, expected", [
    ({"train_acc1es": {e: "high" for e in range(12)}}, "arch 7 hp 12 cifar100 seed 777"),
    ({"epochs": 200}, "column epochs: is int 200, expected 12"),
    ({"eval_acc1es": None, "train_acc1es": [1.0]}, "column train_acc: expected a dict"),
])
def test_malformed_records_name_the_record(broken, expected):
    with pytest.raises(InputError, match=expected) as error:
        _rows(_result(**broken))
    assert str(error.value).startswith("test.pth: arch 7")


def test_unknown_hp_key_hints_at_the_size_space():
    with pytest.raises(InputError, match="size-space"):
        _rows(_result(), hp="90")


def test_mean_stats_are_the_query_apis_means(converted, nasbenchmark_dir):
    """nb201meanstats holds, per config, what reduction='mean' returns, and one row per config."""
    from nasbenchmark.nasbench201 import Nb201MeanStats, bind, query_nb201_computed_stats
    from nasbenchmark.nasbench201.schema import MEAN_COLUMNS

    db = converted["nats-simple"]
    bind(db)
    expected = {(r["config"]["dataset"], r["config"]["num_epochs"], r["config"]["arch_index"]): r
                for r in query_nb201_computed_stats(None, None, None, reduction="mean")}
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("select * from nb201meanstats").fetchall()
        seeds = dict(conn.execute("select config_id, count(*) from nb201trialstats group by config_id"))
    assert len(rows) == len(expected) == len(seeds)
    for row in rows:
        mean = expected[row["dataset"], row["num_epochs"], row["arch_index"]]
        assert row["seeds"] == seeds[row["config_id"]]
        for column in MEAN_COLUMNS:
            if mean[column] is None:
                assert row[column] is None, column
            else:
                assert row[column] == pytest.approx(mean[column], rel=1e-12, abs=0), column

    # The peewee model reads the same rows, its foreign key leads to the config.
    best = (Nb201MeanStats.select().where(Nb201MeanStats.dataset == "cifar100", Nb201MeanStats.num_epochs == 200)
            .order_by(Nb201MeanStats.test_acc.desc()).first())
    top = max((r for r in expected.values() if r["config"]["dataset"] == "cifar100" and r["config"]["num_epochs"] == 200),
              key=lambda r: r["test_acc"])
    assert best.arch_index == top["config"]["arch_index"] and best.config.arch_index == best.arch_index
    assert Nb201MeanStats.select().count() == len(rows)
