"""The NAS-Bench-101 fixture writer: byte-compatible with the real record, the real search space, any scale."""
from __future__ import annotations

import base64
import json
import struct
from collections import Counter

import pytest

from conftest import real_data
from generators.fixtures import nb101 as fixture
from generators.nasbench101 import FULL, ONLY108, Completeness, iter_tfrecords, read_records

KNOWN = json.loads(real_data("nasbench101", "nb101_known_values.json").read_text())["models"]


def test_the_real_record_reencodes_byte_for_byte():
    """From the published values (not from our reader): the same 417 bytes as the release."""
    model = KNOWN[0]
    stored = model["epochs_4_record_in_file"]
    evaluations = [[entry[name] for name in ("current_epoch", "training_time", "train_accuracy",
                                             "validation_accuracy", "test_accuracy")]
                   for entry in stored["evaluation_data"]]
    record = fixture.encode_record(model["module_hash"], 4, model["raw_adjacency"], model["raw_operations"],
                                   evaluations, stored["trainable_parameters"], stored["total_time"])
    assert record == real_data("nasbench101", "nb101_record0.tfrecord").read_bytes()
    assert len(record) == 417


def _read(path):
    completeness = Completeness(path)
    records = [(record, completeness.add(record)) for record in read_records(path)]
    return records, completeness


@pytest.mark.parametrize("kind, budgets", [("full", (4, 12, 36, 108)), ("only108", (108,))])
@pytest.mark.parametrize("num_models", [2, 40])
def test_fixture_reads_back_checked(tmp_path, kind, budgets, num_models):
    path = fixture.write_fixture(tmp_path / f"nasbench_{kind}.tfrecord", kind, num_models)
    records, completeness = _read(path)
    assert completeness.kind == (FULL if kind == "full" else ONLY108)
    assert completeness.num_models == num_models
    assert len(records) == num_models * len(budgets) * 3
    hashes = [record.cell.module_hash for record, _ in records]
    assert hashes == sorted(hashes)
    assert [(record.budget, number) for record, number in records[:len(budgets) * 3]] == [
        (budget, (1, repeat)) for budget in budgets for repeat in range(3)]
    for record, _ in records:
        assert (record.halfway.epoch, record.final.epoch) == (record.budget // 2, record.budget)
        assert record.final.training_time > record.halfway.training_time > 0
        assert record.total_time > record.final.training_time
        for evaluation in (record.halfway, record.final):
            for value in evaluation[1:]:
                assert struct.unpack("<f", struct.pack("<f", value))[0] == value  # float32 widened
    if num_models == 40:
        assert {record.cell.num_vertices for record, _ in records} == {2, 3, 4, 5, 6, 7}


def test_fixture_records_are_formatted_like_the_release(tmp_path):
    path = fixture.write_fixture(tmp_path / "nasbench_full.tfrecord", "full", 12)
    for _, _, payload in iter_tfrecords(path):
        fields = json.loads(payload)
        assert payload == json.dumps(fields).encode()  # ", " separators, nothing else
        lines = fields[4].split("\n")
        assert lines[-1] == "" and all(len(line) == 76 for line in lines[:-2]) and 0 < len(lines[-2]) <= 76
        metrics = base64.b64decode(fields[4])
        # Three 45-byte EvaluationData entries (5 doubles, no checkpoint_path), as in the real record.
        assert [metrics[i * 47:i * 47 + 2] for i in range(3)] == [b"\x0a\x2d"] * 3
        assert metrics[141:142] == b"\x10"


def test_fixtures_are_deterministic_and_scale_independent(tmp_path):
    small = fixture.write_fixture(tmp_path / "a.tfrecord", "full", 5)
    again = fixture.write_fixture(tmp_path / "b.tfrecord", "full", 5)
    assert small.read_bytes() == again.read_bytes()
    larger = {payload for _, _, payload in iter_tfrecords(fixture.write_fixture(tmp_path / "c.tfrecord", "full", 30))}
    assert {payload for _, _, payload in iter_tfrecords(small)} <= larger
    reseeded = fixture.write_fixture(tmp_path / "d.tfrecord", "full", 5, seed=1)
    assert reseeded.read_bytes() != small.read_bytes()
    assert ([record.cell for record in read_records(reseeded)] == [record.cell for record in read_records(small)])


def test_the_first_models_of_each_size():
    assert list(fixture.models_with_vertices(2)) == [
        fixture.Model("043721b9c7fe8c5fad811d47d83132ec", "0100", "input,output")]
    three = list(fixture.models_with_vertices(3))
    # Chain and chain plus the input -> output edge, each with the three ops.
    assert [(model.raw_adjacency, model.raw_operations.split(",")[1]) for model in three] == [
        (adjacency, op) for adjacency in ("010001000", "011001000") for op in fixture.OPS]


def test_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="num_models must be in 1..423624"):
        fixture.write_fixture(tmp_path / "x", "full", 0)
    with pytest.raises(ValueError, match="unknown kind"):
        fixture.write_fixture(tmp_path / "x", "only12", 2)
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_the_enumeration_is_the_real_space():
    """All 423,624 models (the release's count), and the spelling the release stores for both real models."""
    models = {model.module_hash: model for vertices in range(2, 8) for model in fixture.models_with_vertices(vertices)}
    assert len(models) == fixture.SPACE_SIZE == 423624
    # 7-vertex models as the plain enumeration (every labeling of every matrix hashed) counts them.
    assert Counter(len(model.raw_operations.split(",")) for model in models.values())[7] == 359082
    for known in KNOWN:
        stored = models[known["module_hash"]]
        assert (stored.raw_adjacency, stored.raw_operations) == (known["raw_adjacency"], known["raw_operations"])
    assert min(models) == "00005c142e6f48ac74fdcf73e3439874"  # the release's first record
