"""NAS-Bench-101 reading: TFRecord framing and CRCs, record decoding and checks, completeness.

The real record (tests/data/nasbench101) must decode to the known values; damaged and foreign input,
built from it or with the fixture writer's independent encoder, must fail with file, offset and record.
"""
from __future__ import annotations

import base64
import json
import random
import struct

import crc32c
import pytest

from conftest import real_data
from generators.common import InputError
from generators.fixtures import nb101 as fixture
from generators.nasbench101 import FULL, ONLY108, Completeness, iter_tfrecords, masked_crc32c, read_records
from generators.nasbench101 import records as reader
from generators.nasbench101.records import model_metrics_class
from generators.nasbench101.tfrecord import MAX_RECORD_BYTES

REAL = real_data("nasbench101", "nb101_record0.tfrecord")
KNOWN = json.loads(real_data("nasbench101", "nb101_known_values.json").read_text())["models"]
REAL_FIELDS = json.loads(REAL.read_bytes()[12:-4])
NNI_ARCH = {"op1": "conv3x3-bn-relu", "op2": "maxpool3x3", "op3": "conv3x3-bn-relu", "op4": "conv3x3-bn-relu",
            "op5": "conv1x1-bn-relu", "input1": [0], "input2": [1], "input3": [2], "input4": [0],
            "input5": [0, 3, 4], "input6": [2, 5]}


def _write(tmp_path, *records: bytes, name: str = "nasbench_full.tfrecord"):
    path = tmp_path / name
    path.write_bytes(b"".join(records))
    return path


def _error(path) -> str:
    with pytest.raises(InputError) as caught:
        for _ in read_records(path):
            pass
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    return message


# -- framing -----------------------------------------------------------------------------------------

def test_crc32c_and_mask_vectors():
    assert crc32c.crc32c(b"123456789") == 0xE3069283
    data = REAL.read_bytes()
    assert masked_crc32c(data[:8]) == 0x9BED2598 == struct.unpack("<I", data[8:12])[0]
    assert masked_crc32c(data[12:-4]) == 0x03691668 == struct.unpack("<I", data[-4:])[0]


def test_the_real_record_frames():
    assert [(offset, number, len(payload)) for offset, number, payload in iter_tfrecords(REAL)] == [(0, 0, 401)]


def test_offsets_and_numbers_across_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr("generators.nasbench101.tfrecord.BLOCK_BYTES", 1000)  # many refills, records split
    record = REAL.read_bytes()
    path = _write(tmp_path, *[record] * 25)
    assert [(offset, number) for offset, number, _ in iter_tfrecords(path)] == [(417 * n, n) for n in range(25)]


def _three_records(tmp_path) -> tuple[bytes, list[int]]:
    models = fixture.select_models(3)
    records = [next(fixture.model_records(model, (108,))) for model in models]
    offsets = [sum(map(len, records[:n])) for n in range(3)]
    return b"".join(records), offsets


@pytest.mark.parametrize("damage, reason", [
    (lambda data, at: data[:at + 20] + bytes([data[at + 20] ^ 1]) + data[at + 21:], "payload's CRC-32C does not match"),
    (lambda data, at: data[:at] + bytes([data[at] ^ 4]) + data[at + 1:], "length field's CRC-32C does not match"),
    (lambda data, at: data[:at + 100], "truncated record: the header announces"),
    (lambda data, at: data[:at + 7], "truncated record header (7 of 12 bytes"),
])
def test_damage_names_offset_and_record(tmp_path, damage, reason):
    data, offsets = _three_records(tmp_path)
    path = _write(tmp_path, damage(data, offsets[1]))
    message = _error(path)
    assert reason in message
    assert f"record 1 at byte offset {offsets[1]}" in message
    assert "download it again" in message


def test_absurd_length_is_refused_before_reading_it(tmp_path):
    length = struct.pack("<Q", 1 << 62)
    path = _write(tmp_path, length + struct.pack("<I", masked_crc32c(length)) + b"x")
    assert f"over the {MAX_RECORD_BYTES} bytes" in _error(path)


@pytest.mark.parametrize("content", [b"\x00" * 9, b"PK\x03\x04" + b"\x00" * 40, b"\x80\x02}q\x00(X" * 20])
def test_foreign_files_fail_at_the_first_header(tmp_path, content):
    message = _error(_write(tmp_path, content))
    assert "record 0 at byte offset 0" in message


def test_empty_file(tmp_path):
    assert "no records" in _error(_write(tmp_path, b""))


# -- decoding ------------------------------------------------------------------------------------------

def test_the_real_record_decodes_to_the_known_values():
    [record] = list(read_records(REAL))
    known = KNOWN[0]
    stored = known["epochs_4_record_in_file"]
    assert (record.offset, record.record_number, record.budget) == (0, 0, 4)
    assert record.cell.module_hash == known["module_hash"]
    assert record.cell.raw_adjacency == known["raw_adjacency"]
    assert record.cell.raw_operations == known["raw_operations"]
    assert record.cell.num_vertices == 7
    assert record.cell.arch == NNI_ARCH
    assert record.cell.ops == known["raw_operations"].split(",")
    assert record.parameters == known["trainable_parameters"] == 8555530
    assert record.total_time == stored["total_time"]
    for evaluation, expected in ((record.halfway, stored["evaluation_data"][1]),
                                 (record.final, stored["evaluation_data"][2])):
        assert evaluation.epoch == expected["current_epoch"]
        assert evaluation.training_time == expected["training_time"]
        assert evaluation.train_accuracy == expected["train_accuracy"]
        assert evaluation.validation_accuracy == expected["validation_accuracy"]
        assert evaluation.test_accuracy == expected["test_accuracy"]
    assert (record.halfway.epoch, record.final.epoch) == (2, 4)


def test_the_real_record_is_a_partial_full_file():
    completeness = Completeness(REAL)
    assert [completeness.add(record) for record in read_records(REAL)] == [(1, 0)]
    assert completeness.kind == FULL
    assert completeness.missing() == (
        "nasbench_full: 1 of 423,624 models, 1 of 5,083,488 records; 1 model lacks runs, e.g. "
        "00005c142e6f48ac74fdcf73e3439874 has 1/3 at 4 epochs, 0/3 at 12 epochs, 0/3 at 36 epochs, 0/3 at 108 epochs")


def _real_evaluations() -> list[list[float]]:
    entries = KNOWN[0]["epochs_4_record_in_file"]["evaluation_data"]
    return [[entry[name] for name in ("current_epoch", "training_time", "train_accuracy", "validation_accuracy",
                                      "test_accuracy")] for entry in entries]


def _payload(fields) -> bytes:
    return fixture.frame(json.dumps(fields).encode())


def _with(index: int, value) -> bytes:
    fields = list(REAL_FIELDS)
    fields[index] = value
    return _payload(fields)


def _metrics(evaluations=None, parameters=8555530, total_time=413.7) -> str:
    return base64.encodebytes(fixture.encode_metrics(evaluations or _real_evaluations(), parameters,
                                                     total_time)).decode()


def _evaluations_with(entry: int, field: int, value: float) -> list[list[float]]:
    evaluations = _real_evaluations()
    evaluations[entry][field] = value
    return evaluations


def _protobuf(edit) -> str:
    """Metrics built with the protobuf class and changed by ``edit``: what the fixture encoder never writes."""
    message = model_metrics_class()()
    for values in _real_evaluations():
        entry = message.evaluation_data.add()
        for name, value in zip(("current_epoch", "training_time", "train_accuracy", "validation_accuracy",
                                "test_accuracy"), values):
            setattr(entry, name, value)
    message.trainable_parameters = 8555530
    message.total_time = 413.7
    edit(message)
    return base64.encodebytes(message.SerializePartialToString()).decode()


@pytest.mark.parametrize("record, reason", [
    (fixture.frame(b"not json"), "the payload is not JSON"),
    (fixture.frame(b"[" * 60000), "the payload is not JSON (RecursionError"),
    (fixture.frame(b'["\xff"]'), "the payload is not JSON (UnicodeDecodeError"),
    (_payload(REAL_FIELDS[:4]), "is not the JSON list"),
    (_payload({"hash": 1}), "is not the JSON list"),
    (_with(0, 7), "module_hash must be a JSON string"),
    (_with(1, 5), "epochs = 5 is not one of the budgets 4, 12, 36, 108"),
    (_with(1, 4.0), "epochs = 4.0 is not one of"),
    (_with(1, True), "epochs = true is not one of"),
    (_with(0, "0" * 32), "the stored module hash '00000000000000000000000000000000' is not the cell's hash "
                         "00005c142e6f48ac74fdcf73e3439874"),
    (_with(2, "0100"), "the matrix has 2 vertices but there are 7 ops"),
    (_with(2, "01" * 32), "is not a square 0/1 matrix of at most 7 vertices"),
    (_with(2, "0" * 48 + "2"), "is not a square 0/1 matrix"),
    (_with(3, REAL_FIELDS[3].replace("maxpool3x3", "avgpool3x3")), 'vertex 2 has unknown op "avgpool3x3"'),
    (_payload(["0" * 32, 4, "0100001000000000", "input,conv3x3-bn-relu,conv3x3-bn-relu,output", REAL_FIELDS[4]]),
     "no path from the input to the output"),
    (_payload(["0" * 32, 4, "0110000100000000", "input,conv3x3-bn-relu,maxpool3x3,output", REAL_FIELDS[4]]),
     "has vertices on no input-to-output path (the release stores pruned cells)"),
    (_with(4, "!!!!"), "the metrics are not base64"),
    (_with(4, base64.encodebytes(b"\xff\xff\xff").decode()), "the metrics are not a ModelMetrics protobuf"),
    (_with(4, _metrics(_real_evaluations()[:2])), "2 evaluation_data entries instead of 3"),
    (_with(4, _metrics(_evaluations_with(1, 0, 3.0))), "at epoch 3.0 where epoch 2 belongs"),
    (_with(4, _metrics(_evaluations_with(2, 0, 108.0))), "at epoch 108.0 where epoch 4 belongs"),
    (_with(4, _metrics(_evaluations_with(2, 4, 1.5))), "test_accuracy at epoch 4 must be a fraction in [0, 1], got 1."),
    (_with(4, _metrics(_evaluations_with(1, 2, float("nan")))), "train_accuracy at epoch 2 must be a fraction"),
    (_with(4, _metrics(_evaluations_with(0, 3, -0.1))), "validation_accuracy at epoch 0 must be a fraction"),
    (_with(4, _metrics(_evaluations_with(2, 1, -1.0))), "training_time at epoch 4 must be finite and >= 0"),
    (_with(4, _metrics(_evaluations_with(2, 1, float("inf")))), "training_time at epoch 4 must be finite"),
    (_with(4, _metrics(parameters=0)), "trainable_parameters must be positive, got 0"),
    (_with(4, _metrics(total_time=-5.0)), "total_time must be finite and >= 0, got -5.0"),
    (_with(4, _protobuf(lambda m: m.ClearField("total_time"))), "the metrics lack total_time;"),
    (_with(4, _protobuf(lambda m: m.ClearField("trainable_parameters"))), "the metrics lack trainable_parameters"),
    (_with(4, _protobuf(lambda m: m.evaluation_data[2].ClearField("test_accuracy"))),
     "the metrics lack evaluation_data[2].test_accuracy"),
])
def test_bad_records_name_offset_record_and_reason(tmp_path, record, reason):
    real = REAL.read_bytes()
    message = _error(_write(tmp_path, real, record))
    assert f"record 1 at byte offset {len(real)}: " in message
    assert reason in message
    assert "not a record of nasbench_full.tfrecord or nasbench_only108.tfrecord" in message


def test_checkpoint_path_is_accepted(tmp_path):
    path = _write(tmp_path, _with(4, _protobuf(lambda m: setattr(m.evaluation_data[2], "checkpoint_path", "gs://b/m"))))
    [record] = list(read_records(path))
    assert record.final.test_accuracy == KNOWN[0]["epochs_4_record_in_file"]["evaluation_data"][2]["test_accuracy"]


# -- across records ------------------------------------------------------------------------------------

def _records(models, budgets) -> list[bytes]:
    return [record for model in models for record in fixture.model_records(model, budgets)]


def test_kinds_and_what_is_missing(tmp_path):
    models = fixture.select_models(3)
    for kind, budgets, expected in [
        (FULL, (4, 12, 36, 108), "nasbench_full: 3 of 423,624 models, 36 of 5,083,488 records"),
        (ONLY108, (108,), "nasbench_only108: 3 of 423,624 models, 9 of 1,270,872 records"),
    ]:
        path = _write(tmp_path, *_records(models, budgets))
        completeness = Completeness(path)
        for record in read_records(path):
            completeness.add(record)
        assert completeness.kind == kind
        assert completeness.missing() == expected  # every model complete, most models absent


def test_a_missing_run_is_named(tmp_path):
    models = fixture.select_models(3)
    records = _records(models, (4, 12, 36, 108))
    del records[12 + 7]  # the second model's second run at 36 epochs
    path = _write(tmp_path, *records)
    completeness = Completeness(path)
    for record in read_records(path):
        completeness.add(record)
    assert completeness.missing().endswith(
        f"; 1 model lacks runs, e.g. {models[1].module_hash} has 3/3 at 4 epochs, 3/3 at 12 epochs, "
        "2/3 at 36 epochs, 3/3 at 108 epochs")


def test_repeats_are_numbered_in_file_order_whatever_the_order(tmp_path):
    models = fixture.select_models(4)
    records = _records(models, (4, 12, 36, 108))
    random.Random(7).shuffle(records)
    path = _write(tmp_path, *records)
    completeness = Completeness(path)
    seen: dict[tuple[str, int], list[int]] = {}
    for record in read_records(path):
        arch_id, repeat = completeness.add(record)
        seen.setdefault((record.cell.module_hash, arch_id, record.budget), []).append(repeat)
    assert len(seen) == 16 and all(repeats == [0, 1, 2] for repeats in seen.values())
    first_seen = list(dict.fromkeys(record.cell.module_hash for record in read_records(path)))
    assert sorted({(model_hash, arch_id) for model_hash, arch_id, _ in seen}) == sorted(
        (model_hash, first_seen.index(model_hash) + 1) for model_hash in first_seen)
    assert completeness.num_models == 4 and completeness.records == 48


def test_each_cell_is_hashed_once_in_any_record_order(tmp_path, monkeypatch):
    records = _records(fixture.select_models(5), (4, 12, 36, 108))
    random.Random(3).shuffle(records)
    parse_cell, spellings = reader.parse_cell, []

    def counting_parse_cell(*spelling):
        spellings.append(spelling)
        return parse_cell(*spelling)

    monkeypatch.setattr(reader, "parse_cell", counting_parse_cell)
    assert len(list(read_records(_write(tmp_path, *records)))) == 60
    assert len(spellings) == len(set(spellings)) == 5


def _consume(path) -> None:
    completeness = Completeness(path)
    for record in read_records(path):
        completeness.add(record)


def test_a_fourth_repeat_is_refused(tmp_path):
    records = _records(fixture.select_models(1), (108,))
    path = _write(tmp_path, *records, records[0])
    with pytest.raises(InputError, match=r"record 3 at byte offset \d+: a repeat too many of model .* at 108 epochs"):
        _consume(path)


def test_parameters_must_agree_within_a_model(tmp_path):
    model = fixture.select_models(1)[0]
    parameters, runs = fixture.model_runs(model, (108,))
    records = [fixture.encode_record(model.module_hash, budget, model.raw_adjacency, model.raw_operations,
                                     run.evaluations, parameters + index, run.total_time)
               for index, (budget, run) in enumerate(runs)]
    with pytest.raises(InputError, match=f"record 1 .*has {parameters + 1} trainable parameters, earlier records "
                                         f"{parameters}"):
        _consume(_write(tmp_path, *records))


def test_one_spelling_per_model(tmp_path):
    # The README's spelling of the Inception-like cell and its stored one: valid, same hash, two spellings.
    readme_adjacency = "0111010" "0000001" "0000001" "0000100" "0000001" "0000001" "0000000"
    readme_ops = "input,conv1x1-bn-relu,conv3x3-bn-relu,conv3x3-bn-relu,conv3x3-bn-relu,maxpool3x3,output"
    stored = KNOWN[1]
    evaluations = [[epoch, 1.0, 0.5, 0.5, 0.5] for epoch in (0.0, 54.0, 108.0)]
    spellings = ((stored["raw_adjacency"], stored["raw_operations"]), (readme_adjacency, readme_ops))
    records = [fixture.encode_record(stored["module_hash"], 108, adjacency, ops, evaluations, 2694282, 9.0)
               for adjacency, ops in spellings]
    with pytest.raises(InputError, match=f"record 1 .*model {stored['module_hash']} is stored as {readme_adjacency}"):
        _consume(_write(tmp_path, *records))


def _resident_bytes() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))


def test_parsing_millions_of_records_keeps_memory_bounded():
    """The decoder parses into one reused message; upb keeps each parse's allocations until the message goes, so
    it is renewed every PARSES records (without that, the 5 million records of the release took 1.3 GB)."""
    raw = base64.b64decode(REAL_FIELDS[4])
    before = _resident_bytes()
    for _ in range(100_000):
        reader._metrics(base64.b64encode(raw))
    assert _resident_bytes() - before < 8 * 2**20
