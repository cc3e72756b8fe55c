"""``convert(input, output)``: ``nasbench_full.tfrecord`` or ``nasbench_only108.tfrecord`` -> ``nasbench101.db``.

The file's kind is detected from its records. A child process reads and checks the records
(``reader_process``); this process checks each new model's spelling and hash, derives its cell code and
op counts, and inserts the rows. Then the indexes, the seed-mean table and the metadata table. The DB is
written atomically: on any error nothing is written and an earlier DB at the same path is unchanged.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from generators import checksums
from generators.common import InputError, atomic_database, write_metadata
from generators.common.gc_pause import gc_paused
from generators.common.output import check_output_path
from nasbenchmark import database
from nasbenchmark.nasbench101.constants import BUDGETS, DB_FILENAME, NUM_MODELS, NUM_REPEATS
from nasbenchmark.nasbench101.descriptor import ARCH_TABLE, BENCHMARK, CONFIG_TABLE, INTERMEDIATE_TABLE, STATS_TABLE
from nasbenchmark.nasbench101.storage import cell_code, cell_counts, loading_schema, stored_columns
from nasbenchmark.schema_sql import data_tables, schema_statements

from .reader_process import INTERMEDIATE_COLUMNS, TRIAL_COLUMNS, Batch, ReleaseReader, Summary
from .records import FULL, parse_cell, record_error
from .whole_space import fill_whole_space


@dataclass(frozen=True)
class ConvertSummary:
    input_format: str
    models: int
    configs: int
    trials: int
    per_epoch_rows: int
    seconds: float

    def __str__(self) -> str:
        return (f"{self.input_format}: {self.models:,} models, {self.configs:,} configs, {self.trials:,} runs, "
                f"{self.per_epoch_rows:,} per-epoch rows in {self.seconds:.1f} s")


def _insert_sql(table, columns) -> str:
    return f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


_ARCH_COLUMNS = tuple(column.name for column in stored_columns(ARCH_TABLE))
_CONFIG_COLUMNS = tuple(column.name for column in stored_columns(CONFIG_TABLE))
_PARAMETERS = ARCH_TABLE.column("trainable_parameters")


class Nb101Writer:
    """Creates the tables in ``conn`` and inserts each batch; keeps each model's hash, size and cell code
    for its config rows."""

    def __init__(self, conn, path: Path):
        self.conn = conn
        self.path = path
        self.archs: dict[int, tuple[str, int, int]] = {}
        self.configs = self.trials = self.per_epoch_rows = 0
        self._computed_columns: list[str] = []
        for table in data_tables(BENCHMARK):
            create, add_computed = loading_schema(table)
            conn.execute(create)
            self._computed_columns += add_computed

    def add(self, batch: Batch) -> None:
        conn = self.conn
        conn.executemany(_insert_sql(ARCH_TABLE, _ARCH_COLUMNS), [self._model_row(model) for model in batch.models])
        config_rows = []
        for config_id, arch_id, epochs in batch.configs:
            model_hash, num_vertices, code = self.archs[arch_id]
            config_rows.append((config_id, num_vertices, model_hash, epochs, arch_id, code))
        conn.executemany(_insert_sql(CONFIG_TABLE, _CONFIG_COLUMNS), config_rows)
        # zip(*[iter(flat)] * width) cuts the flat values into rows without a Python loop.
        conn.executemany(_insert_sql(STATS_TABLE, TRIAL_COLUMNS), zip(*[iter(batch.trials)] * len(TRIAL_COLUMNS)))
        conn.executemany(_insert_sql(INTERMEDIATE_TABLE, INTERMEDIATE_COLUMNS),
                         zip(*[iter(batch.intermediates)] * len(INTERMEDIATE_COLUMNS)))
        self.configs += len(config_rows)
        self.trials += len(batch.trials) // len(TRIAL_COLUMNS)
        self.per_epoch_rows += len(batch.intermediates) // len(INTERMEDIATE_COLUMNS)

    def _model_row(self, model: tuple) -> tuple:
        arch_id, model_hash, raw_adjacency, raw_operations, parameters, record_number, offset = model
        try:
            cell = parse_cell(model_hash, raw_adjacency, raw_operations)
        except ValueError as exc:
            raise record_error(self.path, record_number, offset, str(exc)) from None
        # Every other value is derived from the checked cell; the parameters the decoder checked are > 0.
        problem = _PARAMETERS.check(parameters)
        if problem:
            raise record_error(self.path, record_number, offset, f"trainable_parameters: {problem}")
        ops = cell.ops
        code = cell_code(cell.matrix, ops)
        self.archs[arch_id] = (model_hash, cell.num_vertices, code)
        return (arch_id, model_hash, cell.num_vertices, raw_adjacency.count("1"), *cell_counts(ops[1:-1]), parameters,
                code)

    def finish(self, progress: bool) -> None:
        """The computed columns, the indexes (built once, after the inserts), the seed means, which read through
        them, and the Pareto fronts and rank correlations, computed from the means."""
        schema = schema_statements(BENCHMARK)
        steps = [*self._computed_columns, *schema.indexes, *schema.fills]
        for step in tqdm([*steps, fill_whole_space], desc="nb101: indexes, means, fronts", unit="step",
                         disable=not progress):
            step(self.conn) if callable(step) else self.conn.execute(step)


def convert(input_path: Path | str, output_path: Path | str | None = None, progress: bool = True,
            synthetic: bool = False, force: bool = False) -> ConvertSummary:
    """Convert ``nasbench_full.tfrecord`` or ``nasbench_only108.tfrecord`` (the kind is read from the records)
    into ``output_path`` (default ``$NASBENCHMARK_DIR/nasbench101.db``), atomically.

    A partial file (missing models or runs) converts with a warning naming what it lacks, recorded in the
    metadata table. Raises ``InputError`` (one line: file, record number, byte offset, reason and fix) for a
    damaged or foreign file; ``force`` converts a release file whose sha256 differs from the published one.
    """
    started = time.perf_counter()
    path = Path(input_path).expanduser()
    if not path.is_file():
        raise InputError(f"{path}: no such file; pass nasbench_full.tfrecord or nasbench_only108.tfrecord "
                         "(https://github.com/google-research/nasbench)")
    output = check_output_path(output_path or database.database_path(DB_FILENAME), [path])
    checked = checksums.check_inputs([path], BENCHMARK.key, force)
    reader = ReleaseReader(path)
    try:
        with gc_paused(), atomic_database(output, inputs=[path]) as conn:
            writer = Nb101Writer(conn, path)
            with tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc="nb101 tfrecord",
                      disable=not progress) as bar:
                for batch in reader.batches():
                    writer.add(batch)
                    bar.update(batch.bytes_read - bar.n)
            summary = reader.summary
            writer.finish(progress)
            write_metadata(conn, benchmark=BENCHMARK.key, sources=[path], synthetic=synthetic,
                           input_format=summary.kind, **_partial(path, summary, warn=not synthetic), **checked)
    finally:
        reader.close()
    return ConvertSummary(summary.kind, summary.models, writer.configs, writer.trials, writer.per_epoch_rows,
                          time.perf_counter() - started)


def _partial(path: Path, summary: Summary, warn: bool) -> dict:
    """Metadata of what a partial file holds and lacks (and a warning). Budgets without runs (4, 12 and 36 in
    ``nasbench_only108.tfrecord``) are ``absent``: views and canned queries then say this DB does not hold them."""
    # As text: canned queries compare the (text) form values with this list.
    absent = [str(budget) for budget in BUDGETS if budget not in summary.budgets]
    entries: dict = {"absent": {"num_epochs": absent}} if absent else {}
    if summary.missing:
        expected = NUM_MODELS * NUM_REPEATS * (len(BUDGETS) if summary.kind == FULL else 1)
        entries["partial"] = (f"{summary.models:,} of {NUM_MODELS:,} models, {summary.records:,} of {expected:,} runs "
                              f"of {summary.kind}.tfrecord")
        entries["missing"] = summary.missing
        if warn:
            print(f"warning: {path}: a partial release ({summary.missing}); converting what it holds",
                  file=sys.stderr)
    return entries
