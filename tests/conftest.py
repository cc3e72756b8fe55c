"""Shared fixtures: a private NASBENCHMARK_DIR per test, paths to the real data in ../shared/data."""
from __future__ import annotations

from pathlib import Path

import pytest

from nasbenchmark import database

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
