"""Fill the NDS tables of a fresh database from built rows: ids, value checks, batched inserts.

Ids follow NNI's converter: a configuration gets the next id when it first appears, a trial per record,
so a DB converted from the same files has NNI's ids. Configurations are told apart by their identity key
(``generators.nds.rows``); the writer keeps a 16-byte digest of each key instead of the key itself (a
NAS-cell key is about 1 KB, and there are about 150,000).

Every value is checked against the column's declared range (``Table.check_row``): config and trial rows
row by row, per-epoch values by their lowest and highest value per column and trial (a range holds all of
a list when it holds its extremes), which costs a fiftieth of checking each of the ~15 M rows.
"""
from __future__ import annotations

import functools
import hashlib
import sqlite3
from dataclasses import dataclass

from generators.common import InputError
from nasbenchmark.nds.descriptor import CONFIG_TABLE, EPOCH_COLUMNS, INTERMEDIATE_TABLE, STATS_TABLE
from nasbenchmark.schema_sql import SchemaStatements

from .reader import JobRecord
from .rows import JobRows

#: Per-epoch rows per INSERT statement (one statement with many VALUES rows binds faster than executemany).
_EPOCH_ROWS_PER_STATEMENT = 500
#: Per-epoch rows buffered before they are written.
_BUFFERED_EPOCH_ROWS = 100_000
_EPOCH_WIDTH = len(INTERMEDIATE_TABLE.columns)
_FIX = "the file is not as the release wrote it; re-extract data.zip"


@functools.lru_cache(maxsize=4)
def _epoch_statement(rows: int) -> str:
    values = "(" + ", ".join("?" * _EPOCH_WIDTH) + ")"
    return f"INSERT INTO {INTERMEDIATE_TABLE.name} VALUES " + ", ".join([values] * rows)


@dataclass
class RowCounts:
    configs: int = 0
    trials: int = 0
    epochs: int = 0


class NdsWriter:
    """Creates the tables in ``conn`` and inserts the rows of each record, buffered."""

    def __init__(self, conn: sqlite3.Connection, schema: SchemaStatements):
        self.conn = conn
        self.counts = RowCounts()
        self._config_ids: dict[bytes, int] = {}
        self._configs: list[tuple] = []
        self._trials: list[tuple] = []
        self._epoch_values: list = []
        for statement in schema.tables:
            conn.execute(statement)

    def add(self, record: JobRecord, rows: JobRows) -> None:
        counts = self.counts
        digest = hashlib.blake2b(rows.config.key.encode(), digest_size=16).digest()
        config_id = self._config_ids.get(digest)
        if config_id is None:
            config_id = self._config_ids[digest] = counts.configs = counts.configs + 1
            config_row = (config_id, *rows.config[:-1])  # the identity key is not stored
            _check(record, CONFIG_TABLE.check_row(config_row), "configuration")
            self._configs.append(config_row)
        trial_id = counts.trials = counts.trials + 1
        trial = rows.trial
        if trial.job_id is not None and not isinstance(trial.job_id, str):
            trial = trial._replace(job_id=str(trial.job_id))
        trial_row = (trial_id, config_id, *trial)
        _check(record, STATS_TABLE.check_row(trial_row), "trial")
        _check_epochs(record, rows.epochs)
        first_id = counts.epochs + 1
        values = self._epoch_values
        for offset, (epoch, loss, train_acc, test_acc) in enumerate(rows.epochs):
            values += (first_id + offset, trial_id, epoch, loss, train_acc, test_acc)
        counts.epochs += len(rows.epochs)
        self._trials.append(trial_row)
        if len(values) >= _BUFFERED_EPOCH_ROWS * _EPOCH_WIDTH:
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows: configurations before the trials that reference them."""
        if self._configs:
            self.conn.executemany(CONFIG_TABLE.insert_sql(), self._configs)
            self._configs.clear()
        if self._trials:
            self.conn.executemany(STATS_TABLE.insert_sql(), self._trials)
            self._trials.clear()
        values = self._epoch_values
        chunk = _EPOCH_ROWS_PER_STATEMENT * _EPOCH_WIDTH
        whole = len(values) - len(values) % chunk
        statement = _epoch_statement(_EPOCH_ROWS_PER_STATEMENT)
        for start in range(0, whole, chunk):
            self.conn.execute(statement, values[start:start + chunk])
        if whole < len(values):
            self.conn.execute(_epoch_statement((len(values) - whole) // _EPOCH_WIDTH), values[whole:])
        values.clear()

    def finish(self) -> RowCounts:
        self.flush()
        return self.counts


def _check(record: JobRecord, problems: list[tuple[str, str]], what: str) -> None:
    if problems:
        column, problem = problems[0]
        raise InputError(f"{record.where}: {what} column {column}: {problem}; {_FIX}")


def _check_epochs(record: JobRecord, epochs: list) -> None:
    """The declared range of each per-epoch column holds all of the record's values (checked at the extremes)."""
    for position, column in enumerate(EPOCH_COLUMNS, start=1):
        values = [row[position] for row in epochs if row[position] is not None]
        if not values:
            continue
        for extreme in (min(values), max(values)):
            problem = column.check(extreme)
            if problem:
                epoch = next(row[0] for row in epochs if row[position] == extreme)
                raise InputError(f"{record.where}: epoch {epoch}: {column.name} {problem}; {_FIX}")
