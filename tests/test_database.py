"""The helper's connections are read-only for real: no SQL a user passes can write, attach or blow up."""
from __future__ import annotations

import sqlite3

import peewee
import pytest

from nasbenchmark import database
from nasbenchmark.nasbenchgraph import schema as nbgraph_schema


@pytest.fixture
def db_file(tmp_path):
    path = tmp_path / "nasbenchgraph.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table nbgraphdataset (dataset text primary key, num_archs integer)")
        conn.execute("insert into nbgraphdataset values ('cora', 1)")
    conn.close()
    return path


_ESCAPES = [
    "pragma query_only = 0",
    "pragma writable_schema = 1",
    "pragma journal_mode = wal",
    "attach database '{dir}/attached.db' as other",
    "vacuum into '{dir}/copy.db'",
    "insert into nbgraphdataset values ('x', 2)",
    "create temp table scratch (a)",
    "select load_extension('libc.so.6')",
]


@pytest.mark.parametrize("sql", _ESCAPES)
def test_connect_readonly_refuses_writes_attach_and_pragma_changes(db_file, sql):
    before = sorted(p.name for p in db_file.parent.iterdir())
    with database.connect_readonly(db_file) as conn:
        with pytest.raises(sqlite3.DatabaseError):
            conn.execute(sql.format(dir=db_file.parent)).fetchall()
        assert conn.execute("select count(*) from nbgraphdataset").fetchone() == (1,)
    assert sorted(p.name for p in db_file.parent.iterdir()) == before  # no new file, not even an empty one


@pytest.mark.parametrize("sql", _ESCAPES)
def test_the_models_connection_refuses_them_too(db_file, sql, nasbenchmark_dir):
    nbgraph_schema.bind(db_file)
    with pytest.raises(peewee.DatabaseError):
        nbgraph_schema.DATABASE.connection().execute_sql(sql.format(dir=db_file.parent))
    assert not (db_file.parent / "attached.db").exists() and not (db_file.parent / "copy.db").exists()


def test_reading_still_works_including_table_info(db_file):
    with database.connect_readonly(db_file) as conn:
        assert conn.execute("pragma table_info(nbgraphdataset)").fetchall()[0][1] == "dataset"
        assert conn.execute("select name from pragma_table_info('nbgraphdataset')").fetchall()[1] == ("num_archs",)


def test_huge_strings_and_expensive_formatting_are_refused_fast(db_file):
    import time

    with database.connect_readonly(db_file) as conn:
        started = time.perf_counter()
        with pytest.raises(sqlite3.DataError, match="too big"):
            conn.execute("select randomblob(500000000)").fetchall()
        with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
            conn.execute("select length(printf('%.*c', 900000000, 'x'))").fetchall()
        assert time.perf_counter() - started < 2


def test_connect_readonly_closes_at_the_end_of_the_block(db_file):
    with database.connect_readonly(db_file) as conn:
        conn.execute("select 1")
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        conn.execute("select 1")


def test_a_missing_file_is_not_created(tmp_path):
    with pytest.raises(database.DatabaseNotFoundError, match="no database file"):
        database.connect_readonly(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()
