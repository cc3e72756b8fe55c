"""Drive headless Chromium over a built site and read the engine's byte counters per view.

Every view prints its queries' counters in ``.query-stats`` elements (``data-query``, ``data-bytes``,
``data-total-bytes``: bytes fetched since the page opened, the DB header and schema included). Used by
``benchmarks/site_bytes.py`` and the browser tests. Needs Playwright and Chromium (``/usr/bin/chromium``).
"""
from __future__ import annotations

import os

CHROMIUM = os.environ.get("NASBENCHMARK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
RENDERED = "() => { const v = document.getElementById('view'); return v && v.dataset.rendered !== undefined; }"


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def wait_rendered(page, timeout_ms: int = 60000) -> None:
    """Wait until the app finished the current view (every query done or failed)."""
    page.wait_for_function(RENDERED, timeout=timeout_ms)


def open_view(page, url: str, timeout_ms: int = 60000) -> None:
    page.goto(url)
    wait_rendered(page, timeout_ms)


def query_stats(page) -> list[dict]:
    """The counters of every query the current view ran, in order."""
    return page.eval_on_selector_all(".query-stats", """els => els.map(e => ({
        query: e.dataset.query, bytes: Number(e.dataset.bytes), requests: Number(e.dataset.requests),
        rows: Number(e.dataset.rows), total_bytes: Number(e.dataset.totalBytes)}))""")


def view_bytes(browser, url: str, query: str) -> dict:
    """Open ``url`` in a fresh page (cold engine cache) and return the counters of ``query``.

    ``total_bytes`` there is everything the engine fetched until that query finished.
    """
    page = browser.new_page()
    try:
        open_view(page, url)
        for stats in query_stats(page):
            if stats["query"] == query:
                return stats
        errors = page.eval_on_selector_all(".message-error", "els => els.map(e => e.textContent)")
        raise RuntimeError(f"no {query!r} counters at {url}: {errors or 'no error shown'}")
    finally:
        page.close()
