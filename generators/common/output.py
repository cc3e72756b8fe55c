"""Write a SQLite database atomically: build it in a temp file beside the target, rename at the end.

An interrupted or failed conversion therefore never leaves a half-written DB, and an earlier DB at
the same path stays untouched until the new one is complete.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_database(output: Path | str, page_size: int = 4096) -> Iterator[sqlite3.Connection]:
    """Yield a connection to a fresh temp DB; on success commit, optimise and rename it to ``output``."""
    output = Path(output).expanduser().resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{output.name}.tmp-", dir=output.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    conn = None
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        # The temp file is thrown away on any failure, so durability inside it is not needed.
        conn.execute(f"pragma page_size = {page_size}")
        conn.execute("pragma journal_mode = off")
        conn.execute("pragma synchronous = off")
        conn.execute("pragma cache_size = -200000")
        conn.execute("begin")
        yield conn
        conn.execute("commit")
        conn.execute("analyze")
        conn.execute("pragma journal_mode = delete")
        conn.close()
        conn = None
        os.chmod(tmp, 0o644)
        os.replace(tmp, output)
    finally:
        if conn is not None:
            conn.close()
        if tmp.exists():
            tmp.unlink()
