"""Where the benchmark databases live and how they are opened.

The directory is ``$NASBENCHMARK_DIR`` or ``~/.nni/nasbenchmark`` (NNI's layout), resolved
at first use rather than at import, so setting the variable after ``import nasbenchmark``
works. Databases are opened read-only: queries can never modify a generated file.
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
        db = peewee.SqliteDatabase(
            f"{path.as_uri()}?mode=ro",
            uri=True,
            check_same_thread=False,
            pragmas={"query_only": 1, "cache_size": -32000},
        )
        _open[path] = db
        return db


class BenchmarkDatabase:
    """The lazily opened, read-only database of one benchmark, behind a peewee proxy.

    The benchmark's models use ``.proxy`` as their database; queries call ``.connection()``,
    which opens ``$NASBENCHMARK_DIR/<filename>`` on first use unless ``bind(path)`` chose a file.
    """

    def __init__(self, filename: str, generate_command: str):
        self.filename = filename
        self.generate_command = generate_command
        self.proxy = _LazyProxy(self)
        _benchmark_databases.append(self)

    def bind(self, path: Path | str | None = None) -> peewee.SqliteDatabase:
        """Use ``path`` (default: ``database_path(filename)``) for this benchmark's models and queries."""
        db = open_readonly(path or database_path(self.filename), self.generate_command)
        self.proxy.initialize(db)
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


def connect_readonly(path: Path | str) -> sqlite3.Connection:
    """A plain sqlite3 connection that cannot write to the DB (opening a missing file fails)."""
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)


def read_metadata(path: Path | str) -> dict[str, str]:
    """The ``metadata`` key/value table of a generated DB (benchmark, synthetic flag, sources...)."""
    with connect_readonly(path) as conn:
        try:
            return dict(conn.execute("select key, value from metadata"))
        except sqlite3.OperationalError:
            return {}
