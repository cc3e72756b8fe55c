"""NAS-Bench-101 records: each payload decoded and checked into plain tuples; what a file lacks.

A payload is the JSON list ``[module_hash, epochs, raw_adjacency, raw_operations, raw_metrics]``:
the adjacency matrix as a row-major string of ``0``/``1``, the ops comma-separated, the metrics a
MIME-base64 ``nasbench.ModelMetrics`` protobuf whose three ``evaluation_data`` entries are epoch 0,
halfway and the end of training. Every record is checked (``decode_record``); checks across records
(repeats per budget, one parameter count and one spelling per model) and the file's kind are
``Completeness``'s.
"""
from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import re
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

from generators.common import InputError
from nasbenchmark.nasbench101.constants import (AVAILABLE_OPS, BUDGETS, INPUT, LABEL2ID, MAX_EDGES, MAX_VERTICES,
                                                NUM_MODELS, NUM_REPEATS, OUTPUT)
from nasbenchmark.nasbench101.graph_util import (nasbench_format_to_architecture_repr, nasbench_hash_module,
                                                 validate)

from .tfrecord import iter_tfrecords

#: Cells kept decoded and hashed: more than the 423,624 of the release, so a file in any record order
#: hashes each cell once; bounded, so a hostile file of distinct spellings cannot grow it without end.
CELL_CACHE_SIZE = 1 << 19
_JSON = json.JSONDecoder()
_INNER_LABELS = {op: LABEL2ID[op] for op in AVAILABLE_OPS}
_NOT_A_RELEASE = "not a record of nasbench_full.tfrecord or nasbench_only108.tfrecord as released"


class Cell(NamedTuple):
    """A model's cell as the record stores it (nasbench's canonical, pruned spelling)."""

    module_hash: str
    raw_adjacency: str
    raw_operations: str
    num_vertices: int

    @property
    def matrix(self) -> list[list[int]]:
        return _rows(self.raw_adjacency, self.num_vertices)

    @property
    def ops(self) -> list[str]:
        return self.raw_operations.split(",")

    @property
    def arch(self) -> dict:
        """NNI's dict: ``op1``.. and ``input1``.. (sorted predecessors)."""
        return nasbench_format_to_architecture_repr(self.matrix, self.ops)[1]


class Evaluation(NamedTuple):
    """One evaluation during a training run: times in seconds, accuracies as fractions."""

    epoch: int
    training_time: float
    train_accuracy: float
    validation_accuracy: float
    test_accuracy: float


class Record(NamedTuple):
    """One training run: a model trained for ``budget`` epochs once (the release has 3 per budget)."""

    offset: int
    record_number: int
    cell: Cell
    budget: int
    parameters: int
    halfway: Evaluation
    final: Evaluation
    #: Training and evaluation time of the run, seconds (diagnostic in nasbench).
    total_time: float


_EVALUATION_FIELDS = ("current_epoch", "training_time", "train_accuracy", "validation_accuracy", "test_accuracy")


@functools.lru_cache(maxsize=1)
def model_metrics_class() -> type:
    """The ``nasbench.ModelMetrics`` message class, built from its descriptor (model_metrics.proto).

    The values the release always sets are declared ``required`` here, ``optional`` in the .proto:
    the wire format is the same, and one ``IsInitialized()`` call then checks all 17 are present.
    """
    proto = descriptor_pb2.FileDescriptorProto(name="nasbench/model_metrics.proto", package="nasbench",
                                               syntax="proto2")
    field = descriptor_pb2.FieldDescriptorProto
    evaluation = proto.message_type.add(name="EvaluationData")
    for number, name in enumerate(_EVALUATION_FIELDS, 1):
        evaluation.field.add(name=name, number=number, type=field.TYPE_DOUBLE, label=field.LABEL_REQUIRED)
    evaluation.field.add(name="checkpoint_path", number=6, type=field.TYPE_STRING, label=field.LABEL_OPTIONAL)
    metrics = proto.message_type.add(name="ModelMetrics")
    metrics.field.add(name="evaluation_data", number=1, type=field.TYPE_MESSAGE, label=field.LABEL_REPEATED,
                      type_name=".nasbench.EvaluationData")
    metrics.field.add(name="trainable_parameters", number=2, type=field.TYPE_INT32, label=field.LABEL_REQUIRED)
    metrics.field.add(name="total_time", number=3, type=field.TYPE_DOUBLE, label=field.LABEL_REQUIRED)
    pool = descriptor_pool.DescriptorPool()  # our own pool: no clash with another copy of the .proto
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("nasbench.ModelMetrics"))


def _rows(raw_adjacency: str, size: int) -> list[list[int]]:
    """The row-major ``0``/``1`` string as a matrix."""
    return [[int(bit) for bit in raw_adjacency[row * size:(row + 1) * size]] for row in range(size)]


@functools.lru_cache(maxsize=1 << 16)  # the release's models share far fewer adjacency matrices than that
def _pruned_shape(raw_adjacency: str) -> list[list[int]] | None:
    """The matrix of a valid stored adjacency (square 0/1, at most 7 vertices and 9 edges, upper-triangular,
    every vertex on an input-to-output path), or None: ``parse_cell`` then asks ``validate`` for the reason."""
    size = math.isqrt(len(raw_adjacency))
    if (size * size != len(raw_adjacency) or not 2 <= size <= MAX_VERTICES or raw_adjacency.count("1") > MAX_EDGES
            or not set(raw_adjacency) <= {"0", "1"}):
        return None
    matrix = _rows(raw_adjacency, size)
    vertices = range(size)
    if any(matrix[i][j] for i in vertices for j in range(i + 1)):
        return None
    from_input = [vertex == 0 for vertex in vertices]
    for target in vertices[1:]:
        from_input[target] = any(from_input[source] and matrix[source][target] for source in range(target))
    to_output = [vertex == size - 1 for vertex in vertices]
    for source in reversed(vertices[:-1]):
        to_output[source] = any(to_output[target] and matrix[source][target] for target in range(source + 1, size))
    return matrix if all(from_input) and all(to_output) else None


def parse_cell(stored_hash: str, raw_adjacency: str, raw_operations: str) -> Cell:
    """The stored spelling checked (valid, already pruned) and hashed: the ``Cell`` if its module hash is
    ``stored_hash``, else ValueError with the reason."""
    ops = raw_operations.split(",")
    matrix = _pruned_shape(raw_adjacency)
    if matrix is None or len(ops) != len(matrix) or ops[0] != INPUT or ops[-1] != OUTPUT or any(
            op not in _INNER_LABELS for op in ops[1:-1]):
        _refuse_cell(raw_adjacency, ops)
    labels = [LABEL2ID[INPUT], *(_INNER_LABELS[op] for op in ops[1:-1]), LABEL2ID[OUTPUT]]
    module_hash = nasbench_hash_module(matrix, labels)
    if module_hash != stored_hash:
        raise ValueError(f"the stored module hash {stored_hash[:40]!r} is not the cell's hash {module_hash}")
    return Cell(module_hash, raw_adjacency, raw_operations, len(matrix))


def _refuse_cell(raw_adjacency: str, ops: list[str]) -> None:
    """Raise ValueError with ``validate``'s reason the stored spelling is not a pruned NAS-Bench-101 model."""
    size = math.isqrt(len(raw_adjacency))
    if size * size != len(raw_adjacency) or not set(raw_adjacency) <= {"0", "1"} or size > MAX_VERTICES:
        raise ValueError(f"the adjacency {raw_adjacency[:60]!r} is not a square 0/1 matrix of at most "
                         f"{MAX_VERTICES} vertices written row by row")
    spelling = f"{raw_adjacency} {','.join(ops)[:200]}"
    try:
        pruned, _ = validate(_rows(raw_adjacency, size), ops)
    except ValueError as exc:
        raise ValueError(f"the cell {spelling} is not a NAS-Bench-101 model: {exc}") from None
    if len(pruned) != size:
        raise ValueError(f"the cell {spelling} has vertices on no input-to-output path (the release stores pruned "
                         "cells)")
    raise AssertionError(f"_pruned_shape refused the valid pruned cell {spelling}")


def stored_cell(stored_hash: str, raw_adjacency: str, raw_operations: str) -> Cell:
    """The spelling as the record states it, unchecked: for a reader whose caller checks each new model's
    spelling with ``parse_cell`` (the converter does so in the writer process)."""
    return Cell(stored_hash, raw_adjacency, raw_operations, math.isqrt(len(raw_adjacency)))


#: The payload as the release's writer produced it: ``json.dumps`` of the five fields, the metrics' base64
#: with ``\n`` escapes. A payload that matches, with no other escape in the metrics, is valid JSON of exactly
#: that shape, read without a JSON parser (1 us instead of 7 for each of 5 million records); any other
#: payload goes through ``json``.
_RELEASE_PAYLOAD = re.compile(rb'\["([0-9a-f]{32})", (0|[1-9][0-9]{0,8}), "([01]{1,81})", "([a-z0-9,-]{1,400})", '
                              rb'"([A-Za-z0-9+/=\\]{1,4000})"\]')


def _fields(payload: bytes) -> tuple:
    """``(module_hash, epochs, raw_adjacency, raw_operations, metrics_base64)`` of a payload, types checked."""
    match = _RELEASE_PAYLOAD.fullmatch(payload)
    if match:
        stored_hash, budget, raw_adjacency, raw_operations, raw_metrics = match.groups()
        raw_metrics = raw_metrics.replace(b"\\n", b"")
        if b"\\" not in raw_metrics:
            return stored_hash.decode(), int(budget), raw_adjacency.decode(), raw_operations.decode(), raw_metrics
    try:
        text = payload.decode("utf-8")
        fields, end = _JSON.raw_decode(text)  # the release has no white space around the list
        if end != len(text):
            raise ValueError(f"extra data after the JSON value at character {end}")
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting deeper than the parser's stack
        raise ValueError(f"the payload is not JSON ({type(exc).__name__}: {exc})") from None
    if type(fields) is not list or len(fields) != 5:
        raise ValueError("the payload is not the JSON list [module_hash, epochs, adjacency, operations, metrics]")
    stored_hash, budget, raw_adjacency, raw_operations, raw_metrics = fields
    if not type(stored_hash) is type(raw_adjacency) is type(raw_operations) is type(raw_metrics) is str:
        name, value = next((name, value) for name, value in zip(("module_hash", "epochs", "adjacency", "operations",
                                                                 "metrics"), fields)
                           if name != "epochs" and type(value) is not str)
        raise ValueError(f"{name} must be a JSON string, got {json.dumps(value)[:40]}")
    try:
        metrics = raw_metrics.replace("\n", "").encode("ascii")
    except UnicodeEncodeError:
        raise ValueError("the metrics are not base64 (non-ASCII characters)") from None
    return stored_hash, budget, raw_adjacency, raw_operations, metrics


def decode_record(payload: bytes, offset: int = 0, record_number: int = 0,
                  cell: Callable[[str, str, str], Cell] = parse_cell) -> Record:
    """One payload as a ``Record``; ValueError with the reason if any check fails. ``cell`` turns the stored
    hash and spelling into the ``Cell`` (``parse_cell`` checks and hashes it; ``read_records`` caches it).

    This runs for each of the 5 million records of the full release: checks are one test on the good
    path and name the problem only once it fails.
    """
    stored_hash, budget, raw_adjacency, raw_operations, raw_metrics = _fields(payload)
    if type(budget) is not int or budget not in BUDGETS:  # neither 4.0 nor true
        raise ValueError(f"epochs = {json.dumps(budget)[:40]} is not one of the budgets {', '.join(map(str, BUDGETS))}")
    parsed = cell(stored_hash, raw_adjacency, raw_operations)
    metrics = _metrics(raw_metrics)
    evaluations = metrics.evaluation_data
    if len(evaluations) != 3:
        raise ValueError(f"the metrics have {len(evaluations)} evaluation_data entries instead of 3 "
                         "(epoch 0, halfway, final)")
    start, halfway, final = evaluations
    half = budget // 2
    e0, t0, a0, v0, s0 = (start.current_epoch, start.training_time, start.train_accuracy, start.validation_accuracy,
                          start.test_accuracy)
    e1, t1, a1, v1, s1 = (halfway.current_epoch, halfway.training_time, halfway.train_accuracy,
                          halfway.validation_accuracy, halfway.test_accuracy)
    e2, t2, a2, v2, s2 = (final.current_epoch, final.training_time, final.train_accuracy, final.validation_accuracy,
                          final.test_accuracy)
    parameters, total_time = metrics.trainable_parameters, metrics.total_time
    # One test on the good path (NaN fails every comparison); _explain finds the first problem otherwise.
    if not (e0 == 0 and e1 == half and e2 == budget and parameters > 0 and 0 <= total_time < math.inf
            and 0 <= t0 < math.inf and 0 <= t1 < math.inf and 0 <= t2 < math.inf
            and 0 <= a0 <= 1 and 0 <= v0 <= 1 and 0 <= s0 <= 1 and 0 <= a1 <= 1 and 0 <= v1 <= 1 and 0 <= s1 <= 1
            and 0 <= a2 <= 1 and 0 <= v2 <= 1 and 0 <= s2 <= 1):
        _explain(((start, 0), (halfway, half), (final, budget)), parameters, total_time)
    return Record(offset, record_number, parsed, budget, parameters, Evaluation(half, t1, a1, v1, s1),
                  Evaluation(budget, t2, a2, v2, s2), total_time)


class _ReusedMessage:
    """One ``ModelMetrics`` message parsed into again and again: 3 times faster than a new message per record.
    upb's arena keeps what every parse allocated until the message is dropped, so a fresh one is made every
    ``PARSES`` records (about 1 MB each; without it 5 million records took 1.3 GB)."""

    PARSES = 4096

    def __init__(self):
        self.message, self.parses = None, 0

    def parse(self, data: bytes):
        if self.parses % self.PARSES == 0:
            self.message = model_metrics_class()()
        self.parses += 1
        self.message.Clear()
        self.message.MergeFromString(data)
        return self.message


_REUSED = _ReusedMessage()


def _metrics(raw_metrics: bytes):
    """The ``ModelMetrics`` message of the base64 bytes, every value present. The message is reused by
    the next call: read what you need first."""
    try:
        metrics = _REUSED.parse(base64.b64decode(raw_metrics, validate=True))
    except binascii.Error as exc:
        raise ValueError(f"the metrics are not base64 ({exc})") from None
    except DecodeError as exc:
        raise ValueError(f"the metrics are not a ModelMetrics protobuf ({exc})") from None
    if not metrics.IsInitialized():
        raise ValueError(f"the metrics lack {', '.join(metrics.FindInitializationErrors())}")
    return metrics


def _explain(evaluations, parameters: int, total_time: float) -> None:
    """Raise ValueError for the first problem of the metrics: evaluations in order (each at its epoch, times
    >= 0, accuracies in [0, 1]), then the parameters and the total time."""
    for entry, epoch in evaluations:
        if entry.current_epoch != epoch:
            raise ValueError(f"an evaluation is at epoch {entry.current_epoch} where epoch {epoch} belongs "
                             "(evaluations are at epoch 0, half the budget and the budget)")
        if not 0 <= entry.training_time < math.inf:
            raise ValueError(f"training_time at epoch {epoch} must be finite and >= 0, got {entry.training_time}")
        for name in _EVALUATION_FIELDS[2:]:
            value = getattr(entry, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} at epoch {epoch} must be a fraction in [0, 1], got {value}")
    if parameters <= 0:
        raise ValueError(f"trainable_parameters must be positive, got {parameters}")
    raise ValueError(f"total_time must be finite and >= 0, got {total_time}")


def read_records(path: Path | str, check_cells: bool = True) -> Iterator[Record]:
    """Every record of a ``nasbench_*.tfrecord`` file in file order, each checked (``decode_record``).

    ``check_cells=False`` leaves the spelling and hash unchecked (``stored_cell``): the caller then checks
    the first record of each model with ``parse_cell`` (the converter does, in its writer process), and
    ``Completeness`` makes every later record of the model spell it the same way.
    ``InputError`` naming the file, byte offset and record number on the first bad record.
    """
    path = Path(path)
    cell = functools.lru_cache(maxsize=CELL_CACHE_SIZE)(parse_cell) if check_cells else stored_cell
    empty = True
    for offset, number, payload in iter_tfrecords(path):
        try:
            record = decode_record(payload, offset, number, cell)
        except ValueError as exc:
            raise record_error(path, number, offset, str(exc)) from None
        empty = False
        yield record
    if empty:
        raise InputError(f"{path}: the file has no records; expected nasbench_full.tfrecord or "
                         "nasbench_only108.tfrecord")


def record_error(path: Path, number: int, offset: int, reason: str) -> InputError:
    return InputError(f"{path}: record {number} at byte offset {offset}: {reason}; {_NOT_A_RELEASE}")


# -- across records --------------------------------------------------------------------------------

FULL = "nasbench_full"
ONLY108 = "nasbench_only108"
_SLOT = {budget: slot for slot, budget in enumerate(BUDGETS, 3)}  # slots 0..2: arch_id, cell, parameters


class Completeness:
    """Checks across the records of one file, fed in file order, in bounded memory: one small list per
    model, at most the 423,624 of the space.

    ``add`` numbers each model (``arch_id``, by first appearance) and each run's repeat, and refuses a
    fourth repeat, a second parameter count or a second spelling of a model. ``kind`` is ``FULL`` once a
    budget other than 108 is seen, else ``ONLY108``; ``missing()`` says in one line what a partial file lacks.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.records = 0
        self._models: dict[str, list] = {}  # hash -> [arch_id, cell, parameters, repeats at each budget]
        self._budgets: set[int] = set()

    @property
    def num_models(self) -> int:
        return len(self._models)

    @property
    def budgets(self) -> tuple[int, ...]:
        """The budgets with at least one run, ascending."""
        return tuple(sorted(self._budgets))

    @property
    def kind(self) -> str | None:
        if not self._budgets:
            return None
        return ONLY108 if self._budgets == {108} else FULL

    def add(self, record: Record) -> tuple[int, int]:
        """``(arch_id, repeat)`` of the run: the model's number (1, 2, ... in order of first appearance, as NNI's
        ``db_gen`` numbers them) and the repeat (0, 1, 2 in file order, as nasbench's API lists them)."""
        cell = record.cell
        state = self._models.get(cell.module_hash)
        if state is None:
            if len(self._models) == NUM_MODELS:
                raise self._error(record, f"model {cell.module_hash} is one more than the {NUM_MODELS:,} of the "
                                          "search space")
            state = self._models[cell.module_hash] = [len(self._models) + 1, cell, record.parameters, 0, 0, 0, 0]
        else:
            if state[1] != cell:
                earlier = state[1]
                raise self._error(record, f"model {cell.module_hash} is stored as {cell.raw_adjacency} "
                                          f"{cell.raw_operations}, earlier as {earlier.raw_adjacency} "
                                          f"{earlier.raw_operations}")
            if state[2] != record.parameters:
                raise self._error(record, f"model {cell.module_hash} has {record.parameters} trainable parameters, "
                                          f"earlier records {state[2]}")
        slot = _SLOT[record.budget]
        repeat = state[slot]
        if repeat == NUM_REPEATS:
            raise self._error(record, f"a repeat too many of model {cell.module_hash} at {record.budget} epochs "
                                      f"(the release has {NUM_REPEATS}); is the file concatenated with itself?")
        state[slot] = repeat + 1
        self._budgets.add(record.budget)
        self.records += 1
        return state[0], repeat

    def missing(self) -> str | None:
        """None for a complete file, else one line: models absent, models lacking repeats, an example."""
        if self.kind is None:
            return "no records"
        budgets = BUDGETS if self.kind == FULL else (108,)
        expected_records = NUM_MODELS * len(budgets) * NUM_REPEATS
        incomplete = [model_hash for model_hash, state in self._models.items()
                      if any(state[_SLOT[budget]] < NUM_REPEATS for budget in budgets)]
        if not incomplete and self.num_models == NUM_MODELS:
            return None
        summary = (f"{self.kind}: {self.num_models:,} of {NUM_MODELS:,} models, "
                   f"{self.records:,} of {expected_records:,} records")
        if incomplete:
            example = min(incomplete)
            runs = ", ".join(f"{self._models[example][_SLOT[budget]]}/{NUM_REPEATS} at {budget} epochs"
                             for budget in budgets)
            lack = "1 model lacks" if len(incomplete) == 1 else f"{len(incomplete):,} models lack"
            summary += f"; {lack} runs, e.g. {example} has {runs}"
        return summary

    def _error(self, record: Record, reason: str) -> InputError:
        return record_error(self.path, record.record_number, record.offset, reason)
