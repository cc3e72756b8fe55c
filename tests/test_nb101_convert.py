"""``nasbenchmark generate nb101``: the real record and fixture releases into SQLite, checked value by value;
damaged files refused with offset and record, nothing written; partial files labelled."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from conftest import REPO, real_data
from generators.common import InputError
from generators.fixtures import nb101 as fixture
from generators.nasbench101 import convert, iter_tfrecords, read_records
from nasbenchmark.nasbench101.descriptor import BENCHMARK
from nasbenchmark.nasbench101.graph_util import nasbench_format_to_architecture_repr
from nasbenchmark.provenance import read_provenance

REAL = real_data("nasbench101", "nb101_record0.tfrecord")
KNOWN = json.loads(real_data("nasbench101", "nb101_known_values.json").read_text())["models"]
BUDGETS = (4, 12, 36, 108)


def _rows(db, sql, params=()):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def real_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("real") / "nasbench101.db"
    return convert(REAL, db, progress=False), db


@pytest.fixture(scope="module")
def fixture_release(tmp_path_factory):
    """A full-shaped fixture of 30 models (2..7 vertices), the two known ones among them, and its DB."""
    folder = tmp_path_factory.mktemp("fixture")
    path = fixture.write_fixture(folder / "nasbench_full-fixture.tfrecord", "full", 30, include=fixture.KNOWN_MODELS)
    return path, convert(path, folder / "nasbench101.db", progress=False, synthetic=True), folder / "nasbench101.db"


def test_the_real_record_converts_to_the_known_values(real_db):
    summary, db = real_db
    assert (summary.input_format, summary.models, summary.configs, summary.trials, summary.per_epoch_rows) == (
        "nasbench_full", 1, 1, 1, 2)
    known = KNOWN[0]
    stored = known["epochs_4_record_in_file"]["evaluation_data"]
    [(config_id, arch, num_vertices, model_hash, epochs)] = _rows(
        db, "select id, arch, num_vertices, hash, num_epochs from nb101trialconfig")
    matrix = [[int(known["raw_adjacency"][7 * i + j]) for j in range(7)] for i in range(7)]
    assert json.loads(arch) == nasbench_format_to_architecture_repr(matrix, known["raw_operations"].split(","))[1]
    assert (config_id, num_vertices, model_hash, epochs) == (1, 7, known["module_hash"], 4)
    [trial] = _rows(db, "select id, config_id, repeat, train_acc, valid_acc, test_acc, parameters, training_time "
                        "from nb101trialstats")
    final = stored[2]
    # Percent as NNI computes it (value * 100, bit for bit), seconds as the release has them (not x 60).
    assert trial == (1, 1, 0, final["train_accuracy"] * 100, final["validation_accuracy"] * 100,
                     final["test_accuracy"] * 100, known["trainable_parameters"] / 1e6, final["training_time"])
    assert trial[-1] == 89.90399932861328
    per_epoch = _rows(db, "select id, trial_id, current_epoch, train_acc, valid_acc, test_acc, training_time "
                          "from nb101intermediatestats order by id")
    assert per_epoch == [(index + 1, 1, int(entry["current_epoch"]), entry["train_accuracy"] * 100,
                          entry["validation_accuracy"] * 100, entry["test_accuracy"] * 100, entry["training_time"])
                         for index, entry in enumerate(stored[1:])]
    [model] = _rows(db, "select arch_id, hash, adjacency, ops, trainable_parameters, num_edges, conv3x3, conv1x1, "
                        "maxpool3x3 from nb101arch")
    assert model == (1, known["module_hash"], known["raw_adjacency"], known["raw_operations"], 8555530, 9, 3, 1, 1)


def test_the_real_record_is_labelled_partial(real_db):
    _, db = real_db
    provenance = read_provenance(db)
    assert not provenance.synthetic
    assert provenance.partial == "1 of 423,624 models, 1 of 5,083,488 runs of nasbench_full.tfrecord"
    assert provenance["missing"].endswith("00005c142e6f48ac74fdcf73e3439874 has 1/3 at 4 epochs, 0/3 at 12 epochs, "
                                          "0/3 at 36 epochs, 0/3 at 108 epochs")
    assert provenance.absent == {"num_epochs": ["12", "36", "108"]}
    assert provenance.evaluated_archs == 1
    sources = json.loads(provenance["sources"])
    assert sources[0]["sha256"] == "9a46bc1aa74daf6e6e1cfbe008c43b6125e11b15907d190a44b1ab3fabf1781d"


def test_a_partial_release_warns_what_it_lacks(tmp_path, capsys):
    convert(REAL, tmp_path / "out.db", progress=False)
    warning = capsys.readouterr().err
    assert f"warning: {REAL}: a partial release (nasbench_full: 1 of 423,624 models, 1 of 5,083,488 records;" in warning


def test_every_fixture_value_is_in_the_db_as_nni_stores_it(fixture_release):
    path, summary, db = fixture_release
    assert (summary.models, summary.configs, summary.trials, summary.per_epoch_rows) == (30, 120, 360, 720)
    arch_ids: dict[str, int] = {}
    repeats: dict[tuple[str, int], int] = {}
    expected_trials, expected_epochs = [], []
    for record in read_records(path):
        arch_id = arch_ids.setdefault(record.cell.module_hash, len(arch_ids) + 1)
        repeat = repeats[record.cell.module_hash, record.budget] = repeats.get((record.cell.module_hash,
                                                                                 record.budget), -1) + 1
        config_id = 4 * (arch_id - 1) + BUDGETS.index(record.budget) + 1  # NNI's numbering
        trial_id = 3 * (config_id - 1) + repeat + 1
        final, halfway = record.final, record.halfway
        expected_trials.append((trial_id, config_id, arch_id, record.budget, final.train_accuracy * 100,
                                final.validation_accuracy * 100, final.test_accuracy * 100,
                                record.parameters / 1e6, final.training_time))
        for row_id, evaluation in ((2 * trial_id - 1, halfway), (2 * trial_id, final)):
            expected_epochs.append((row_id, trial_id, evaluation.epoch, evaluation.train_accuracy * 100,
                                    evaluation.validation_accuracy * 100, evaluation.test_accuracy * 100,
                                    evaluation.training_time))
    assert _rows(db, "select s.id, s.config_id, c.arch_id, c.num_epochs, s.train_acc, s.valid_acc, s.test_acc, "
                     "s.parameters, s.training_time from nb101trialstats s join nb101trialconfig c on "
                     "c.id = s.config_id order by s.id") == sorted(expected_trials)
    assert _rows(db, "select id, trial_id, current_epoch, train_acc, valid_acc, test_acc, training_time "
                     "from nb101intermediatestats order by id") == sorted(expected_epochs)


def test_the_stored_spelling_and_nni_dict_are_read_back_exactly(fixture_release):
    path, _, db = fixture_release
    spellings = {record.cell.module_hash: record.cell for record in read_records(path)}
    models = _rows(db, "select hash, num_vertices, adjacency, ops, arch from nb101arch")
    assert len(models) == 30 and {row[1] for row in models} == {2, 3, 4, 5, 6, 7}
    for model_hash, num_vertices, adjacency, ops, arch in models:
        cell = spellings[model_hash]
        assert (adjacency, ops, num_vertices) == (cell.raw_adjacency, cell.raw_operations, cell.num_vertices)
        assert arch == json.dumps(cell.arch, sort_keys=True, separators=(",", ":"))  # NNI's JSONField text
    configs = _rows(db, "select c.arch, a.arch, c.hash, a.hash from nb101trialconfig c join nb101arch a "
                        "on a.arch_id = c.arch_id")
    assert len(configs) == 120 and all(row[0] == row[1] and row[2] == row[3] for row in configs)


def test_the_seed_means_are_the_runs_means(fixture_release):
    _, _, db = fixture_release
    means = _rows(db, "select num_epochs, arch_id, config_id, runs, train_acc, valid_acc, test_acc, training_time, "
                      "parameters from nb101meanstats order by num_epochs, arch_id")
    assert len(means) == 120
    for epochs, arch_id, config_id, runs, *values in means:
        runs_values = _rows(db, "select train_acc, valid_acc, test_acc, training_time, parameters from "
                                "nb101trialstats where config_id = ?", (config_id,))
        assert runs == len(runs_values) == 3
        assert values == pytest.approx([sum(column) / 3 for column in zip(*runs_values)], rel=1e-15)
        assert config_id == 4 * (arch_id - 1) + BUDGETS.index(epochs) + 1


def test_an_only108_release_is_detected_and_lacks_the_short_budgets(tmp_path):
    path = fixture.write_fixture(tmp_path / "nasbench_only108-fixture.tfrecord", "only108", 5)
    summary = convert(path, tmp_path / "nasbench101.db", progress=False, synthetic=True)
    assert (summary.input_format, summary.configs, summary.trials) == ("nasbench_only108", 5, 15)
    provenance = read_provenance(tmp_path / "nasbench101.db")
    assert provenance["input_format"] == "nasbench_only108"
    assert provenance.absent == {"num_epochs": ["4", "12", "36"]}
    assert _rows(tmp_path / "nasbench101.db", "select distinct num_epochs, id % 4 from nb101trialconfig") == [(108, 0)]


def _damaged(tmp_path, data: bytes, name: str = "nasbench_full-damaged.tfrecord"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _refused(path, output) -> str:
    with pytest.raises(InputError) as caught:
        convert(path, output, progress=False)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    return message


@pytest.mark.parametrize("damage, reason", [
    (lambda data, at: data[:at + 30] + bytes([data[at + 30] ^ 8]) + data[at + 31:], "payload's CRC-32C does not match"),
    (lambda data, at: data[:at + 200], "truncated record"),
])
def test_damage_fails_with_offset_and_record_and_keeps_an_earlier_db(tmp_path, damage, reason):
    good = fixture.write_fixture(tmp_path / "good.tfrecord", "full", 3)
    output = tmp_path / "nasbench101.db"
    convert(good, output, progress=False, synthetic=True)
    before = output.read_bytes()
    data = good.read_bytes()
    offsets = [offset for offset, _, _ in iter_tfrecords(good)]
    message = _refused(_damaged(tmp_path, damage(data, offsets[17])), output)
    assert reason in message and f"record 17 at byte offset {offsets[17]}" in message
    assert output.read_bytes() == before
    assert not list(tmp_path.glob(".nasbench101.db.tmp-*"))


def test_bad_json_and_bad_protobuf_fail_with_record_and_offset(tmp_path):
    real = REAL.read_bytes()
    for payload, reason in ((b'["00005c142e6f48ac74fdcf73e3439874", 4, "01"', "the payload is not JSON"),
                            (json.dumps(["00005c142e6f48ac74fdcf73e3439874", 4, "0100110001000000010010000010000001000000"
                                         "010000000", KNOWN[0]["raw_operations"], "/////w==\n"]).encode(),
                             "the metrics are not a ModelMetrics protobuf")):
        message = _refused(_damaged(tmp_path, real + fixture.frame(payload)), tmp_path / "out.db")
        assert f"record 1 at byte offset {len(real)}: {reason}" in message
    assert not (tmp_path / "out.db").exists()


def test_a_wrong_stored_hash_is_found_by_the_writer(tmp_path):
    """The writer process checks each new model's spelling and hash; the error names the model's first record."""
    model = fixture.select_models(2)[1]
    parameters, runs = fixture.model_runs(model, (108,))
    forged = fixture.Model("f" * 32, model.raw_adjacency, model.raw_operations)
    records = [fixture.encode_record(forged.module_hash, budget, forged.raw_adjacency, forged.raw_operations,
                                     run.evaluations, parameters, 1.0) for budget, run in runs]
    real = REAL.read_bytes()
    message = _refused(_damaged(tmp_path, real + b"".join(records)), tmp_path / "out.db")
    assert f"record 1 at byte offset {len(real)}: the stored module hash 'ffffffffffffffffffffffffffffffff' is not " \
           f"the cell's hash {model.module_hash}" in message


def test_a_value_that_is_not_a_float32_is_refused(tmp_path):
    model = fixture.select_models(1)[0]
    evaluations = [[0.0, 0.0, 0.1, 0.1, 0.1], [54.0, 100.0, 0.5, 0.5, 0.5], [108.0, 200.0, 0.75, 0.75, 0.1 + 0.2]]
    record = fixture.encode_record(model.module_hash, 108, model.raw_adjacency, model.raw_operations, evaluations,
                                   1000, 300.0)
    message = _refused(_damaged(tmp_path, record), tmp_path / "out.db")
    assert "record 0 at byte offset 0: test_accuracy at epoch 108: 0.30000000000000004 is not a float32 value" in message
    # Values at epoch 0 are not stored (0.1 is not a float32 either): only stored values must be float32.


def test_a_foreign_file_and_a_missing_file(tmp_path):
    message = _refused(_damaged(tmp_path, b"\x00" * 9), tmp_path / "out.db")
    assert "record 0 at byte offset 0" in message
    with pytest.raises(InputError, match="no such file; pass nasbench_full.tfrecord or nasbench_only108.tfrecord"):
        convert(tmp_path / "absent.tfrecord", tmp_path / "out.db", progress=False)


def test_a_release_file_with_a_wrong_checksum_needs_force(tmp_path):
    """Named like the release, the 417-byte record is not it: refused unless forced, and the metadata says so."""
    path = tmp_path / "nasbench_full.tfrecord"
    path.write_bytes(REAL.read_bytes())
    with pytest.raises(InputError, match="differs from the published 3d64db81"):
        convert(path, tmp_path / "out.db", progress=False)
    convert(path, tmp_path / "out.db", progress=False, force=True)
    assert "nasbench_full.tfrecord" in read_provenance(tmp_path / "out.db")["checksum_mismatch"]


def test_the_generate_command(tmp_path):
    output = tmp_path / "cli.db"
    done = subprocess.run([sys.executable, "-m", "nasbenchmark", "generate", "nb101", "--input", str(REAL), "--output",
                           str(output), "--quiet"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {output}: nasbench_full: 1 models, 1 configs, 1 runs, 2 per-epoch rows")
    bad = subprocess.run([sys.executable, "-m", "nasbenchmark", "generate", "nb101", "--input", str(tmp_path / "no"),
                          "--output", str(output)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "no such file" in bad.stderr


def test_the_db_has_every_declared_table_and_column(fixture_release):
    _, _, db = fixture_release
    with sqlite3.connect(db) as conn:
        for table in BENCHMARK.tables:
            columns = [row[1] for row in conn.execute(f"pragma table_xinfo({table.name})")]
            assert columns == table.column_names, table.name
