"""The benchmark DBs the serving tests run on: one per benchmark whose DB can be built here.

NAS-Bench-201: the converter's synthetic sample (``generators.nasbench201.sample``); NAS-Bench-Graph:
the real ``cora.bench`` converted by ``generators.nasbenchgraph``. A benchmark whose catalog or
converter is missing is skipped with the reason.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from nasbenchmark import registry, serving

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


_BUILDERS = {"nb201": _build_nb201, "nbgraph": _build_nbgraph}


@pytest.fixture(scope="session")
def served_dir(tmp_path_factory) -> Path:
    """A NASBENCHMARK_DIR with every benchmark DB that can be built here (see ``require_db``).

    Each test module imports this fixture (conftest.py is shared with other work), which makes one
    fixture per module; the DBs are still built once per session, in a fixed folder.
    """
    directory = tmp_path_factory.getbasetemp() / "served"
    done = directory / ".complete"
    if not done.is_file():
        directory.mkdir(exist_ok=True)
        for cat in registry.catalogs():
            try:
                _BUILDERS[cat.key](directory / cat.db_filename)
            except (LookupError, ImportError) as reason:
                (directory / f"{cat.key}.missing").write_text(f"{type(reason).__name__}: {reason}")
        done.touch()
    return directory


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


def test_served_dbs_say_whether_they_are_synthetic(served_dir):
    expected = {"nb201": True, "nbgraph": False}  # the NB201 sample is synthetic, cora.bench is real
    found = serving.available_databases(served_dir)
    assert found, "no benchmark DB could be built"
    for key, path in found.items():
        assert serving.metadata.is_synthetic(path) is expected[key], key
