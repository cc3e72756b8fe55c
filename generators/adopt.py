"""``nasbenchmark adopt``: turn NNI's prebuilt DB into ours without re-converting the release.

NNI 2.5-3.0 download ``nasbench101-209f5694.db``, ``nasbench201-b2b60732.db`` and ``nds-5745c235.db``
(written by NNI's ``db_gen`` scripts). ``adopt(path)`` recognises the benchmark by the DB's tables,
checks NNI's schema, and writes a new DB in our layout (the adopted DB is a copy; NNI's file is only
read): our tables and indexes, the seed-mean and other derived tables, the full-text index and the
metadata table (source: NNI's DB with its sha256). Rows keep NNI's ids, so ids users stored stay valid.

What NNI's ``db_gen`` got wrong is fixed where the DB still holds the right value, and marked in the
metadata where it does not:

* NAS-Bench-101: ``training_time`` of a run is 60 times the release's (``final_training_time * 60``);
  the final per-epoch row kept the right value, which replaces it wherever the ratio is exactly 60.
* NAS-Bench-201: ``valid_*`` on ``cifar10`` are copies of ``ori-test`` (the release has no validation
  split): set to NULL. ``latency`` -1 ("unavailable") becomes NULL. ``training_time`` stays NNI's last
  epoch's time x epochs (the sum of per-epoch times, as we compute it, is not in the DB; the two agree
  for the v1_1 and NATS files, whose per-epoch times are constant): marked.
* NDS: what NNI's DB dropped (the release file of each run, the whole ``optim`` dict, ``min_test_top1``
  and the other extra fields) is NULL or reduced, and marked.

Every copied value is checked against its column's range, as a converter checks the release's.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from tqdm import tqdm

from nasbenchmark import database, registry
from nasbenchmark.descriptor import Benchmark, Column, Table
from nasbenchmark.schema_sql import data_tables, schema_statements

from . import checksums
from .common import InputError, add_search_index, atomic_database, write_metadata

_SQLITE_MAGIC = b"SQLite format 3\x00"
_NNI_DB = "nni"


@dataclass(frozen=True)
class NniLayout:
    """How NNI's tables of one benchmark become ours.

    ``tables``: NNI's tables with the columns its peewee models create. ``build`` writes our tables; by
    default (``copy_tables``) each is filled by ``prepare`` (rows computed in Python), by a copy from NNI's
    table of the same name (columns matched by name; ``overrides`` give the SQL of a column, over NNI's row
    ``n`` and the ``joins``; a column NNI lacks is NULL) or by its descriptor's ``fill_sql``. ``fixes``: SQL
    counting what was corrected, with the text saying so. ``notes``: metadata entries saying what stays as
    NNI wrote it.
    """

    key: str
    release_name: str
    tables: dict[str, tuple[str, ...]]
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    joins: dict[str, str] = field(default_factory=dict)
    prepare: Callable[[sqlite3.Connection, Path], list[str]] | None = None
    build: Callable[[sqlite3.Connection, NniLayout, Benchmark, Path, tqdm], None] | None = None
    fixes: dict[str, tuple[str, str]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


# --- NAS-Bench-201 -------------------------------------------------------------------------------

_NB201_VALID_COLUMNS = ("valid_acc", "valid_loss", "valid_evaluation_time")


def _nb201_valid(column: str) -> str:
    """NNI's value, except on cifar10 (config ``c``), where NNI copied ori-test into valid_*."""
    return f"CASE WHEN c.dataset = 'cifar10' THEN NULL ELSE n.{column} END"


def _nb201_prepare(conn: sqlite3.Connection, path: Path) -> list[str]:
    """nb201arch from the official arch strings, and NNI's configs (those with results) with each arch's index."""
    from generators.nasbench201.archs import official_arch_strings
    from nasbenchmark.nasbench201.constants import EDGES
    from nasbenchmark.nasbench201.graph_util import arch_json, arch_str_to_dict

    index_of = {}
    rows = []
    for index, arch_str in enumerate(official_arch_strings()):
        arch = arch_str_to_dict(arch_str)
        index_of[arch_json(arch)] = index
        rows.append((index, arch_str, arch_json(arch), *(arch[edge] for edge in EDGES)))
    conn.executemany(f"INSERT INTO nb201arch VALUES ({', '.join('?' * (3 + len(EDGES)))})", rows)
    configs = []
    for config_id, arch_text, *setup in conn.execute(
            f"SELECT id, arch, num_epochs, num_channels, num_cells, dataset FROM {_NNI_DB}.nb201trialconfig c "
            f"WHERE EXISTS (SELECT 1 FROM {_NNI_DB}.nb201trialstats s WHERE s.config_id = c.id) ORDER BY id"):
        try:
            stored = arch_json(json.loads(arch_text))
            index = index_of[stored]
        except (ValueError, TypeError, KeyError, AttributeError):
            raise InputError(f"{path}: nb201trialconfig id {config_id}: arch {str(arch_text)[:80]!r} is not a "
                             "NAS-Bench-201 cell; not NNI's NAS-Bench-201 DB") from None
        configs.append((config_id, stored, *setup, index))
    conn.executemany("INSERT INTO nb201trialconfig VALUES (?, ?, ?, ?, ?, ?, ?)", configs)
    return ["nb201arch", "nb201trialconfig"]


NB201 = NniLayout(
    key="nb201",
    release_name="nasbench201",
    tables={
        "nb201trialconfig": ("id", "arch", "num_epochs", "num_channels", "num_cells", "dataset"),
        "nb201trialstats": ("id", "config_id", "seed", "train_acc", "valid_acc", "test_acc", "ori_test_acc",
                            "train_loss", "valid_loss", "test_loss", "ori_test_loss", "parameters", "latency",
                            "flops", "training_time", "valid_evaluation_time", "test_evaluation_time",
                            "ori_test_evaluation_time"),
        "nb201intermediatestats": ("id", "trial_id", "current_epoch", "train_acc", "valid_acc", "test_acc",
                                   "ori_test_acc", "train_loss", "valid_loss", "test_loss", "ori_test_loss"),
    },
    overrides={
        "nb201trialstats": {**{c: _nb201_valid(c) for c in _NB201_VALID_COLUMNS},
                            "latency": "CASE WHEN n.latency < 0 THEN NULL ELSE n.latency END"},
        "nb201intermediatestats": {c: _nb201_valid(c) for c in ("valid_acc", "valid_loss")},
    },
    joins={"nb201trialstats": "JOIN nb201trialconfig c ON c.id = n.config_id",
           "nb201intermediatestats": "JOIN nb201trialstats s ON s.id = n.trial_id "
                                     "JOIN nb201trialconfig c ON c.id = s.config_id"},
    prepare=_nb201_prepare,
    fixes={
        "valid_acc_cifar10": ("SELECT count(*) FROM nb201trialstats s JOIN nb201trialconfig c ON c.id = s.config_id "
                              "WHERE c.dataset = 'cifar10'",
                              "valid_acc, valid_loss and valid_evaluation_time of {n:,} cifar10 runs (and their "
                              "per-epoch valid_*) set to NULL: NNI's DB copies ori-test into them, but cifar10 has "
                              "no validation split"),
        "latency": (f"SELECT count(*) FROM {_NNI_DB}.nb201trialstats WHERE latency < 0",
                    "latency NULL in {n:,} runs where NNI's DB has -1 (the release's 'unavailable')"),
    },
    notes={
        "valid_acc_cifar10": "NULL: cifar10 has no validation split",
        "training_time": "NNI's value: the last epoch's training time x epochs (the release's per-epoch times are "
                         "not in NNI's DB; for the v1_1 and NATS files they are constant, so this is their sum)",
    },
)

# --- NAS-Bench-101 -------------------------------------------------------------------------------

#: Rows per batch handed to the converter's writer.
_NB101_BATCH = 50_000


def _nb101_build(conn: sqlite3.Connection, layout: NniLayout, bench: Benchmark, path: Path, steps: tqdm) -> None:
    """Our NAS-Bench-101 tables through the converter's own writer (float32 bits, cell codes, its checks):
    NNI's values are the release's float32 values times 100 (accuracies), so the bits are recovered exactly;
    a run's training time is its final per-epoch row's where NNI's is 60 times that."""
    from generators.nasbench101.convert import Nb101Writer
    from generators.nasbench101.reader_process import Batch

    writer = Nb101Writer(conn, path)
    arch_ids: dict[str, int] = {}
    configs = conn.execute(f"SELECT c.id, c.hash, c.arch, c.num_epochs, (SELECT s.parameters FROM {_NNI_DB}."
                           f"nb101trialstats s WHERE s.config_id = c.id LIMIT 1) FROM {_NNI_DB}.nb101trialconfig c "
                           "ORDER BY c.id")
    while chunk := configs.fetchmany(_NB101_BATCH):
        models, rows = [], []
        for config_id, module_hash, arch_text, epochs, parameters in chunk:
            if module_hash not in arch_ids:
                arch_ids[module_hash] = len(arch_ids) + 1
                where = f"{path}: nb101trialconfig id {config_id}"
                models.append((arch_ids[module_hash], module_hash, *_nb101_spelling(where, module_hash, arch_text),
                               _nb101_parameters(where, parameters), config_id, 0))
            rows.append((config_id, arch_ids[module_hash], epochs))
        writer.add(Batch(models, rows, [], [], 0))
    steps.update()
    trials = conn.execute(f"""SELECT s.id, s.config_id, s.parameters, s.train_acc, s.valid_acc, s.test_acc,
        s.training_time, i.training_time FROM {_NNI_DB}.nb101trialstats s
        JOIN {_NNI_DB}.nb101trialconfig c ON c.id = s.config_id
        LEFT JOIN {_NNI_DB}.nb101intermediatestats i ON i.trial_id = s.id AND i.current_epoch = c.num_epochs
        ORDER BY s.id""")
    while chunk := trials.fetchmany(_NB101_BATCH):
        flat = []
        for trial_id, config_id, parameters, train, valid, test, time_x60, final_time in chunk:
            where = f"{path}: nb101trialstats id {trial_id}"
            seconds = final_time if final_time is not None and abs(time_x60 - 60 * final_time) <= 1e-9 * time_x60 \
                else time_x60
            flat += (trial_id, config_id, _nb101_parameters(where, parameters), *_nb101_bits(where, train, valid, test),
                     _float32_bits(where, "training_time", seconds, 1))
        writer.add(Batch([], [], flat, [], 0))
    steps.update()
    epochs = conn.execute(f"SELECT id, trial_id, current_epoch, train_acc, valid_acc, test_acc, training_time "
                          f"FROM {_NNI_DB}.nb101intermediatestats ORDER BY id")
    while chunk := epochs.fetchmany(_NB101_BATCH):
        flat = []
        for row_id, trial_id, epoch, train, valid, test, seconds in chunk:
            where = f"{path}: nb101intermediatestats id {row_id}"
            flat += (row_id, trial_id, epoch, *_nb101_bits(where, train, valid, test),
                     _float32_bits(where, "training_time", seconds, 1))
        writer.add(Batch([], [], [], flat, 0))
    steps.update()
    writer.finish(progress=False)
    for table in data_tables(bench):
        _check_references(conn, table, path)
        if not table.fill_sql:
            _check_values(conn, table, path)


def _nb101_spelling(where: str, module_hash: str, arch_text: str) -> tuple[str, str]:
    """The release's spelling (adjacency digits, ops) of NNI's arch dict, checked against its hash."""
    from generators.nasbench101.records import parse_cell
    from nasbenchmark.nasbench101.graph_util import architecture_to_nasbench_format

    try:
        matrix, ops = architecture_to_nasbench_format(json.loads(arch_text))
        spelling = "".join(str(bit) for row in matrix for bit in row), ",".join(ops)
        parse_cell(module_hash, *spelling)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InputError(f"{where}: {str(exc)[:200]}; not NNI's NAS-Bench-101 DB") from None
    return spelling


def _nb101_parameters(where: str, parameters: float | None) -> int | None:
    """NNI's millions of parameters back to the release's count."""
    count = round(parameters * 1e6) if isinstance(parameters, (int, float)) and math.isfinite(parameters) else None
    if parameters is not None and (count is None or count / 1e6 != parameters):
        raise InputError(f"{where}: parameters {parameters!r} is not a count of parameters in millions; not NNI's "
                         "NAS-Bench-101 DB")
    return count


def _nb101_bits(where: str, train: float, valid: float, test: float) -> tuple[int, int, int]:
    return tuple(_float32_bits(where, name, value, 100)
                 for name, value in (("train_acc", train), ("valid_acc", valid), ("test_acc", test)))


def _float32_bits(where: str, name: str, value: float, scale: int) -> int:
    """The float32 bits of ``value / scale``, which must give back ``value`` exactly."""
    from nasbenchmark.nasbench101.storage import float32_bits, float32_problem, float32_value

    if isinstance(value, (int, float)) and not isinstance(value, bool) and float32_problem(value / scale) is None:
        bits = float32_bits(value / scale)
        if float32_value(bits) * scale == value:
            return bits
    raise InputError(f"{where}: {name} {value!r} is not a NAS-Bench-101 value (a float32"
                     + (f" times {scale}" if scale != 1 else "") + "); not NNI's NAS-Bench-101 DB")


def _check_references(conn: sqlite3.Connection, table: Table, path: Path) -> None:
    """Every row's references (``Column.references``) point at existing rows."""
    for column in table.columns:
        if column.references:
            target, key = column.references.split(".")
            orphans = conn.execute(f"SELECT count(*) FROM {table.name} WHERE {column.name} IS NOT NULL AND "
                                   f"{column.name} NOT IN (SELECT {key} FROM {target})").fetchone()[0]
            if orphans:
                raise InputError(f"{path}: {orphans:,} rows of {table.name} reference rows that do not exist; not "
                                 "a complete NNI DB")


NB101 = NniLayout(
    key="nb101",
    release_name="nasbench101",
    tables={
        "nb101trialconfig": ("id", "arch", "num_vertices", "hash", "num_epochs"),
        "nb101trialstats": ("id", "config_id", "train_acc", "valid_acc", "test_acc", "parameters", "training_time"),
        "nb101intermediatestats": ("id", "trial_id", "current_epoch", "train_acc", "valid_acc", "test_acc",
                                   "training_time"),
    },
    build=_nb101_build,
    fixes={"training_time": (f"SELECT count(*) FROM nb101trialstats o JOIN {_NNI_DB}.nb101trialstats n ON n.id = o.id "
                             "WHERE abs(n.training_time - 60 * o.training_time) <= 1e-9 * n.training_time",
                             "training_time of {n:,} runs divided by 60 (NNI's db_gen multiplies the release's "
                             "seconds by 60; the value is taken from the run's final per-epoch row)")},
)

# --- NDS -----------------------------------------------------------------------------------------


def _finite_or_null(column: str) -> str:
    """NNI's value, or NULL for the infinity NNI stored where the release has ``Infinity`` (a diverged run)."""
    return f"CASE WHEN abs(n.{column}) >= 9e999 THEN NULL ELSE n.{column} END"


_NDS_LOSSES = {"ndstrialstats": ("final_train_loss", "best_train_loss"), "ndsintermediatestats": ("train_loss",)}


def _nds_prepare(conn: sqlite3.Connection, path: Path) -> list[str]:
    """A temp table of the design spaces, to name each run's ``sweep`` from its config's labels."""
    from nasbenchmark.nds.constants import DESIGN_SPACES

    conn.execute("CREATE TEMP TABLE adopt_spaces (name TEXT, proposer TEXT, generator TEXT, dataset TEXT)")
    conn.executemany("INSERT INTO adopt_spaces VALUES (?, ?, ?, ?)",
                     [(s.name, s.proposer, s.generator, s.dataset) for s in DESIGN_SPACES])
    try:
        conn.execute("SELECT sqrt(4.0)")
    except sqlite3.OperationalError:  # the seed-mean fill takes square roots; some SQLite builds lack them
        conn.create_function("sqrt", 1, math.sqrt, deterministic=True)
    return []


NDS = NniLayout(
    key="nds",
    release_name="nds",
    tables={
        "ndstrialconfig": ("id", "model_family", "model_spec", "cell_spec", "dataset", "generator", "proposer",
                           "base_lr", "weight_decay", "num_epochs"),
        "ndstrialstats": ("id", "config_id", "seed", "final_train_acc", "final_train_loss", "final_test_acc",
                          "best_train_acc", "best_train_loss", "best_test_acc", "parameters", "flops", "iter_time"),
        "ndsintermediatestats": ("id", "trial_id", "current_epoch", "train_loss", "train_acc", "test_acc"),
    },
    overrides={
        "ndstrialconfig": {"cell_spec": "coalesce(n.cell_spec, '{}')",
                           "optim": "json_object('base_lr', n.base_lr, 'max_ep', n.num_epochs, 'wd', n.weight_decay)"},
        "ndstrialstats": {"sweep": "d.name", **{c: _finite_or_null(c) for c in _NDS_LOSSES["ndstrialstats"]}},
        "ndsintermediatestats": {c: _finite_or_null(c) for c in _NDS_LOSSES["ndsintermediatestats"]},
    },
    joins={"ndstrialstats": f"JOIN {_NNI_DB}.ndstrialconfig c ON c.id = n.config_id JOIN temp.adopt_spaces d "
                            "ON d.proposer = c.proposer AND d.generator = c.generator AND d.dataset = c.dataset"},
    prepare=_nds_prepare,
    fixes={"losses": (" + ".join(f"(SELECT count(*) FROM {_NNI_DB}.{table} WHERE abs({column}) >= 9e999)"
                                 for table, columns in _NDS_LOSSES.items() for column in columns).join(("SELECT ", "")),
                      "{n:,} infinite losses (diverged runs) set to NULL, as the release's NaN")},
    notes={
        "sweep": "the design space's file (NNI's DB does not keep which file a run came from: runs of the _rng1-3 "
                 "and _reruns files are under their base file); rerun_group NULL",
        "optim": "only base_lr, max_ep and wd (NNI's DB keeps no other optim field)",
        "dropped_by_nni": "reported_best_test_acc, prec_time, exp_mem, act_mem and job_id are NULL: NNI's DB drops them",
        "cell_spec": "NNI's flattening (the reduce cell with the normal cell's node count; equal in the release)",
    },
)

LAYOUTS = (NB101, NB201, NDS)


# --- adopting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdoptSummary:
    benchmark: str
    rows: dict[str, int]
    fixes: list[str]
    seconds: float

    def __str__(self) -> str:
        counts = ", ".join(f"{table} {count:,}" for table, count in self.rows.items())
        return f"adopted NNI's {self.benchmark} DB ({counts}) in {self.seconds:.1f} s; fixed: " + (
            "; ".join(self.fixes) or "nothing")


def nni_cache_dirs() -> list[Path]:
    """Where NNI keeps its prebuilt DBs: ``$NASBENCHMARK_DIR``, NNI 2.5+'s cache (``$NNI_HOME`` or
    ``$XDG_CACHE_HOME/nni`` or ``~/.cache/nni``, then ``nasbenchmark``) and NNI 1.7-2.4's ``~/.nni/nasbenchmark``."""
    nni_home = os.environ.get("NNI_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "nni")
    folders: list[Path] = []
    for folder in (os.environ.get(database.ENV_DIR), os.path.join(nni_home, "nasbenchmark"), "~/.nni/nasbenchmark"):
        if folder and (path := Path(folder).expanduser()) not in folders:
            folders.append(path)
    return folders


def find_nni_db(name: str) -> Path | None:
    """NNI's DB file ``name`` where NNI keeps it (``nni_cache_dirs``), if it is there."""
    return next((folder / name for folder in nni_cache_dirs() if (folder / name).is_file()), None)


def adopt(path: Path | str, output: Path | str | None = None, *, force: bool = False,
          progress: bool = True) -> AdoptSummary:
    """Write our DB of NNI's prebuilt DB ``path`` to ``output`` (default: where the API reads the benchmark).

    Raises ``InputError`` (one line) for a file that is not NNI's DB of a known benchmark, a known NNI file
    whose sha256 differs from the prefix in its name (unless ``force``: then marked), or values outside
    their columns' ranges. The output is written atomically; ``path`` is opened read-only.
    """
    started = time.perf_counter()
    path = Path(path).expanduser()
    layout = _recognise(path)
    bench = registry.benchmark(layout.key)
    checked = checksums.check_inputs([path], layout.key, force)
    output = Path(output).expanduser() if output else database.database_path(bench.db_filename)
    tables = data_tables(bench)
    steps = tqdm(total=len(tables) + 2, unit="step", desc=f"adopt {path.name}", disable=not progress, leave=False)
    with atomic_database(output, inputs=[path]) as conn, steps, _attached(conn, path):
        try:
            _check_schema(conn, layout, path)
            (layout.build or copy_tables)(conn, layout, bench, path, steps)
            fixes = [text.format(n=n) for text, n in _count_fixes(conn, layout) if n]
            add_search_index(conn, layout.key)
            steps.update()
        except sqlite3.IntegrityError as exc:
            raise InputError(f"{path}: {exc}; NNI's DB holds rows that contradict each other") from None
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):  # disk full (atomic_database says so) or our own SQL
                raise
            raise InputError(f"{path}: unreadable SQLite DB ({exc}); download it again") from None
        rows = {table.name: conn.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0] for table in tables}
        write_metadata(conn, benchmark=layout.key, sources=[path], synthetic=False, input_format="nni-db",
                       adopted_from=f"{path.name}: NNI's prebuilt DB, adopted without re-converting the release",
                       fixes=json.dumps(fixes), **layout.notes, **checked)
        steps.update()
    return AdoptSummary(layout.key, rows, fixes, time.perf_counter() - started)


def copy_tables(conn: sqlite3.Connection, layout: NniLayout, bench: Benchmark, path: Path, steps: tqdm) -> None:
    """Our tables from NNI's, table by table (see ``NniLayout``), each checked; then indexes and fills."""
    schema = schema_statements(bench)
    for statement in schema.tables:
        conn.execute(statement)
    filled = set(layout.prepare(conn, path) if layout.prepare else [])
    for table in data_tables(bench):
        if table.name not in filled and not table.fill_sql:
            _copy(conn, layout, table, path)
            filled.add(table.name)
        if table.name in filled:
            _check_values(conn, table, path)
        steps.update()
    _build_indexes(conn, schema.indexes, path)
    for statement in schema.fills:
        conn.execute(statement)


@contextlib.contextmanager
def _attached(conn: sqlite3.Connection, path: Path) -> Iterator[None]:
    """NNI's DB attached read-only as ``nni`` to the new DB's connection. SQLite attaches and detaches only
    outside a transaction: the new DB's (still empty, or complete) transaction is committed around both; on a
    failure the temp DB is discarded with its attachment."""
    conn.execute("COMMIT")
    conn.execute(f"ATTACH DATABASE ? AS {_NNI_DB}", (f"{path.resolve().as_uri()}?mode=ro&immutable=1",))
    conn.execute("BEGIN")
    yield
    conn.execute("COMMIT")
    conn.execute(f"DETACH DATABASE {_NNI_DB}")
    conn.execute("BEGIN")


def _recognise(path: Path) -> NniLayout:
    """The layout whose NNI tables ``path`` has; ``InputError`` for anything else."""
    if not path.is_file():
        raise InputError(f"{path}: no such file; pass NNI's prebuilt DB (nasbench101-*.db, nasbench201-*.db, nds-*.db)")
    with open(path, "rb") as f:
        if f.read(len(_SQLITE_MAGIC)) != _SQLITE_MAGIC:
            raise InputError(f"{path}: not an SQLite DB; pass NNI's prebuilt DB (nasbench101-*.db, nasbench201-*.db, "
                             "nds-*.db)")
    try:
        with database.connect_readonly(path) as conn:
            names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            benchmark = (conn.execute("SELECT value FROM metadata WHERE key = 'benchmark'").fetchone()
                         if "metadata" in names else None)
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path}: unreadable SQLite DB ({exc}); download it again") from None
    if benchmark:
        raise InputError(f"{path}: already a nasbenchmark DB ({benchmark[0]}); nothing to adopt")
    for layout in LAYOUTS:
        if set(layout.tables) <= names:
            return layout
    raise InputError(f"{path}: has none of NNI's benchmark table sets ({'; '.join(', '.join(l.tables) for l in LAYOUTS)}"
                     "); pass NNI's prebuilt DB (nasbench101-*.db, nasbench201-*.db, nds-*.db)")


def _check_schema(conn: sqlite3.Connection, layout: NniLayout, path: Path) -> None:
    for table, columns in layout.tables.items():
        present = {row[1] for row in conn.execute(f"PRAGMA {_NNI_DB}.table_info({table})")}
        missing = [column for column in columns if column not in present]
        if missing:
            raise InputError(f"{path}: table {table} lacks {', '.join(missing)}; not NNI's {layout.release_name} DB "
                             "(NNI 1.8-3.0 layout)")


def _copy(conn: sqlite3.Connection, layout: NniLayout, table: Table, path: Path) -> None:
    """INSERT our ``table`` from NNI's table of the same name, column by column."""
    if table.name not in layout.tables:
        raise InputError(f"{path}: adopting NNI's {layout.release_name} DB does not fill our table {table.name}; "
                         "convert the original release instead")
    nni_columns = layout.tables[table.name]
    overrides = layout.overrides.get(table.name, {})
    expressions = []
    for column in table.columns:
        expression = overrides.get(column.name) or (f"n.{column.name}" if column.name in nni_columns else "NULL")
        if expression == "NULL" and column.not_null:
            raise InputError(f"{path}: our column {table.name}.{column.name} has no counterpart in NNI's DB; convert "
                             "the original release instead")
        expressions.append(expression)
    joins = layout.joins.get(table.name, "")
    conn.execute(f"INSERT INTO {table.name} ({', '.join(table.column_names)}) SELECT {', '.join(expressions)} "
                 f"FROM {_NNI_DB}.{table.name} n {joins}")
    copied = conn.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0]
    source = conn.execute(f"SELECT count(*) FROM {_NNI_DB}.{table.name}").fetchone()[0]
    if copied != source:
        raise InputError(f"{path}: {source - copied:,} rows of {table.name} reference rows that do not exist; not "
                         f"a complete NNI {layout.release_name} DB")


def _check_values(conn: sqlite3.Connection, table: Table, path: Path) -> None:
    """Every number in ``table`` within its column's range, as converters check the release's: one scan
    that stops at the first bad value (none, normally), then counts for the message."""
    conditions = {column.name: _bad_value_sql(column) for column in table.columns if column.is_number}
    if not conditions:
        return
    any_bad = " OR ".join(f"({condition})" for condition in conditions.values())
    if conn.execute(f"SELECT 1 FROM {table.name} WHERE {any_bad} LIMIT 1").fetchone() is None:
        return
    key = table.primary_key[0] if table.primary_key else "rowid"
    for name, condition in conditions.items():
        count = conn.execute(f"SELECT count(*) FROM {table.name} WHERE {condition}").fetchone()[0]
        if count:
            row_key, value = conn.execute(f"SELECT {key}, {name} FROM {table.name} WHERE {condition} LIMIT 1").fetchone()
            problem = table.column(name).check(value) or "not a number"
            raise InputError(f"{path}: {table.name}.{name}: {count:,} impossible values, e.g. {problem} where "
                             f"{key} = {row_key}; not a valid NNI DB")


def _bad_value_sql(column: Column) -> str:
    """SQL true for a value ``column`` may not hold. SQLite orders text and blobs after every number and reads
    9e999 as infinity, so one BETWEEN over finite bounds also catches text, blobs and infinities."""
    low, high = column.valid or (-math.inf, math.inf)
    out_of_range = f"NOT ({column.name} BETWEEN {_sql_number(low)} AND {_sql_number(high)})"
    if column.type == "INTEGER":
        return f"({column.name} IS NOT NULL AND typeof({column.name}) <> 'integer') OR {out_of_range}"
    return out_of_range


def _sql_number(value: float) -> str:
    """A range bound as an SQL literal; an infinite bound is the largest finite double (infinity is not valid)."""
    return repr(math.copysign(sys.float_info.max, value)) if math.isinf(value) else repr(value)


def _count_fixes(conn: sqlite3.Connection, layout: NniLayout) -> list[tuple[str, int]]:
    return [(text, conn.execute(sql).fetchone()[0]) for sql, text in layout.fixes.values()]


def _build_indexes(conn: sqlite3.Connection, statements: list[str], path: Path) -> None:
    for statement in statements:
        try:
            conn.execute(statement)
        except sqlite3.IntegrityError as exc:
            raise InputError(f"{path}: duplicate rows ({exc}); not a valid NNI DB") from None
