"""Shared fixtures: a private NASBENCHMARK_DIR per test, the served benchmark DBs, the real data in tests/data/."""
from __future__ import annotations

from pathlib import Path

import pytest

import served_dbs
from nasbenchmark import database

REPO = Path(__file__).resolve().parent.parent
#: Small real release files, copied with their licences and provenance (tests/data/README.md).
REAL_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def nasbenchmark_dir(tmp_path, monkeypatch):
    """A fresh, empty NASBENCHMARK_DIR; connections opened by earlier tests are forgotten."""
    directory = tmp_path / "nasbenchmark"
    directory.mkdir()
    monkeypatch.setenv(database.ENV_DIR, str(directory))
    database.close_all()
    yield directory
    database.close_all()


def real_data(*parts: str) -> Path:
    """A file or folder of tests/data; missing data fails the test (it ships with the repository)."""
    path = REAL_DATA.joinpath(*parts)
    assert path.exists(), f"real test data missing: {path}"
    return path


@pytest.fixture(scope="session")
def served_dir(tmp_path_factory) -> Path:
    """A NASBENCHMARK_DIR with every benchmark's test DB (``served_dbs.build_all``)."""
    directory = tmp_path_factory.mktemp("served")
    served_dbs.build_all(directory)
    return directory


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium (Debian's, via Playwright) per test module: Playwright's sync API keeps an event
    loop running in the main thread while it is open, and Datasette's in-process tests need ``asyncio.run``."""
    from playwright.sync_api import sync_playwright

    from site_builder.measure import launch

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh tab at 1280 x 900 that fails the test on any uncaught error in the page."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def reference_average_ranks(values: list[float]) -> list[float]:
    """1-based ranks, ties sharing their average rank (Spearman's convention): the tests' reference for the
    rank-correlation queries and the converter's own ranks."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return ranks
