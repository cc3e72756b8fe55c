"""Fill the NB201 tables of a fresh database: bulk inserts first, indexes last."""
from __future__ import annotations

import functools
import sqlite3
from dataclasses import dataclass
from itertools import chain

from generators.common import InputError
from nasbenchmark.nasbench201.constants import EDGES
from nasbenchmark.nasbench201.graph_util import arch_json, arch_str_to_dict
from nasbenchmark.nasbench201.schema import INTERMEDIATE_COLUMNS, MEAN_STATS_SQL, SCHEMA_SQL, STATS_COLUMNS

from .rows import ArchRows, epoch_rows

_INSERT_CONFIG = "insert into nb201trialconfig values (?, ?, ?, ?, ?, ?, ?)"
_INSERT_TRIAL = f"insert into nb201trialstats values ({', '.join('?' * (3 + len(STATS_COLUMNS)))})"
_EPOCH_ROW = f"({', '.join('?' * (3 + len(INTERMEDIATE_COLUMNS)))})"
#: Per-epoch rows buffered before one executemany.
_BATCH_ROWS = 100_000


@functools.lru_cache(maxsize=None)
def _epoch_statement(rows: int) -> str:
    return f"insert into nb201intermediatestats values {', '.join([_EPOCH_ROW] * rows)}"


def _schema_statements() -> tuple[list[str], list[str]]:
    """SCHEMA_SQL split into table statements and index statements (indexes are built after loading)."""
    statements = [s.strip() for s in SCHEMA_SQL.split(";") if s.strip()]
    indexes = [s for s in statements if s.upper().startswith(("CREATE INDEX", "CREATE UNIQUE INDEX"))]
    return [s for s in statements if s not in indexes], indexes


@dataclass
class RowCounts:
    archs: int = 0
    configs: int = 0
    trials: int = 0
    epochs: int = 0


class Nb201Writer:
    """Creates the tables in ``conn`` and inserts rows in large batches."""

    def __init__(self, conn: sqlite3.Connection, source: str):
        self.conn = conn
        self.source = source
        self.counts = RowCounts()
        self._buffer = ArchRows()
        self._buffered_epochs = 0
        self._tables, self._indexes = _schema_statements()
        for statement in self._tables:
            conn.execute(statement)

    def add_archs(self, arch_strings: list[str]) -> list[str]:
        """Insert ``nb201arch`` (index = position) and return each arch's stored JSON."""
        rows, jsons = [], []
        for index, arch_str in enumerate(arch_strings):
            try:
                arch = arch_str_to_dict(arch_str)
            except (ValueError, TypeError) as exc:
                raise InputError(f"{self.source}: meta_archs[{index}]: {exc}") from None
            jsons.append(arch_json(arch))
            rows.append((index, arch_str, jsons[-1], *(arch[edge] for edge in EDGES)))
        try:
            self.conn.executemany("insert into nb201arch values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        except sqlite3.IntegrityError as exc:
            raise InputError(f"{self.source}: meta_archs lists an architecture twice ({exc})") from None
        self.counts.archs = len(rows)
        return jsons

    def add(self, rows: ArchRows) -> None:
        buffer = self._buffer
        buffer.configs += rows.configs
        buffer.trials += rows.trials
        buffer.epoch_blocks += rows.epoch_blocks
        self._buffered_epochs += rows.epoch_count()
        if self._buffered_epochs >= _BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        buffer = self._buffer
        try:
            self.conn.executemany(_INSERT_CONFIG, buffer.configs)
            self.conn.executemany(_INSERT_TRIAL, buffer.trials)
            for block in buffer.epoch_blocks:
                # One multi-row INSERT per run: ~40% less CPU than executemany over its rows (measured).
                rows = epoch_rows([block])
                self.conn.execute(_epoch_statement(len(block[1])), list(chain.from_iterable(rows)))
        except sqlite3.IntegrityError as exc:
            raise InputError(f"{self.source}: the same architecture/setting/seed appears twice ({exc}); "
                             "the input mixes files of different releases") from None
        self.counts.configs += len(buffer.configs)
        self.counts.trials += len(buffer.trials)
        self.counts.epochs += self._buffered_epochs
        self._buffer = ArchRows()
        self._buffered_epochs = 0

    def finish(self) -> RowCounts:
        self.flush()
        for statement in self._indexes:
            try:
                self.conn.execute(statement)
            except sqlite3.IntegrityError as exc:
                raise InputError(f"{self.source}: duplicate results ({exc})") from None
        self.conn.execute(MEAN_STATS_SQL)
        return self.counts
