"""The release read in a child process, beside the process that writes the DB.

Decoding the 5 million records (JSON, base64, protobuf, every check) takes as long as hashing the 423,624
cells and inserting every row together, so the child reads and the parent hashes and writes: both cores
work. The child numbers models, configs, runs and per-epoch rows as NNI does (``Completeness``), turns
each run into row values (``RunRows``) and sends them in batches; the parent checks each new model's
spelling and hash (``records.parse_cell``). The child dies with the parent, ignores Ctrl-C (the parent
stops it) and runs under a memory limit (``become_reader``).
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import struct
from pathlib import Path
from typing import Iterator, NamedTuple

from generators.common import InputError
from generators.nasbench201.child_process import become_reader
from nasbenchmark.nasbench101.constants import BUDGETS
from nasbenchmark.nasbench101.descriptor import INTERMEDIATE_TABLE, STATS_TABLE
from nasbenchmark.nasbench101.storage import float32_problem

from .records import Completeness, Record, read_records, record_error

#: Records per message to the parent (amortises pipe round trips; about 1 MB pickled).
BATCH_RECORDS = 4096
#: Memory the reader may use beyond what it has at start: ~170 MB of per-model state for the whole
#: release, a batch, and the protobuf runtime.
_READER_MEMORY = 1 << 30
_SLOT = {budget: slot for slot, budget in enumerate(BUDGETS)}
_EIGHT_FLOAT32 = struct.Struct("<8f")
_EIGHT_BITS = struct.Struct("<8I")
_VALUES = ("train_accuracy", "validation_accuracy", "test_accuracy", "training_time")
# The float32 bit ranges the descriptor declares (0.0 .. 1.0 for accuracies, 0 .. 2**24 s for times); a
# nonzero value must also be at least storage.MIN_POSITIVE (exponent >= 88) to read back exactly.
_MAX_ACCURACY_BITS = STATS_TABLE.column("test_acc_f32").valid[1]
_MAX_TIME_BITS = INTERMEDIATE_TABLE.column("training_time_f32").valid[1]
_MIN_NONZERO_BITS = 88 << 23


class Batch(NamedTuple):
    """Rows of consecutive records. ``models``: ``(arch_id, hash, adjacency, ops, trainable_parameters,
    record_number, offset)`` of each model first seen here; ``configs``: ``(config_id, arch_id, num_epochs)``;
    ``trials`` and ``intermediates``: flat row values in ``TRIAL_COLUMNS`` / ``INTERMEDIATE_COLUMNS`` order."""

    models: list
    configs: list
    trials: list
    intermediates: list
    bytes_read: int


#: The stored columns the batches fill, in their order.
TRIAL_COLUMNS = ("id", "config_id", "trainable_parameters", "train_acc_f32", "valid_acc_f32", "test_acc_f32",
                 "training_time_f32")
INTERMEDIATE_COLUMNS = ("id", "trial_id", "current_epoch", "train_acc_f32", "valid_acc_f32", "test_acc_f32",
                        "training_time_f32")


class Summary(NamedTuple):
    kind: str
    models: int
    records: int
    missing: str | None
    budgets: tuple[int, ...]


class RunRows:
    """Accumulates the rows of runs into a ``Batch``: ids as NNI numbers them, values as float32 bits."""

    def __init__(self, path: Path):
        self.path = path
        self.models: list = []
        self.configs: list = []
        self.trials: list = []
        self.intermediates: list = []

    def add(self, record: Record, arch_id: int, repeat: int, new_model: bool) -> None:
        cell = record.cell
        if new_model:
            self.models.append((arch_id, cell.module_hash, cell.raw_adjacency, cell.raw_operations,
                                record.parameters, record.record_number, record.offset))
        config_id = 4 * (arch_id - 1) + _SLOT[record.budget] + 1
        if repeat == 0:
            self.configs.append((config_id, arch_id, record.budget))
        halfway, final = record.halfway, record.final
        values = (*halfway[2:], halfway.training_time, *final[2:], final.training_time)
        packed = _EIGHT_FLOAT32.pack(*values)
        bits = _EIGHT_BITS.unpack(packed)
        if (_EIGHT_FLOAT32.unpack(packed) != values or min(bits) < _MIN_NONZERO_BITS
                or max(bits[3], bits[7]) > _MAX_TIME_BITS):
            self._check_values(record, values, bits)
        trial_id = 3 * (config_id - 1) + repeat + 1
        self.trials += (trial_id, config_id, record.parameters, *bits[4:])
        self.intermediates += (2 * trial_id - 1, trial_id, halfway.epoch, *bits[:4],
                               2 * trial_id, trial_id, final.epoch, *bits[4:])

    def _check_values(self, record: Record, values: tuple, bits: tuple) -> None:
        """Raise the InputError for the first value that cannot be stored exactly as float32 bits."""
        for index, (value, value_bits) in enumerate(zip(values, bits)):
            evaluation = record.halfway if index < 4 else record.final
            limit = _MAX_TIME_BITS if index % 4 == 3 else _MAX_ACCURACY_BITS
            problem = float32_problem(value) or (f"{value!r} is over the column's range" if value_bits > limit
                                                 else None)
            if problem:
                raise record_error(self.path, record.record_number, record.offset,
                                   f"{_VALUES[index % 4]} at epoch {evaluation.epoch}: {problem}")

    def take(self, bytes_read: int) -> Batch:
        batch = Batch(self.models, self.configs, self.trials, self.intermediates, bytes_read)
        self.models, self.configs, self.trials, self.intermediates = [], [], [], []
        return batch


def read_batches(path: Path, send) -> Summary:
    """Read every record of ``path`` and ``send`` it as batches; the file's summary once all are read."""
    completeness = Completeness(path)
    rows = RunRows(path)
    newest = 0  # models are numbered 1, 2, ... as they first appear
    for record in read_records(path, check_cells=False):
        arch_id, repeat = completeness.add(record)
        rows.add(record, arch_id, repeat, arch_id > newest)
        newest = max(newest, arch_id)
        if completeness.records % BATCH_RECORDS == 0:
            send(rows.take(record.offset))
    send(rows.take(path.stat().st_size))
    return Summary(completeness.kind, completeness.num_models, completeness.records, completeness.missing(),
                   completeness.budgets)


def _read(conn, path: str, parent_pid: int) -> None:
    """Child process entry point: batches, then ("done", summary), or ("error", one line)."""
    become_reader(parent_pid, _READER_MEMORY)
    gc.disable()  # records and rows hold no reference cycles; collections would only re-traverse them
    try:
        summary = read_batches(Path(path), lambda batch: conn.send(("rows", batch)))
        conn.send(("done", summary))
    except BrokenPipeError:
        return  # the parent stopped reading: it is ending, and says why itself
    except MemoryError:
        conn.send(("error", f"{path}: reading it needs more memory than the release does; is it the original file?"))
    except InputError as exc:
        conn.send(("error", str(exc)))
    finally:
        conn.close()


class ReleaseReader:
    """The reader child of one file: iterate ``batches()``, then read ``summary``; ``close()`` stops it."""

    def __init__(self, path: Path):
        self.path = path
        self.summary: Summary | None = None
        context = multiprocessing.get_context()
        self.conn, child_conn = context.Pipe(duplex=False)
        self.process = context.Process(target=_read, args=(child_conn, str(path), os.getpid()),
                                       name="nb101 tfrecord reader", daemon=True)
        self.process.start()
        child_conn.close()

    def batches(self) -> Iterator[Batch]:
        while True:
            try:
                kind, payload = self.conn.recv()
            except EOFError:
                raise InputError(f"{self.path}: the reader process ended unexpectedly (exit code "
                                 f"{self.process.exitcode}); out of memory?") from None
            if kind == "error":
                raise InputError(payload)
            if kind == "done":
                self.summary = payload
                return
            yield payload

    def close(self) -> None:
        self.conn.close()
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
