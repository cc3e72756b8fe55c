"""``nasbenchmark adopt`` on DBs written by NNI 3.0's own ``db_gen`` code.

NNI's code is never copied here: ``benchmarks/peers.py`` (shared with ``benchmarks/compare.py``) builds a
separate virtualenv with the ``nni==3.0`` wheel from PyPI (without its runtime's dependencies), peewee 3,
numpy and, for NAS-Bench-201, torch 2.13 CPU from the local wheel folder, once per machine under the temp
folder, and runs a ``db_gen`` module's ``main()`` there on our fixtures (and the real NAS-Bench-201 .pth of
tests/data), supplying what NNI 2.5+'s ``db_gen`` lacks to run at all (nni-reference §3.5:
``load_benchmark`` wants the downloaded DB; the model proxy is never initialised) and, for NAS-Bench-101,
``nasbench.api`` (which needs TensorFlow 1) as a stand-in serving the records of our fixture file.

The adopted DB is then compared with our converter's DB of the same input: equal except where NNI's
converter is wrong (fixed or marked by adopt) or keeps less (documented in the metadata).
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import REPO, real_data
from generators import adopt as adopt_module
from generators.adopt import adopt
from generators.common import InputError
from nasbenchmark.provenance import read_provenance

sys.path.insert(0, str(REPO / "benchmarks"))
import peers  # noqa: E402  (benchmarks/peers.py: NNI's environment and drivers, shared with compare.py)

REAL_PTH = real_data("nas-bench-201", "NAS-Bench-201-v1_1-real3-legacy.pth")


# --- NNI's side ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def nni_python() -> Path:
    """The Python of a virtualenv with NNI 3.0's benchmark code (``peers.NNI``), cached under the temp folder."""
    try:
        return peers.NNI.python()
    except peers.PeerUnavailable as exc:
        pytest.skip(str(exc))


def nni_db_gen(python: Path, benchmark: str, source: Path, output: Path) -> Path:
    """NNI's ``python -m nni.nas.benchmark.<benchmark>.db_gen <source>``, writing ``output``."""
    run = peers.nni_db_gen(python, benchmark, source, output)
    assert run.ok, run.stderr[-3000:]
    return output


@pytest.fixture(scope="module")
def nni_nb201(nni_python, tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """{name: (the .pth given to NNI's db_gen, NNI's DB)} for the real 3-arch file and a 24-arch fixture."""
    from generators.fixtures.nb201 import write_fixture

    folder = tmp_path_factory.mktemp("nni_nb201")
    fixture = write_fixture(folder / "fixture24.pth", "pth-legacy", 24)
    return {name: (source, nni_db_gen(nni_python, "nasbench201", source, folder / f"nasbench201-{name}.db"))
            for name, source in (("real3", REAL_PTH), ("fixture24", fixture))}


def _snapshot(path: Path) -> tuple[str, list[str]]:
    """The file's sha256 and its folder's listing: adopting must change neither."""
    return hashlib.sha256(path.read_bytes()).hexdigest(), sorted(p.name for p in path.parent.iterdir())


def _same(ours: tuple, theirs: tuple) -> bool:
    """Equal rows; floats to 1e-12 (a mean over seeds sums its rows in insertion order, which differs)."""
    return len(ours) == len(theirs) and all(
        a == pytest.approx(b, rel=1e-12) if isinstance(a, float) and isinstance(b, float) else a == b
        for a, b in zip(ours, theirs))


def _assert_same_rows(converted: Path, adopted: Path, *queries: str) -> None:
    """Each query gives the same keys and rows (``_same``) on both DBs."""
    for sql in queries:
        ours, theirs = _rows(converted, sql), _rows(adopted, sql)
        assert ours.keys() == theirs.keys()
        differing = [key for key in ours if not _same(ours[key], theirs[key])]
        assert not differing, (sql[:40], differing[:3])


def _rows(db: Path, sql: str) -> dict[tuple, tuple]:
    """Rows of ``sql`` keyed by their first columns up to ``|`` (a column named ``key_end``)."""
    with sqlite3.connect(db) as conn:
        cursor = conn.execute(sql)
        names = [d[0] for d in cursor.description]
        split = names.index("key_end")
        return {row[:split]: row[split + 1:] for row in cursor}


# --- NAS-Bench-201 -------------------------------------------------------------------------------------

_NB201_TRIALS = """select c.arch_index, c.num_epochs, c.dataset, s.seed, 0 as key_end, s.train_acc, s.valid_acc,
  s.test_acc, s.ori_test_acc, s.train_loss, s.valid_loss, s.test_loss, s.ori_test_loss, s.parameters, s.latency,
  s.flops, s.valid_evaluation_time, s.test_evaluation_time, s.ori_test_evaluation_time, c.id
  from nb201trialstats s join nb201trialconfig c on c.id = s.config_id"""
_NB201_EPOCHS = """select c.arch_index, c.num_epochs, c.dataset, s.seed, i.current_epoch, 0 as key_end,
  i.train_acc, i.valid_acc, i.test_acc, i.ori_test_acc, i.train_loss, i.valid_loss, i.test_loss, i.ori_test_loss
  from nb201intermediatestats i join nb201trialstats s on s.id = i.trial_id join nb201trialconfig c on c.id = s.config_id"""
_NB201_MEANS = "select dataset, num_epochs, arch_index, 0 as key_end, * from nb201meanstats"


@pytest.mark.parametrize("name", ["real3", "fixture24"])
def test_adopted_nb201_equals_our_conversion_of_the_same_file(nni_nb201, tmp_path, name):
    from generators.nasbench201 import convert

    source, nni_db = nni_nb201[name]
    before = _snapshot(nni_db)
    adopted = tmp_path / "adopted.db"
    summary = adopt(nni_db, adopted, progress=False)
    assert _snapshot(nni_db) == before  # NNI's file is only read
    converted = tmp_path / "converted.db"
    convert(source, converted, progress=False)

    _assert_same_rows(converted, adopted, _NB201_TRIALS, _NB201_EPOCHS, _NB201_MEANS)
    # Training time: NNI's last epoch x epochs, ours the sum of per-epoch times: equal for constant times.
    times = {db: _rows(db, "select config_id, seed, 0 as key_end, training_time from nb201trialstats")
             for db in (converted, adopted)}
    assert times[converted].keys() == times[adopted].keys()
    for key, (ours,) in times[converted].items():
        assert times[adopted][key][0] == pytest.approx(ours, rel=1e-9)

    with sqlite3.connect(adopted) as conn:
        cifar10_valid = conn.execute("select count(*), count(s.valid_acc), count(s.valid_loss) from nb201trialstats s "
                                     "join nb201trialconfig c on c.id = s.config_id where c.dataset = 'cifar10'").fetchone()
        assert cifar10_valid[0] > 0 and cifar10_valid[1:] == (0, 0)
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
    assert summary.rows["nb201arch"] == 15625 and any("cifar10 runs" in fix for fix in summary.fixes)


def test_adopted_nb201_says_where_it_came_from_and_serves_queries(nni_nb201, tmp_path):
    _, nni_db = nni_nb201["real3"]
    adopted = tmp_path / "adopted.db"
    adopt(nni_db, adopted, progress=False)
    metadata = read_provenance(adopted)
    assert metadata["input_format"] == "nni-db" and "NNI's prebuilt DB" in metadata["adopted_from"]
    assert json.loads(metadata["sources"])[0]["sha256"] == hashlib.sha256(nni_db.read_bytes()).hexdigest()
    assert "NULL" in metadata["valid_acc_cifar10"] and "last epoch" in metadata["training_time"]
    assert json.loads(metadata["checksums"])[0]["status"] == "unknown"  # not named like NNI's published file
    assert metadata.label == "real" and metadata.evaluated_archs == 3

    from nasbenchmark.nasbench201 import bind, query_nb201_computed_stats

    bind(adopted)
    runs = list(query_nb201_computed_stats(11, 200, "cifar100"))
    assert {run["seed"] for run in runs} == {777, 888, 999}
    mean = next(query_nb201_computed_stats(11, 200, "cifar100", reduction="mean"))
    assert mean["valid_acc"] == pytest.approx(sum(run["valid_acc"] for run in runs) / 3)


def test_nni_file_name_with_a_wrong_hash_is_refused_unless_forced(nni_nb201, tmp_path):
    named = tmp_path / "nasbench201-b2b60732.db"  # the published name; these bytes are not the published file
    shutil.copyfile(nni_nb201["real3"][1], named)
    output = tmp_path / "out.db"
    with pytest.raises(InputError, match="does not start with b2b60732.*--force"):
        adopt(named, output, progress=False)
    assert not output.exists()
    adopt(named, output, force=True, progress=False)
    assert "nasbench201-b2b60732.db" in read_provenance(output)["checksum_mismatch"]


def test_download_from_nni_adopts_the_copy_nni_downloaded(nni_nb201, nasbenchmark_dir, tmp_path, monkeypatch):
    from generators.download import download

    cache = tmp_path / "cache"
    (cache / "nni" / "nasbenchmark").mkdir(parents=True)
    nni_file = cache / "nni" / "nasbenchmark" / "nasbench201-b2b60732.db"
    shutil.copyfile(nni_nb201["real3"][1], nni_file)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    assert adopt_module.find_nni_db("nasbench201-b2b60732.db") == nni_file
    with pytest.raises(InputError, match="b2b60732"):
        download("nb201", from_nni=True, progress=False)
    summary = download("nb201", from_nni=True, force=True, progress=False)
    assert "adopted NNI's nb201 DB" in summary
    assert (nasbenchmark_dir / "nasbench201.db").is_file() and nni_file.is_file()


# --- refusals ------------------------------------------------------------------------------------


def _broken_copy(nni_db: Path, tmp_path: Path, *statements: str) -> Path:
    copy = tmp_path / "nni-copy.db"
    shutil.copyfile(nni_db, copy)
    with sqlite3.connect(copy) as conn:
        for statement in statements:
            conn.execute(statement)
    return copy


@pytest.mark.parametrize("statements, expected", [
    (("update nb201trialstats set train_acc = 150 where id = 2",),
     r"nb201trialstats.train_acc: 1 impossible values, e.g. 150.0 is outside 0..100 percent where id = 2"),
    (("alter table nb201trialstats drop column flops",), "table nb201trialstats lacks flops"),
    (("update nb201trialconfig set arch = '{\"0_1\": \"conv_9x9\"}' where id = 1",),
     "nb201trialconfig id 1: arch .* is not a NAS-Bench-201 cell"),
    (("insert into nb201intermediatestats (trial_id, current_epoch, train_acc) values (999999, 1, 50)",),
     "1 rows of nb201intermediatestats reference rows that do not exist"),
    (("drop table nb201intermediatestats",), "has none of NNI's benchmark table sets"),
], ids=["impossible value", "missing column", "unknown arch", "orphan row", "missing table"])
def test_broken_nni_db_is_refused_in_one_line(nni_nb201, tmp_path, statements, expected):
    broken = _broken_copy(nni_nb201["real3"][1], tmp_path, *statements)
    output = tmp_path / "out.db"
    with pytest.raises(InputError, match=expected) as caught:
        adopt(broken, output, progress=False)
    assert "\n" not in str(caught.value)
    assert not output.exists() and not list(tmp_path.glob(".out.db*"))


def test_damaged_nni_db_is_refused_in_one_line(nni_nb201, tmp_path):
    damaged = tmp_path / "nasbench201-damaged.db"
    data = nni_nb201["fixture24"][1].read_bytes()
    damaged.write_bytes(data[:len(data) // 2])  # a transfer that stopped halfway
    with pytest.raises(InputError, match="unreadable SQLite DB .*download it again"):
        adopt(damaged, tmp_path / "out.db", progress=False)
    assert not (tmp_path / "out.db").exists()


def test_other_files_are_refused(tmp_path, nni_nb201):
    text = tmp_path / "notes.db"
    text.write_text("hello")
    with pytest.raises(InputError, match="not an SQLite DB"):
        adopt(text, tmp_path / "a.db", progress=False)
    adopted = tmp_path / "ours.db"
    adopt(nni_nb201["real3"][1], adopted, progress=False)
    with pytest.raises(InputError, match=r"already a nasbenchmark DB \(nb201\); nothing to adopt"):
        adopt(adopted, tmp_path / "b.db", progress=False)
    with pytest.raises(InputError, match="would overwrite the input"):
        adopt(nni_nb201["real3"][1], nni_nb201["real3"][1], progress=False)


def test_cli_adopt(nni_nb201, nasbenchmark_dir):
    from nasbenchmark.cli import main

    result = CliRunner().invoke(main, ["adopt", str(nni_nb201["fixture24"][1]), "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"wrote {nasbenchmark_dir / 'nasbench201.db'}: adopted NNI's nb201 DB")
    missing = CliRunner().invoke(main, ["adopt", str(nasbenchmark_dir / "nope.db")])
    assert missing.exit_code == 1 and missing.output.count("\n") == 1 and "no such file" in missing.output


# --- NAS-Bench-101 -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nni_nb101(nni_python, tmp_path_factory) -> tuple[Path, Path]:
    """(a 5-model fixture tfrecord, NNI's NAS-Bench-101 DB of it made through the nasbench API stand-in)."""
    from generators.fixtures.nb101 import write_fixture
    from generators.nasbench101 import read_records

    folder = tmp_path_factory.mktemp("nni_nb101")
    models: dict[str, dict] = {}
    tfrecord = write_fixture(folder / "fixture_full.tfrecord", "full", 5)
    for record in read_records(tfrecord):
        model = models.setdefault(record.cell.module_hash, {
            "adjacency": record.cell.matrix, "operations": record.cell.ops, "parameters": record.parameters,
            "metrics": {}})
        model["metrics"].setdefault(str(record.budget), []).append({
            f"{moment}_{name}": getattr(getattr(record, moment), field)
            for moment in ("halfway", "final")
            for name, field in (("training_time", "training_time"), ("train_accuracy", "train_accuracy"),
                                ("validation_accuracy", "validation_accuracy"), ("test_accuracy", "test_accuracy"))})
    records = folder / "records.json"
    records.write_text(json.dumps(models))
    return tfrecord, nni_db_gen(nni_python, "nasbench101", records, folder / "nasbench101-nni.db")


def test_nni_nb101_db_gen_stores_training_time_60_times_too_large(nni_nb101):
    """The bug adopt fixes, in NNI's own output (nni-reference §3.1)."""
    with sqlite3.connect(nni_nb101[1]) as conn:
        ratios = conn.execute("""select s.training_time / i.training_time from nb101trialstats s
            join nb101trialconfig c on c.id = s.config_id
            join nb101intermediatestats i on i.trial_id = s.id and i.current_epoch = c.num_epochs""").fetchall()
    assert len(ratios) == 5 * 4 * 3 and {round(r, 9) for (r,) in ratios} == {60.0}


_NB101_QUERIES = (
    "select arch_id, 0 as key_end, hash, num_vertices, num_edges, conv3x3, conv1x1, maxpool3x3, trainable_parameters, "
    "cell, adjacency, ops, arch from nb101arch",
    "select id, 0 as key_end, num_vertices, hash, num_epochs, arch_id, cell, arch from nb101trialconfig",
    "select id, 0 as key_end, config_id, train_acc, valid_acc, test_acc, training_time, parameters from nb101trialstats",
    "select trial_id, current_epoch, 0 as key_end, id, train_acc, valid_acc, test_acc, training_time "
    "from nb101intermediatestats",
    "select num_epochs, arch_id, 0 as key_end, * from nb101meanstats",
)


def test_adopted_nb101_equals_our_conversion_with_the_release_training_time(nni_nb101, tmp_path):
    from generators.nasbench101.convert import convert

    tfrecord, nni_db = nni_nb101
    adopted, converted = tmp_path / "adopted.db", tmp_path / "converted.db"
    summary = adopt(nni_db, adopted, progress=False)
    convert(tfrecord, converted, progress=False, synthetic=True)
    _assert_same_rows(converted, adopted, *_NB101_QUERIES)
    assert summary.fixes == ["training_time of 60 runs divided by 60 (NNI's db_gen multiplies the release's seconds by "
                             "60; the value is taken from the run's final per-epoch row)"]
    with sqlite3.connect(adopted) as conn, sqlite3.connect(nni_db) as nni:
        ours = conn.execute("select id, training_time from nb101trialstats order by id").fetchall()
        theirs = nni.execute("select id, training_time / 60 from nb101trialstats order by id").fetchall()
    assert [key for key, _ in ours] == [key for key, _ in theirs]
    assert [value for _, value in ours] == pytest.approx([value for _, value in theirs], rel=1e-12)


def test_nni_nb101_value_that_is_not_a_float32_is_refused(nni_nb101, tmp_path):
    broken = _broken_copy(nni_nb101[1], tmp_path, "update nb101trialstats set valid_acc = 90.123456789 where id = 7")
    with pytest.raises(InputError, match=r"nb101trialstats id 7: valid_acc 90.123456789 is not a NAS-Bench-101 "
                                         r"value \(a float32 times 100\)"):
        adopt(broken, tmp_path / "out.db", progress=False)


# --- NDS -----------------------------------------------------------------------------------------------

_NDS_CONFIGS = """select id, 0 as key_end, model_family, model_spec, cell_spec, dataset, generator, proposer, base_lr,
  weight_decay, num_epochs from ndstrialconfig"""
_NDS_TRIALS = """select id, 0 as key_end, config_id, seed, final_train_acc, final_train_loss, final_test_acc,
  best_train_acc, best_train_loss, best_test_acc, parameters, flops, iter_time from ndstrialstats"""
_NDS_EPOCHS = "select trial_id, current_epoch, 0 as key_end, train_loss, train_acc, test_acc from ndsintermediatestats"


def test_adopted_nds_equals_our_conversion_of_the_same_files(nni_python, tmp_path):
    from generators.fixtures.nds import write_folder
    from generators.nds import convert

    folder = write_folder(tmp_path / "nds_data", scale=0.001)
    nni_db = nni_db_gen(nni_python, "nds", folder, tmp_path / "nds-nni.db")
    adopted, converted = tmp_path / "adopted.db", tmp_path / "converted.db"
    summary = adopt(nni_db, adopted, progress=False)
    convert(folder, converted, progress=False)
    _assert_same_rows(converted, adopted, _NDS_CONFIGS, _NDS_TRIALS, _NDS_EPOCHS)
    with sqlite3.connect(adopted) as conn:
        spaces = conn.execute("select count(*), sum(trials) from ndsdesignspace").fetchone()
        assert spaces == (26, summary.rows["ndstrialstats"])
        assert conn.execute("select count(*) from ndsmeanstats").fetchone()[0] == summary.rows["ndstrialconfig"]
        assert conn.execute("select count(*) from ndstrialstats where sweep not like '%rng%' "
                            "and sweep not like '%reruns%'").fetchone()[0] == summary.rows["ndstrialstats"]
    metadata = read_provenance(adopted)
    assert "NULL" in metadata["dropped_by_nni"] and "design space" in metadata["sweep"]
