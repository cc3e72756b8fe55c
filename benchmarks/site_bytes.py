"""Bytes the in-browser engine fetches per view of the static site, on full-scale DBs.

    python benchmarks/site_bytes.py [--db-dir DIR] [--work DIR]

Without ``--db-dir`` it writes each registered benchmark's full-scale DB into ``--work`` (its
descriptor's ``full_scale`` builder: real data where installable, a fixture at the release's scale
otherwise; reused on later runs), builds the site, serves it on a loopback port and opens each view the
descriptors list (``SiteViews.budgets``, plus every canned query) in a fresh headless Chromium page.
Counts come from sql.js-httpvfs's own counters and include the DB header and schema pages read on opening.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nasbenchmark import registry  # noqa: E402
from site_builder import build  # noqa: E402
from site_builder.measure import launch, view_bytes  # noqa: E402
from site_builder.server import serve  # noqa: E402


def prepare_dbs(work: Path) -> Path:
    db_dir = work / "dbs"
    db_dir.mkdir(parents=True, exist_ok=True)
    for bench in registry.benchmarks():
        path = db_dir / bench.db_filename
        if not path.exists():
            started = time.monotonic()
            bench.full_scale.build(path)
            print(f"wrote {bench.full_scale.what} in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return db_dir


def budget_views(report) -> list[tuple]:
    available = {item.key for item in report.benchmarks if item.available}
    return [(f"{bench.key} {view.label}", f"{bench.key}/index.html#/{view.route}", view.counter, view.budget_bytes)
            for bench in registry.benchmarks() if bench.key in available for view in bench.site.budgets]


def canned_views(report) -> list[tuple]:
    views = []
    for bench in registry.benchmarks():
        if bench.key in {item.key for item in report.benchmarks if item.available}:
            for query in bench.queries:
                views.append((f"{bench.key} canned query {query.name}", f"{bench.key}/index.html#/{query.name}?_v=1",
                              "query", None))
    return views


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-dir", type=Path, help="use these DBs instead of writing the fixtures")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "nasbenchmark-site-bytes")
    args = parser.parse_args()
    db_dir = args.db_dir or prepare_dbs(args.work)
    started = time.monotonic()
    report = build(args.work / "site", db_dir, log=lambda text: None)
    print(f"site built in {time.monotonic() - started:.0f} s\n{report.summary()}\n")

    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    views = budget_views(report)
    print(f"{'view':58} {'query KiB':>10} {'requests':>8} {'page total KiB':>15}  budget")
    with serve(args.work / "site") as server, sync_playwright() as playwright:
        browser = launch(playwright)
        for label, path, query, budget in views + canned_views(report):
            try:
                if query is None:
                    stats = _all_queries(browser, server.url + path)
                else:
                    stats = view_bytes(browser, server.url + path, query)
            except (RuntimeError, PlaywrightTimeout) as exc:
                print(f"{label:58} {'stopped':>10}  {str(exc)[:90]}")
                continue
            verdict = "" if budget is None else (
                f"{budget // 1024} KiB {'ok' if stats['total_bytes'] <= budget else 'OVER'}")
            print(f"{label:58} {stats['bytes'] / 1024:10.1f} {stats['requests']:8d} "
                  f"{stats['total_bytes'] / 1024:15.1f}  {verdict}")
        browser.close()


def _all_queries(browser, url: str) -> dict:
    from site_builder.measure import open_view, query_stats

    page = browser.new_page()
    try:
        open_view(page, url)
        stats = query_stats(page)
    finally:
        page.close()
    return {"bytes": sum(s["bytes"] for s in stats), "requests": sum(s["requests"] for s in stats),
            "total_bytes": max((s["total_bytes"] for s in stats), default=0)}


if __name__ == "__main__":
    main()
