"""Write a benchmark DB in the shape the in-browser engine reads well, split for static hosting.

Steps: ``VACUUM INTO`` a compact copy with 4 KiB pages (the engine fetches one page per request
unit), add the site's derived tables and covering indexes, ``ANALYZE``, ``journal_mode=delete``
(the engine cannot read a WAL), name the file after its content hash (a stale cache can never mix
pages of two versions), split it into chunks of at most 10 MiB and write the sql.js-httpvfs
``chunked`` config beside them.

The result is reused while the source DB and the derived SQL are unchanged: a rebuild of the site
after a template edit does not rewrite gigabytes.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from nasbenchmark.provenance import sha256_file

PAGE_SIZE = 4096
SERVER_CHUNK_SIZE = 10 * 1024 * 1024
#: Bumped when the writer's output changes for the same inputs.
WRITER_VERSION = "1"


@dataclass(frozen=True)
class BrowserDb:
    """One written browser DB. ``config_name`` is relative to the directory it was written to."""

    key: str
    config_name: str
    db_name: str
    chunk_names: tuple[str, ...]
    size_bytes: int
    content_hash: str
    page_size: int
    row_counts: dict = field(default_factory=dict)  # table -> rows, from ANALYZE
    reused: bool = False


def _recipe_hash(source_sha256: str, derived_sql: str) -> str:
    text = "\0".join([WRITER_VERSION, source_sha256, derived_sql, str(PAGE_SIZE), str(SERVER_CHUNK_SIZE)])
    return hashlib.sha256(text.encode()).hexdigest()


def _existing(out_dir: Path, key: str, recipe: str) -> BrowserDb | None:
    """A DB written earlier from the same inputs whose chunks are all still there."""
    for config_path in out_dir.glob(f"{key}-*.json"):
        try:
            config = json.loads(config_path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if config.get("recipe") != recipe or not isinstance(config.get("rowCounts"), dict):
            continue
        chunks = tuple(config["chunks"])
        sizes = [(out_dir / name).stat().st_size if (out_dir / name).is_file() else -1 for name in chunks]
        if min(sizes, default=-1) < 0 or sum(sizes) != config["databaseLengthBytes"]:
            continue
        return BrowserDb(key, config_path.name, config["dbName"], chunks, config["databaseLengthBytes"],
                         config["cacheBust"], config["requestChunkSize"], config["rowCounts"], reused=True)
    return None


def _remove_other_versions(out_dir: Path, key: str, keep: BrowserDb) -> None:
    keep_names = {keep.config_name, *keep.chunk_names}
    for path in out_dir.glob(f"{key}-*"):
        if path.name not in keep_names:
            path.unlink()


def write_browser_db(source: Path | str, out_dir: Path | str, key: str, derived: list[str] = ()) -> BrowserDb:
    """Write ``<key>-<hash>.sqlite3.NNN`` chunks and ``<key>-<hash>.json`` into ``out_dir``.

    ``derived`` statements run on the copy (``SiteViews.statements``: summary tables and covering
    indexes). Earlier versions of the same key in ``out_dir`` are removed.
    """
    source = Path(source)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    recipe = _recipe_hash(sha256_file(source), ";\n".join(derived))
    found = _existing(out_dir, key, recipe)
    if found:
        _remove_other_versions(out_dir, key, found)
        return found

    tmp = out_dir / f".{key}.tmp-browserdb.sqlite3"
    tmp.unlink(missing_ok=True)
    try:
        _compact_copy(source, tmp)
        row_counts = _add_derived(tmp, derived)
        written = _split(tmp, out_dir, key, recipe, row_counts)
    finally:
        tmp.unlink(missing_ok=True)
    _remove_other_versions(out_dir, key, written)
    return written


def _compact_copy(source: Path, target: Path) -> None:
    # Not database.connect_readonly: that one refuses VACUUM INTO (it writes a new file), which is the point here.
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        source_page_size = src.execute("pragma page_size").fetchone()[0]
        src.execute("vacuum into ?", (str(target),))
    finally:
        src.close()
    if source_page_size != PAGE_SIZE:
        # VACUUM INTO keeps the source's page size; a second VACUUM applies ours.
        conn = sqlite3.connect(target, isolation_level=None)
        try:
            conn.execute("pragma journal_mode = delete")
            conn.execute(f"pragma page_size = {PAGE_SIZE}")
            conn.execute("vacuum")
        finally:
            conn.close()


def table_rows(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows of every table: ANALYZE's exact count where it has one (no scan of a multi-GB table)."""
    counts = {}
    tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table' "
                                         "and name not like 'sqlite_%' order by name")]
    for table in tables:
        row = conn.execute("select stat from sqlite_stat1 where tbl = ? order by idx is not null limit 1",
                           (table,)).fetchone()
        counts[table] = (int(row[0].split()[0]) if row and row[0]
                         else conn.execute(f'select count(*) from "{table}"').fetchone()[0])
    return counts


def _add_derived(path: Path, derived: list[str]) -> dict[str, int]:
    db = sqlite_utils.Database(path)
    try:
        db.execute("pragma journal_mode = delete")
        db.execute("pragma cache_size = -200000")
        with db.atomic():
            for statement in derived:
                db.execute(statement)
        db.analyze()
        # Appending tables after VACUUM INTO leaves no free pages; vacuum again only if something did.
        if db.execute("pragma freelist_count").fetchone()[0]:
            db.vacuum()
        page_size = db.execute("pragma page_size").fetchone()[0]
        journal = db.execute("pragma journal_mode").fetchone()[0]
        row_counts = table_rows(db.conn)
    finally:
        db.close()
    if page_size != PAGE_SIZE or journal != "delete":
        raise RuntimeError(f"browser DB {path} has page_size {page_size}, journal_mode {journal}; "
                           f"expected {PAGE_SIZE} and delete")
    return row_counts


def _split(path: Path, out_dir: Path, key: str, recipe: str, row_counts: dict[str, int]) -> BrowserDb:
    content_hash = sha256_file(path)[:16]
    db_name = f"{key}-{content_hash}.sqlite3"
    size = path.stat().st_size
    count = max(1, -(-size // SERVER_CHUNK_SIZE))
    suffix_length = max(3, len(str(count - 1)))
    chunk_names = []
    with open(path, "rb") as f:
        for index in range(count):
            name = f"{db_name}.{index:0{suffix_length}d}"
            with open(out_dir / name, "wb") as chunk:
                chunk.write(f.read(SERVER_CHUNK_SIZE))
            chunk_names.append(name)
    config = {
        "serverMode": "chunked",
        "requestChunkSize": PAGE_SIZE,
        "databaseLengthBytes": size,
        "serverChunkSize": SERVER_CHUNK_SIZE,
        "urlPrefix": f"{db_name}.",
        "suffixLength": suffix_length,
        "cacheBust": content_hash,
        # Not read by the engine: what the builder needs to reuse this DB.
        "dbName": db_name,
        "chunks": chunk_names,
        "recipe": recipe,
        "rowCounts": row_counts,
    }
    config_name = f"{key}-{content_hash}.json"
    tmp_config = out_dir / f".{config_name}.tmp"
    tmp_config.write_text(json.dumps(config, indent=1))
    os.replace(tmp_config, out_dir / config_name)
    return BrowserDb(key, config_name, db_name, tuple(chunk_names), size, content_hash, PAGE_SIZE, row_counts)


def join_chunks(out_dir: Path | str, db: BrowserDb, target: Path | str) -> Path:
    """Reassemble a split DB (for tests and ``EXPLAIN QUERY PLAN`` checks)."""
    with open(target, "wb") as out:
        for name in db.chunk_names:
            out.write((Path(out_dir) / name).read_bytes())
    return Path(target)
