"""Where the benchmark databases live and how they are opened.

The directory is ``$NASBENCHMARK_DIR`` or ``~/.nni/nasbenchmark`` (NNI's layout), resolved
at first use rather than at import, so setting the variable after ``import nasbenchmark``
works. Databases are opened read-only for real (``harden``): no statement can write, attach
another file, or build gigabyte strings, whatever SQL a user passes.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import peewee

ENV_DIR = "NASBENCHMARK_DIR"
DEFAULT_DIR = "~/.nni/nasbenchmark"

_lock = threading.Lock()
_open: dict[Path, peewee.SqliteDatabase] = {}


class DatabaseNotFoundError(FileNotFoundError):
    """A benchmark database file does not exist yet."""


def database_dir() -> Path:
    """The directory holding the benchmark databases (``$NASBENCHMARK_DIR`` or ``~/.nni/nasbenchmark``)."""
    return Path(os.path.expanduser(os.environ.get(ENV_DIR) or DEFAULT_DIR))


def database_path(filename: str) -> Path:
    """Full path of one database file, e.g. ``database_path("nasbench201.db")``."""
    return database_dir() / filename


def open_readonly(path: Path | str, generate_hint: str = "") -> peewee.SqliteDatabase:
    """Open ``path`` read-only (memoised per path). Raises a clear error when it is missing."""
    path = Path(path).expanduser().resolve()
    with _lock:
        db = _open.get(path)
        if db is not None:
            return db
        if not path.is_file():
            hint = f" Generate it with: {generate_hint}" if generate_hint else ""
            raise DatabaseNotFoundError(f"benchmark database not found: {path}.{hint}")
        db = _ReadOnlySqliteDatabase(
            f"{path.as_uri()}?mode=ro",
            uri=True,
            check_same_thread=False,
            pragmas={"query_only": 1, "cache_size": -32000},
        )
        _open[path] = db
        return db


class _ReadOnlySqliteDatabase(peewee.SqliteDatabase):
    """peewee's SQLite database, hardened once its own pragmas are set."""

    def _add_conn_hooks(self, conn):
        super()._add_conn_hooks(conn)
        harden(conn)


#: What one statement may build: 16 MB per string, blob or row (no benchmark value comes close; an
#: expensive ``printf('%.*c', 900000000, 'x')`` would otherwise take ~1 GB), 1 MB of SQL, no attached DBs.
LIMITS = {
    sqlite3.SQLITE_LIMIT_LENGTH: 16 << 20,
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: 1 << 20,
    sqlite3.SQLITE_LIMIT_ATTACHED: 0,
} if hasattr(sqlite3, "SQLITE_LIMIT_LENGTH") else {}

#: Authorizer actions a reader never needs: every write, schema change, ATTACH (which creates the
#: file it names, also for ``VACUUM INTO``) and DETACH.
_DENIED_ACTIONS = {
    sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH, sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE,
    sqlite3.SQLITE_DELETE, sqlite3.SQLITE_ALTER_TABLE, sqlite3.SQLITE_REINDEX, sqlite3.SQLITE_ANALYZE,
    sqlite3.SQLITE_CREATE_INDEX, sqlite3.SQLITE_CREATE_TABLE, sqlite3.SQLITE_CREATE_TEMP_INDEX,
    sqlite3.SQLITE_CREATE_TEMP_TABLE, sqlite3.SQLITE_CREATE_TEMP_TRIGGER, sqlite3.SQLITE_CREATE_TEMP_VIEW,
    sqlite3.SQLITE_CREATE_TRIGGER, sqlite3.SQLITE_CREATE_VIEW, sqlite3.SQLITE_CREATE_VTABLE,
    sqlite3.SQLITE_DROP_INDEX, sqlite3.SQLITE_DROP_TABLE, sqlite3.SQLITE_DROP_TEMP_INDEX,
    sqlite3.SQLITE_DROP_TEMP_TABLE, sqlite3.SQLITE_DROP_TEMP_TRIGGER, sqlite3.SQLITE_DROP_TEMP_VIEW,
    sqlite3.SQLITE_DROP_TRIGGER, sqlite3.SQLITE_DROP_VIEW, sqlite3.SQLITE_DROP_VTABLE,
}


#: SQL functions a reader may not call: ``printf``/``format`` loop over their width argument after the
#: length limit is hit (``printf('%.*c', 900000000, 'x')`` takes ~10 s in one step, which no time limit
#: interrupts); ``load_extension`` would run native code.
_DENIED_FUNCTIONS = {"printf", "format", "load_extension"}
#: Pragmas whose argument names what to read, not a value to set.
_READING_PRAGMAS = {"table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
                    "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check", "function_list"}


def _authorize(action: int, arg1, arg2, database, trigger) -> int:
    if action == sqlite3.SQLITE_UPDATE and arg1 in ("sqlite_master", "sqlite_temp_master"):
        return sqlite3.SQLITE_OK  # SQLite authorizes its own schema reads this way
    if action in _DENIED_ACTIONS:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and str(arg2).lower() in _DENIED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA and arg2 is not None and str(arg1).lower() not in _READING_PRAGMAS:
        return sqlite3.SQLITE_DENY  # setting a pragma: query_only = 0, writable_schema = 1, ...
    return sqlite3.SQLITE_OK


def harden(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Make ``conn`` read-only whatever SQL runs on it: writes, ATTACH and pragma changes are denied,
    and strings, blobs and statements are bounded (``LIMITS``). Returns ``conn``."""
    conn.execute("pragma query_only = 1")
    for limit, value in LIMITS.items():
        conn.setlimit(limit, value)
    conn.set_authorizer(_authorize)
    return conn


class BenchmarkDatabase:
    """The lazily opened, read-only database of one benchmark, behind a peewee proxy.

    The benchmark's models use ``.proxy`` as their database; queries call ``.connection()``,
    which opens ``$NASBENCHMARK_DIR/<filename>`` on first use unless ``bind(path)`` chose a file.
    """

    def __init__(self, filename: str, generate_command: str):
        self.filename = filename
        self.generate_command = generate_command
        self.proxy = _LazyProxy(self)
        #: The file the models read, once bound.
        self.path: Path | None = None
        _benchmark_databases.append(self)

    def bind(self, path: Path | str | None = None) -> peewee.SqliteDatabase:
        """Use ``path`` (default: ``database_path(filename)``) for this benchmark's models and queries."""
        path = Path(path or database_path(self.filename)).expanduser().resolve()
        db = open_readonly(path, self.generate_command)
        self.proxy.initialize(db)
        self.path = path
        return db

    def connection(self) -> peewee.SqliteDatabase:
        """The open read-only database, binding the default file on first use."""
        if self.proxy.obj is None:
            return self.bind()
        return self.proxy.obj


class _LazyProxy(peewee.DatabaseProxy):
    """A peewee proxy that opens its benchmark's DB the first time a model touches it."""

    def __init__(self, owner: BenchmarkDatabase):
        super().__init__()
        self.__dict__["_owner"] = owner

    def __getattr__(self, attr):
        if self.obj is None and not attr.startswith("__"):
            self.__dict__["_owner"].bind()
        return super().__getattr__(attr)


_benchmark_databases: list[BenchmarkDatabase] = []


def close_all() -> None:
    """Close every database the helper opened and forget bindings (e.g. after changing NASBENCHMARK_DIR)."""
    with _lock:
        for db in _open.values():
            if not db.is_closed():
                db.close()
        _open.clear()
        for benchmark_db in _benchmark_databases:
            benchmark_db.proxy.initialize(None)
            benchmark_db.path = None


class ReadOnlyConnection(sqlite3.Connection):
    """A hardened connection whose context manager also closes it (sqlite3's only ends a transaction)."""

    def __exit__(self, *exc_info):
        super().__exit__(*exc_info)
        self.close()
        return False


def connect_readonly(path: Path | str) -> ReadOnlyConnection:
    """A plain sqlite3 connection that cannot write (``harden``); a missing file is an error, not a new DB.

    ``with connect_readonly(path) as conn:`` closes it at the end of the block.
    """
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise DatabaseNotFoundError(f"no database file at {path}")
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, factory=ReadOnlyConnection)
    try:
        return harden(conn)
    except sqlite3.DatabaseError:
        conn.close()
        raise
