"""Bytes the in-browser engine fetches per view of the static site, on a full-scale NAS-Bench-201 DB.

    python benchmarks/site_bytes.py [--db-dir DIR] [--work DIR]

Without ``--db-dir`` it writes the full-scale synthetic NB201 DB (15,625 cells, real seed counts,
sparse per-epoch rows; ``generators.nasbench201.fixtures.build_full_scale_db``) and converts the
installed NAS-Bench-Graph release into ``--work`` (reused on later runs), builds the site, serves it on a
loopback port and opens each view in a fresh headless Chromium page. Counts come from
sql.js-httpvfs's own counters and include the DB header and schema pages read on opening.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from site_builder import build, serve  # noqa: E402
from site_builder.measure import launch, view_bytes  # noqa: E402

#: (label, page path with hash, query counter to read, budget in bytes or None)
NB201_VIEWS = [
    ("architecture lookup", "nb201/index.html#/nb201arch/{arch}?_v=1", "arch-lookup", 64 * 1024),
    ("learning curves, 1 arch x 1 dataset", "nb201/index.html#/nb201arch/{arch}?dataset=cifar100&_v=1",
     "arch-curves", None),
    ("top-100 leaderboard", "nb201/index.html#/summary?dataset=cifar10&num_epochs=200&_sort_desc=test_acc"
     "&_size=100&_v=1", "browse", 128 * 1024),
    ("browse page 5, op + range filters", "nb201/index.html#/summary?dataset=cifar100&num_epochs=200"
     "&op_1_2=conv_3x3&test_acc__gte=20&_sort_desc=flops&_page=5&_v=1", "browse", None),
    ("whole-space scatter", "nb201/index.html#/-/scatter?dataset=cifar100&num_epochs=200&x=parameters"
     "&y=test_acc&_v=1", "scatter", 1024 * 1024),
    ("curve overlay, 5 archs", "nb201/index.html#/-/curves?archs=11472,1459,5374,2581,13714"
     "&dataset=cifar10&num_epochs=200&_v=1", None, None),
]


def prepare_dbs(work: Path) -> Path:
    from generators.nasbenchgraph import convert
    from generators.nasbench201.fixtures import build_full_scale_db

    db_dir = work / "dbs"
    db_dir.mkdir(parents=True, exist_ok=True)
    nb201 = db_dir / "nasbench201.db"
    if not nb201.exists():
        started = time.monotonic()
        build_full_scale_db(nb201)
        print(f"wrote the full-scale NB201 fixture in {time.monotonic() - started:.0f} s", file=sys.stderr)
    graph = db_dir / "nasbenchgraph.db"
    if not graph.exists():
        convert(None, graph, progress=False)
    return db_dir


def canned_views(report) -> list[tuple]:
    from nasbenchmark import registry

    views = []
    for cat in registry.catalogs():
        if cat.key in {item.key for item in report.benchmarks if item.available}:
            for query in cat.queries:
                views.append((f"{cat.key} canned query {query.name}", f"{cat.key}/index.html#/{query.name}?_v=1",
                              "query", None))
    return views


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-dir", type=Path, help="use these DBs instead of writing the fixtures")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "nasbenchmark-site-bytes")
    parser.add_argument("--arch", type=int, default=11472, help="architecture index for the lookups")
    args = parser.parse_args()
    db_dir = args.db_dir or prepare_dbs(args.work)
    started = time.monotonic()
    report = build(args.work / "site", db_dir, log=lambda text: None)
    print(f"site built in {time.monotonic() - started:.0f} s\n{report.summary()}\n")

    from playwright.sync_api import sync_playwright

    views = [(label, path.format(arch=args.arch), query, budget) for label, path, query, budget in NB201_VIEWS]
    print(f"{'view':58} {'query KiB':>10} {'requests':>8} {'page total KiB':>15}  budget")
    with serve(args.work / "site") as server, sync_playwright() as playwright:
        browser = launch(playwright)
        for label, path, query, budget in views + canned_views(report):
            try:
                if query is None:
                    stats = _all_queries(browser, server.url + path)
                else:
                    stats = view_bytes(browser, server.url + path, query)
            except RuntimeError as exc:
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
