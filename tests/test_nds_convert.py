"""The NDS converter: the DB holds every record's rows with NNI's ids, re-runs attach to one configuration,
derived tables equal a Python computation, bad input fails with one line and leaves an earlier DB intact.

No real NDS data is reachable from the build machines, so the input is the fixture writer's release
(``generators.fixtures.nds``), whose shapes follow formats.md section 3.
"""
from __future__ import annotations

import json
import math
import sqlite3
import statistics
from collections import defaultdict

import pytest
from click.testing import CliRunner

from generators.common import InputError
from generators.fixtures import nds as fixture
from generators.nds import build_rows, convert, open_release
from nasbenchmark.cli import main as cli
from nasbenchmark.nds.constants import DESIGN_SPACES
from nasbenchmark.nds.descriptor import BENCHMARK, MEAN_TABLE
from nasbenchmark.provenance import read_provenance, sha256_file

SCALE = 0.004
SEED = 5


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp("nds-release")
    folder = fixture.write_folder(root / "nds_data", scale=SCALE, seed=SEED)
    archive = fixture.write_zip(root / "data.zip", scale=SCALE, seed=SEED)
    return {"folder": folder, "zip": archive, "root": root}


@pytest.fixture(scope="module")
def db(release):
    path = release["root"] / "nds.db"
    summary = convert(release["folder"], path, progress=False)
    conn = sqlite3.connect(path)
    yield {"conn": conn, "path": path, "summary": summary}
    conn.close()


@pytest.fixture(scope="module")
def expected(release):
    """The rows NNI's converter would write (get_or_create by identity, trials in file order), from build_rows."""
    configs, trials, epochs = {}, [], []
    for record in open_release(release["folder"]).records():
        rows = build_rows(record)
        config_id = configs.setdefault(rows.config.key, (len(configs) + 1, rows.config))[0]
        trials.append((len(trials) + 1, config_id, rows.trial))
        epochs += [(len(trials), *epoch) for epoch in rows.epochs]
    return {"configs": {cid: row for cid, row in configs.values()}, "trials": trials, "epochs": epochs}


def table(conn, sql: str) -> list[tuple]:
    return conn.execute(sql).fetchall()


def test_counts_match_the_release(db, expected):
    records, epoch_rows = fixture.release_size(SCALE)
    summary = db["summary"]
    assert (summary.trials, summary.per_epoch_rows) == (records, epoch_rows)
    assert summary.configs == len(expected["configs"]) < records  # re-runs are extra trials, not configurations
    conn = db["conn"]
    assert table(conn, "select count(*) from ndstrialstats") == [(records,)]
    assert table(conn, "select count(*) from ndsintermediatestats") == [(epoch_rows,)]


def test_configurations_have_nni_ids_and_values(db, expected):
    stored = table(db["conn"], "select * from ndstrialconfig order by id")
    assert [row[0] for row in stored] == list(range(1, len(expected["configs"]) + 1))
    for row in stored:
        config = expected["configs"][row[0]]
        assert row[1:] == tuple(config[:-1])


def test_trials_are_numbered_in_record_order_with_their_values(db, expected):
    stored = table(db["conn"], "select * from ndstrialstats order by id")
    assert len(stored) == len(expected["trials"])
    for row, (trial_id, config_id, trial) in zip(stored, expected["trials"]):
        job_id = None if trial.job_id is None else str(trial.job_id)
        assert row == (trial_id, config_id, *trial._replace(job_id=job_id))


def test_per_epoch_rows_are_numbered_and_nan_is_null(db, expected):
    conn = db["conn"]
    stored = table(conn, "select id, trial_id, current_epoch, train_loss, train_acc, test_acc "
                         "from ndsintermediatestats order by id")
    assert [row[0] for row in stored] == list(range(1, len(expected["epochs"]) + 1))
    assert [row[1:] for row in stored] == expected["epochs"]
    nulls = conn.execute("select count(*) from ndsintermediatestats where train_loss is null").fetchone()[0]
    assert nulls > 0  # the fixture's diverged runs
    nan = conn.execute("select count(*) from ndsintermediatestats where train_loss <> train_loss").fetchone()[0]
    assert nan == 0


def test_reruns_attach_to_the_random_configuration(db):
    conn = db["conn"]
    sweeps = dict(conn.execute("""
        select s.sweep, count(distinct c.id) from ndstrialstats s join ndstrialconfig c on c.id = s.config_id
        where c.proposer = 'resnet' and c.generator = 'random' group by s.sweep"""))
    assert set(sweeps) == {"ResNet", "ResNet_rng1", "ResNet_rng2", "ResNet_rng3", "ResNet_reruns"}
    first_only = conn.execute("""
        select count(*) from ndstrialstats s join ndstrialconfig c on c.id = s.config_id
        where s.sweep glob 'ResNet_*' and c.id not in (select config_id from ndstrialstats where sweep = 'ResNet')
          and c.generator = 'random'""").fetchone()[0]
    assert first_only == 0  # every re-run re-trains a configuration of ResNet.json
    groups = dict(conn.execute("select rerun_group, count(*) from ndstrialstats where sweep = 'Vanilla_reruns' "
                               "group by rerun_group"))
    runs = fixture.count_at(next(s for s in fixture.SWEEPS if s.name == "Vanilla_reruns.json"), SCALE)
    assert groups == {"top": runs * fixture.RERUNS_PER_CONFIG, "mid": runs * fixture.RERUNS_PER_CONFIG}


def test_folder_and_zip_give_the_same_tables(db, release, tmp_path):
    path = tmp_path / "from-zip.db"
    summary = convert(release["zip"], path, progress=False)
    assert summary.input_format == "data.zip"
    with sqlite3.connect(path) as conn:
        for name in ("ndstrialconfig", "ndstrialstats", "ndsmeanstats", "ndsdesignspace"):
            assert table(conn, f"select * from {name}") == table(db["conn"], f"select * from {name}"), name
        assert table(conn, "select sum(id), sum(test_acc), count(train_loss) from ndsintermediatestats") == \
            table(db["conn"], "select sum(id), sum(test_acc), count(train_loss) from ndsintermediatestats")
    provenance = read_provenance(path)
    digest = sha256_file(release["zip"])
    assert provenance["sources"] == json.dumps([{"path": "data.zip", "size": release["zip"].stat().st_size,
                                                 "sha256": digest}])
    (checked,) = json.loads(provenance["checksums"])  # data.zip's checksum is not published: recorded, not compared
    assert (checked["file"], checked["sha256"], checked["known_as"]) == ("data.zip", digest, "data.zip")
    assert "checksum_mismatch" not in provenance.values


def test_design_space_table_counts_each_space(db, expected):
    rows = table(db["conn"], "select id, name, proposer, generator, dataset, model_family, configs, trials "
                             "from ndsdesignspace order by id")
    assert [row[:5] for row in rows] == [tuple(space) for space in DESIGN_SPACES]
    configs, trials = defaultdict(set), defaultdict(int)
    for _, config_id, trial in expected["trials"]:
        config = expected["configs"][config_id]
        labels = (config.proposer, config.generator, config.dataset)
        configs[labels].add(config_id)
        trials[labels] += 1
    for space_id, _, proposer, generator, dataset, family, n_configs, n_trials in rows:
        labels = (proposer, generator, dataset)
        assert (n_configs, n_trials) == (len(configs[labels]), trials[labels]), space_id
        assert family == ("nas_cell" if proposer in ("amoeba", "darts", "enas", "nasnet", "pnas") else
                          {"resnet": "residual_basic", "vanilla": "vanilla"}.get(proposer, "residual_bottleneck"))


def _stdev(values):
    present = [v for v in values if v is not None]
    return statistics.stdev(present) if len(present) > 1 else None


def test_mean_table_is_each_configuration_mean_over_seeds(db, expected):
    by_config = defaultdict(list)
    for _, config_id, trial in expected["trials"]:
        by_config[config_id].append(trial)
    space_of = {(s.proposer, s.generator, s.dataset): s.id for s in DESIGN_SPACES}
    names = MEAN_TABLE.column_names
    rows = table(db["conn"], "select * from ndsmeanstats")
    assert [(row[0], row[1]) for row in rows] == sorted((row[0], row[1]) for row in rows)
    assert len(rows) == len(expected["configs"])
    for row in rows:
        stored = dict(zip(names, row))
        config, trials = expected["configs"][stored["config_id"]], by_config[stored["config_id"]]
        model = json.loads(config.model_spec)
        assert stored["space_id"] == space_of[(config.proposer, config.generator, config.dataset)]
        assert stored["seeds"] == len(trials)
        for name in ("final_test_acc", "best_test_acc", "final_train_acc", "parameters", "flops"):
            assert stored[name] == pytest.approx(statistics.fmean(getattr(t, name) for t in trials), rel=1e-12)
        for name in ("final_test_acc", "best_test_acc"):
            std = _stdev([getattr(t, name) for t in trials])
            assert stored[f"{name}_std"] == (pytest.approx(std, rel=1e-6, abs=1e-9) if std is not None else None)
        if config.model_family == "nas_cell":
            assert (stored["depth"], stored["width"]) == (model["depth"], model["width"])
        else:
            assert (stored["depth"], stored["width"]) == (sum(model["ds"]), max(model["ws"]))
        assert (stored["base_lr"], stored["weight_decay"], stored["num_epochs"]) == \
            (config.base_lr, config.weight_decay, config.num_epochs)
    for name in ("final_test_acc", "best_test_acc"):
        by_space = defaultdict(list)
        for row in rows:
            by_space[row[0]].append(dict(zip(names, row)))
        for members in by_space.values():
            ranked = sorted(members, key=lambda m: (-m[name], m["config_id"]))
            assert [m[f"{name}_rank"] for m in ranked] == list(range(1, len(ranked) + 1)), name


def test_every_stored_value_is_in_its_declared_range(db):
    conn = db["conn"]
    for bench_table in BENCHMARK.tables:
        for column in bench_table.columns:
            if column.valid and column.is_number:
                low, high = column.valid
                bad = conn.execute(f"select count(*) from {bench_table.name} where {column.name} < ? or "
                                   f"{column.name} > ?", (low, high if math.isfinite(high) else 1e308)).fetchone()[0]
                assert bad == 0, f"{bench_table.name}.{column.name}"


def test_metadata_names_the_files_with_their_sha256(db, release):
    provenance = read_provenance(db["path"])
    assert provenance["benchmark"] == "nds" and not provenance.synthetic
    assert provenance["input_format"] == "folder of JSON files"
    sources = json.loads(provenance["sources"])
    assert [s["path"] for s in sources] == [s.name for s in fixture.SWEEPS]
    first = release["folder"] / sources[0]["path"]
    assert sources[0]["sha256"] == sha256_file(first) and sources[0]["size"] == first.stat().st_size
    assert provenance.evaluated_archs == db["summary"].configs


def test_cell_ops_are_searchable(db):
    conn = db["conn"]
    found = conn.execute("select count(*) from ndstrialconfig_fts where ndstrialconfig_fts match 'dil_sep_conv_3x3'"
                         ).fetchone()[0]
    direct = conn.execute("select count(*) from ndstrialconfig where cell_spec like '%\"dil_sep_conv_3x3\"%'").fetchone()[0]
    assert found == direct > 0


def test_the_sample_is_labelled_synthetic(tmp_path):
    summary = fixture.build_sample_db(tmp_path / "nds.db")
    assert summary.trials == fixture.release_size(fixture.SAMPLE_SCALE)[0]
    assert read_provenance(tmp_path / "nds.db").synthetic


# --- bad input -----------------------------------------------------------------------------------------


def _edit(folder, name: str, change) -> None:
    path = folder / name
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.fixture
def broken(release, tmp_path):
    """A copy of the release to break, and an earlier DB at the output path that must survive."""
    import shutil

    folder = tmp_path / "nds_data"
    shutil.copytree(release["folder"], folder)
    output = tmp_path / "nds.db"
    output.write_bytes(b"an earlier DB")
    return folder, output


@pytest.mark.parametrize("name,change,message", [
    ("ResNeXt-B.json", lambda d: d[1]["net"].update(block_type="res_funky_block"),
     "ResNeXt-B.json: record 1: key 'net.block_type' = 'res_funky_block' is unknown"),
    ("DARTS.json", lambda d: d[2]["test_ep_top1"].pop(),
     "DARTS.json: record 2: mismatched epoch counts: train_ep_top1 has 100 values, test_ep_top1 99"),
    ("Vanilla_reruns.json", lambda d: d["mid"][0]["train_ep_top1"].__setitem__(5, 140.0),
     "Vanilla_reruns.json: mid record 0: key 'train_ep_top1' epoch 6: 140.0 is not a top-1 error"),
    ("PNAS.json", lambda d: d[0].update(params=-5),
     "PNAS.json: record 0: key 'params' = -5 is outside"),
])
def test_bad_records_fail_with_file_record_and_reason(broken, name, change, message):
    folder, output = broken
    _edit(folder, name, change)
    with pytest.raises(InputError) as caught:
        convert(folder, output, progress=False)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert output.read_bytes() == b"an earlier DB"
    assert not list(output.parent.glob(".nds.db.tmp-*"))


def test_a_value_outside_a_declared_range_names_the_column(broken):
    folder, output = broken
    _edit(folder, "ENAS.json", lambda d: d[0].update(flops=5e20))
    with pytest.raises(InputError, match=r"ENAS.json: record 0: trial column flops: 500000000000000.0 is outside 0..1e\+09 MFLOPs"):
        convert(folder, output, progress=False)
    assert output.read_bytes() == b"an earlier DB"


def test_malformed_json_and_unknown_files_fail_with_one_line(broken):
    folder, output = broken
    text = (folder / "ENAS_in.json").read_text()
    (folder / "ENAS_in.json").write_text(text[:len(text) // 2])
    with pytest.raises(InputError, match=r"ENAS_in.json: record \d+: malformed JSON"):
        convert(folder, output, progress=False)
    (folder / "ENAS_in.json").write_text(text)
    (folder / "ENAS_extra.json").write_text("[]")
    with pytest.raises(InputError, match="'ENAS_extra.json' is not one of the 34 files"):
        convert(folder, output, progress=False)
    assert output.read_bytes() == b"an earlier DB"


def test_the_generate_command(release, tmp_path):
    output = tmp_path / "out.db"
    result = CliRunner().invoke(cli, ["generate", "nds", "--input", str(release["zip"]), "--output", str(output),
                                      "--quiet"])
    assert result.exit_code == 0, result.output
    assert f"wrote {output}: data.zip: " in result.output and "trials" in result.output
    bad = CliRunner().invoke(cli, ["generate", "nds", "--input", str(tmp_path / "missing"), "--output",
                                   str(tmp_path / "x.db")])
    assert bad.exit_code == 1 and "no such file or folder" in bad.output and not (tmp_path / "x.db").exists()


def test_progress_bar_counts_bytes(release, tmp_path, capsys):
    convert(release["folder"], tmp_path / "p.db", progress=True)
    err = capsys.readouterr().err
    assert "nds folder of JSON files" in err and "100%" in err


def test_a_release_without_records_is_refused(tmp_path):
    from test_nds_reader import minimal_release

    minimal_release(tmp_path / "nds_data")
    with pytest.raises(InputError, match="the 34 files hold no job records"):
        convert(tmp_path / "nds_data", tmp_path / "x.db", progress=False)
    assert not (tmp_path / "x.db").exists()
