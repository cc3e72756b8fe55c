"""The ``metadata`` table every generated DB carries, and what it says about the DB's data.

Converters write it (``generators.common.metadata``); every view reads it through ``read_provenance``
so that a synthetic sample or a partial source is labelled the same way in ``info``, Datasette, ``up``
and the site.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from .descriptor import Column, Table

METADATA_TABLE = Table(
    "metadata", "Provenance: benchmark, source files with sha256, generator version, whether the data is a "
    "synthetic sample or a partial source and what it lacks.",
    (Column("key", "TEXT", "Name", not_null=True), Column("value", "TEXT", "Value", not_null=True)),
    primary_key=("key",), small=True,
)

SYNTHETIC_LABEL = "SYNTHETIC SAMPLE — not real results"


@dataclass(frozen=True)
class Provenance:
    """What a DB's metadata says about its data."""

    values: dict[str, str] = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        return self.values.get("synthetic") == "true"

    @property
    def partial(self) -> str | None:
        """What a real but partial source holds (e.g. "200-epoch validation accuracy, cost"), or None."""
        return self.values.get("partial") or None

    @property
    def absent(self) -> dict:
        """``{"columns": [...], "dataset": [...], ...}``: what canned-query parameters this DB cannot serve."""
        try:
            value = json.loads(self.values.get("absent") or "{}")
        except json.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}

    @property
    def evaluated_archs(self) -> int | None:
        text = self.values.get("evaluated_archs", "")
        return int(text) if text.isdigit() else None

    @property
    def label(self) -> str:
        """"SYNTHETIC SAMPLE", "real (partial: ...)" or "real": how every view names the data."""
        if self.synthetic:
            return "SYNTHETIC SAMPLE"
        return f"real (partial: {self.partial})" if self.partial else "real"

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    def get(self, key: str, default=None):
        """The metadata value of ``key`` as stored (text), or ``default`` when the DB has none."""
        return self.values.get(key, default)


def sha256_file(path: Path | str) -> str:
    """The file's sha256, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_provenance(path: Path | str) -> Provenance:
    """The metadata of the DB at ``path`` (empty for a DB without the table, e.g. NNI's own)."""
    from .database import connect_readonly

    with connect_readonly(path) as conn:
        try:
            return Provenance(dict(conn.execute("select key, value from metadata")))
        except sqlite3.OperationalError:
            return Provenance()
