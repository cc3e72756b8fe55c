"""Shared fixtures: a private NASBENCHMARK_DIR per test, the served benchmark DBs, the real data in ../shared/data."""
from __future__ import annotations

from pathlib import Path

import pytest

import served_dbs
from nasbenchmark import database, registry

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def nasbenchmark_dir(tmp_path, monkeypatch):
    """A fresh, empty NASBENCHMARK_DIR; connections opened by earlier tests are forgotten."""
    directory = tmp_path / "nasbenchmark"
    directory.mkdir()
    monkeypatch.setenv(database.ENV_DIR, str(directory))
    database.close_all()
    yield directory
    database.close_all()


def shared_data(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path}")
    return path


@pytest.fixture(scope="session")
def served_dir(tmp_path_factory) -> Path:
    """A NASBENCHMARK_DIR with every benchmark DB that can be built here (see ``served_dbs.require_db``)."""
    directory = tmp_path_factory.mktemp("served")
    for cat in registry.catalogs():
        try:
            served_dbs.BUILDERS[cat.key](directory / cat.db_filename)
        except (LookupError, ImportError) as reason:
            (directory / f"{cat.key}.missing").write_text(f"{type(reason).__name__}: {reason}")
    return directory
