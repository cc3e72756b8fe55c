"""The benchmark DBs the serving tests run on: one per benchmark whose DB can be built here.

``conftest.served_dir`` builds them once per session; ``require_db`` skips a test whose DB is missing.

NAS-Bench-201: the converter's synthetic sample (``generators.nasbench201.sample``); NAS-Bench-Graph:
the real ``cora.bench`` converted by ``generators.nasbenchgraph``. A benchmark whose catalog or
converter is missing is skipped with the reason.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from nasbenchmark import registry

#: Architectures in the NB201 sample: enough for every query to have something to rank.
NB201_SAMPLE_ARCHS = 120
NBGRAPH_INPUT = Path(__file__).resolve().parents[2] / "shared" / "data" / "nas-bench-graph" / "light" / "cora.bench"


def _build_nb201(path: Path) -> None:
    from generators.nasbench201.sample import build_sample_db

    build_sample_db(path, num_archs=NB201_SAMPLE_ARCHS)


def _build_nbgraph(path: Path) -> None:
    if not NBGRAPH_INPUT.is_file():
        raise LookupError(f"real data not available: {NBGRAPH_INPUT}")
    from generators.nasbenchgraph import convert

    convert([NBGRAPH_INPUT], path, progress=False)


BUILDERS = {"nb201": _build_nb201, "nbgraph": _build_nbgraph}


def require_db(directory: Path, key: str):
    """The catalog of ``key`` if its DB is in ``directory``; otherwise skip, saying why."""
    try:
        cat = registry.catalog(key)
    except ModuleNotFoundError:
        pytest.skip(f"{key}: its catalog module does not exist yet")
    if not (directory / cat.db_filename).is_file():
        reason = directory / f"{key}.missing"
        pytest.skip(f"{key}: no DB to serve ({reason.read_text() if reason.is_file() else 'no builder'})")
    return cat
