"""Synthetic NAS-Bench-201 DBs for the site tests, made by the converter's own synthetic release.

``generators.fixtures.nb201.build_full_scale_db`` writes the release's shape (official indexes
and arch strings, v1_1 seed counts, sparse per-epoch rows) without a file to convert; this adds an
architecture whose arch string is HTML markup, to check that every view escapes DB values.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from generators.fixtures.nb201 import build_full_scale_db
from nasbenchmark.nasbench201.constants import NUM_ARCHS

HOSTILE_ARCH_STR = "<script>window.__xss = 1</script><b>bold</b>"


def build_nb201_db(path: Path, num_archs: int = NUM_ARCHS, hostile_arch_index: int | None = None) -> Path:
    build_full_scale_db(path, num_archs)
    if hostile_arch_index is not None:
        with sqlite3.connect(path) as conn:
            conn.execute("update nb201arch set arch_str = ? where arch_index = ?",
                         (HOSTILE_ARCH_STR, hostile_arch_index))
        conn.close()
    return Path(path)
