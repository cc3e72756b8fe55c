"""The built site in real headless Chromium, on a full-scale NAS-Bench-201 DB and the real NAS-Bench-Graph.

One session fixture writes the full-scale synthetic NB201 DB (15,625 cells, real seed counts, 30 M
per-epoch rows; one to two minutes), converts the installed NAS-Bench-Graph release, builds the site
(about 40 s) and serves it on a free loopback port with the Range server.
"""
from __future__ import annotations

import csv
import io
import json
import math
import sqlite3
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from nasbenchmark import registry
from nasbenchmark.nasbench201 import bind, query_nb201_computed_stats
from site_builder import build
from site_builder.server import serve
from site_builder.measure import open_view, query_stats, view_bytes, wait_rendered
from synthetic_nb201 import HOSTILE_ARCH_STR, build_nb201_db

pytestmark = pytest.mark.browser

HOSTILE_INDEX = 9  # its arch_str is replaced by HTML markup
ARCH = 11472  # an ordinary cell (the canned queries' default arch string)
KIB = 1024


@pytest.fixture(scope="session")
def full_site(tmp_path_factory):
    from generators.nasbenchgraph import convert
    
    dbs = tmp_path_factory.mktemp("full-dbs")
    started = time.monotonic()
    build_nb201_db(dbs / "nasbench201.db", hostile_arch_index=HOSTILE_INDEX)
    fixture_seconds = time.monotonic() - started
    convert(None, dbs / "nasbenchgraph.db", progress=False)
    started = time.monotonic()
    out = tmp_path_factory.mktemp("full-site") / "site"
    report = build(out, dbs, log=lambda text: None)
    print(f"\nfull-scale NB201 fixture: {fixture_seconds:.0f} s; site build: {time.monotonic() - started:.0f} s\n"
          f"{report.summary()}", file=sys.stderr)
    with serve(out) as server:
        yield {"out": out, "dbs": dbs, "report": report, "url": server.url}


def table_rows(page, selector="#view table.results") -> list[list[str]]:
    return page.eval_on_selector(selector, """t => [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent))""")


def download(page, selector) -> str:
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path()).read_text()


def test_each_benchmark_page_loads_with_its_overview(page, full_site):
    for key, title in (("nb201", "NAS-Bench-201"), ("nbgraph", "NAS-Bench-Graph")):
        open_view(page, full_site["url"] + f"{key}/index.html")
        assert page.is_visible("#overview") and page.is_hidden("#view")
        assert title in page.inner_text("h1")
        columns = page.inner_text("#tables-heading + table, .columns-doc")
        assert "Column" in columns
        tabs = page.eval_on_selector_all(".bench-tabs a", "as => as.map(a => a.dataset.tab)")
        assert {"overview", "browse", "scatter", "queries", "sql"} <= set(tabs)


def test_synthetic_banner_is_visible_only_on_the_synthetic_db(page, full_site):
    open_view(page, full_site["url"] + "nb201/index.html#/summary?_v=1")
    assert page.is_visible("#synthetic-banner")
    assert "not real results" in page.inner_text("#synthetic-banner")
    open_view(page, full_site["url"] + "nbgraph/index.html#/nbgraphresult?_v=1")
    assert page.is_hidden("#synthetic-banner")


def _approx_rows(actual: list[dict], expected: list[dict]):
    assert len(actual) == len(expected) > 0
    for got, want in zip(actual, expected):
        assert got.keys() == want.keys()
        for column, value in want.items():
            if isinstance(value, float):
                assert got[column] == pytest.approx(value, rel=1e-12), column
            else:
                assert got[column] == value, column


@pytest.mark.parametrize("key,name,params", [
    ("nb201", "architecture_results", {"arch": str(ARCH), "epochs": "200"}),
    ("nbgraph", "top_architectures", {"dataset": "citeseer", "metric": "valid_perf", "k": "15"}),
])
def test_canned_query_downloads_equal_the_query_on_the_source_db(page, full_site, key, name, params):
    query = registry.benchmark(key).query(name)
    hash_params = "&".join(f"{k}={v}" for k, v in params.items())
    open_view(page, full_site["url"] + f"{key}/index.html#/{name}?{hash_params}&_v=1")
    assert not page.query_selector("#view .message-error")
    conn = sqlite3.connect(full_site["dbs"] / registry.benchmark(key).db_filename)
    conn.row_factory = sqlite3.Row
    expected = [dict(row) for row in conn.execute(query.sql, {**query.defaults, **params})]
    _approx_rows(json.loads(download(page, "#view .download-json")), expected)
    rows = list(csv.DictReader(io.StringIO(download(page, "#view .download-csv"))))
    assert [list(r) for r in rows][0] == list(expected[0])
    for got, want in zip(rows, expected):
        for column, value in want.items():
            if isinstance(value, float):
                assert float(got[column]) == pytest.approx(value, rel=1e-12)
            else:
                assert got[column] == ("" if value is None else str(value))
    assert len(table_rows(page)) == len(expected)


def test_canned_query_form_offers_the_catalogs_choices(page, full_site):
    """Parameters with a few accepted values are a select of exactly those; submitting runs the query."""
    query = registry.benchmark("nbgraph").query("top_architectures")
    open_view(page, full_site["url"] + "nbgraph/index.html#/top_architectures?_v=1")
    options = page.eval_on_selector_all("#view form.filters select[name=dataset] option", "os => os.map(o => o.value)")
    assert options == list(query.choices["dataset"]) and "proteins" in options
    page.select_option("#view form.filters select[name=dataset]", "proteins")
    page.fill("#view form.filters input[name=k]", "3")
    page.click("#view form.filters button[type=submit]")
    page.wait_for_function("() => location.hash.includes('dataset=proteins') && location.hash.includes('k=3')")
    wait_rendered(page)
    conn = sqlite3.connect(full_site["dbs"] / "nasbenchgraph.db")
    expected = conn.execute(query.sql, {**query.defaults, "dataset": "proteins", "k": "3"}).fetchall()
    assert [row[0].split()[0] for row in table_rows(page)] == [str(row[0]) for row in expected]


def test_browse_filter_shared_url_and_downloads_match_the_python_api(page, browser, full_site):
    open_view(page, full_site["url"] + "nb201/index.html#/summary?_v=1")
    page.select_option("#view form.filters select[name=dataset]", "cifar100")
    page.select_option("#view form.filters select[name=op_1_2]", "conv_3x3")
    page.fill("#view input[name=test_acc__gte]", "40")
    page.select_option("#view select[name=_order]", "-test_acc")
    page.click("#view form.filters button[type=submit]")
    page.wait_for_function("() => location.hash.includes('op_1_2=conv_3x3')")
    page.wait_for_function("() => document.getElementById('view').dataset.rendered !== undefined")
    url = page.url
    assert "dataset=cifar100" in url and "test_acc__gte=40" in url and "_v=1" in url
    shown = table_rows(page)
    assert len(shown) == 50

    shared = browser.new_context().new_page()
    open_view(shared, url)
    assert table_rows(shared) == shown
    shared.context.close()

    bind(full_site["dbs"] / "nasbench201.db")
    expected = [r for r in query_nb201_computed_stats(None, 200, "cifar100", reduction="mean")
                if r["config"]["arch"]["1_2"] == "conv_3x3" and r["test_acc"] >= 40]
    expected.sort(key=lambda r: (r["test_acc"], r["config"]["arch_index"]), reverse=True)
    expected = expected[:50]
    downloaded = json.loads(download(page, "#view .download-json"))[:50]
    assert [r["arch_index"] for r in downloaded] == [r["config"]["arch_index"] for r in expected]
    for got, want in zip(downloaded, expected):
        for column in ("test_acc", "valid_acc", "train_acc", "parameters", "flops", "latency"):
            assert got[column] == pytest.approx(want[column], rel=1e-12)
    csv_rows = list(csv.DictReader(io.StringIO(download(page, "#view .download-csv"))))[:50]
    assert [int(r["arch_index"]) for r in csv_rows] == [r["arch_index"] for r in downloaded]
    assert [float(r["test_acc"]) for r in csv_rows] == [r["test_acc"] for r in downloaded]
    assert [row[0] for row in shown] == [str(r["arch_index"]) for r in downloaded]


def test_architecture_page_draws_the_cell_and_the_learning_curves(page, full_site):
    open_view(page, full_site["url"] + f"nb201/index.html#/nb201arch/{ARCH}?dataset=cifar10&_v=1")
    assert page.eval_on_selector_all("#view svg.cell-graph path.edge", "es => es.length") == 6
    labels = page.eval_on_selector_all("#view svg.cell-graph .edge-label text", "ts => ts.map(t => t.textContent)")
    conn = sqlite3.connect(full_site["dbs"] / "nasbench201.db")
    ops = conn.execute("select op_0_1, op_0_2, op_1_2, op_0_3, op_1_3, op_2_3 from nb201arch where arch_index = ?",
                       (ARCH,)).fetchone()
    assert labels == list(ops)
    results = table_rows(page)
    assert len(results) == 8  # 4 datasets x 2 budgets
    chart = page.query_selector("#view figure.chart svg")
    assert chart is not None
    line_paths = page.eval_on_selector_all("#view figure.chart svg [aria-label=line] path", "ps => ps.length")
    seeds = conn.execute("select count(*) from nb201trialconfig c join nb201trialstats s on s.config_id = c.id "
                         "where c.arch_index = ? and c.dataset = 'cifar10' and c.num_epochs = 200", (ARCH,)).fetchone()[0]
    assert line_paths == seeds >= 1
    assert page.eval_on_selector_all("#view figure.chart svg [aria-label=dot] circle", "cs => cs.length") >= 200


def test_byte_budgets_on_the_full_scale_db(browser, full_site):
    url = full_site["url"]
    lookup = view_bytes(browser, url + f"nb201/index.html#/nb201arch/{ARCH}?_v=1", "arch-lookup")
    top100 = view_bytes(browser, url + "nb201/index.html#/summary?dataset=cifar10&num_epochs=200"
                        "&_sort_desc=test_acc&_size=100&_v=1", "browse")
    scatter = view_bytes(browser, url + "nb201/index.html#/-/scatter?dataset=imagenet16-120&num_epochs=200"
                         "&x=parameters&y=test_acc&_v=1", "scatter")
    print(f"\nbytes fetched: architecture lookup {lookup['total_bytes']:,}, top-100 {top100['total_bytes']:,}, "
          f"scatter {scatter['total_bytes']:,}", file=sys.stderr)
    assert lookup["rows"] == 8 and lookup["total_bytes"] <= 64 * KIB
    assert top100["rows"] == 101 and top100["total_bytes"] <= 128 * KIB  # one extra row tells a next page exists
    assert scatter["rows"] == 15625 and scatter["total_bytes"] <= 1024 * KIB


def test_a_query_over_budget_stops_with_a_message(page, full_site):
    sql = "select count(*), avg(train_loss) from nb201intermediatestats"
    open_view(page, full_site["url"] + f"nb201/index.html#/?sql={sql.replace(' ', '%20')}&_v=1")
    text = page.inner_text("#view .message-error")
    assert "Stopped" in text and "MiB" in text
    fetched = int(page.get_attribute("#view .message-error", "data-bytes"))
    assert fetched <= 33 * 1024 * KIB  # the 32 MiB budget, not the 1.9 GiB file
    assert page.is_visible("#view .message-error button")


def test_scatter_hover_shows_the_architecture_and_click_opens_it(page, full_site):
    open_view(page, full_site["url"] + "nb201/index.html#/-/scatter?dataset=cifar10&num_epochs=200&_v=1")
    assert page.eval_on_selector_all("#view figure.chart [aria-label=dot] circle", "cs => cs.length") == 15625
    dot = page.query_selector("#view figure.chart [aria-label=dot] circle")
    dot.scroll_into_view_if_needed()
    box = dot.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#view aside.pointed h3")
    heading = page.inner_text("#view aside.pointed h3")
    index = heading.split()[-1]
    assert page.eval_on_selector_all("#view aside.pointed svg.cell-graph path.edge", "es => es.length") == 6
    assert f"#{index}" in page.text_content("#view figure.chart [aria-label=tip]")
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function(f"() => location.hash.startsWith('#/nb201arch/{index}')")


def test_an_arch_string_with_markup_renders_as_text(page, full_site):
    open_view(page, full_site["url"] + f"nb201/index.html#/nb201arch/{HOSTILE_INDEX}?_v=1")
    hostile = HOSTILE_ARCH_STR
    assert page.inner_text("#view h2 code") == hostile
    assert page.evaluate("() => window.__xss") is None
    assert page.query_selector("#view b") is None and page.query_selector("#view script") is None


@pytest.mark.parametrize("fragment", [
    "#/summary?_page=abc", "#/summary?dataset=mnist", "#/summary?_sort=cell", "#/no_such_page",
    "#/summary?_v=7", "#/nb201arch/abc", "#/summary?x=%E0%A4%A", "summary", "#/-/curves?archs=1,x",
])
def test_a_malformed_shared_url_shows_a_message(page, full_site, fragment):
    open_view(page, full_site["url"] + "nb201/index.html" + ("" if fragment.startswith("#") else "#") + fragment)
    message = page.inner_text("#view .message-error")
    assert "cannot be shown" in message
    assert page.query_selector("#view .message-error a[href^='#/']") is not None


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)


def test_every_link_of_the_built_site_resolves(full_site):
    out, base = full_site["out"], full_site["url"]
    checked = 0
    with httpx.Client() as client:
        for html_file in sorted(out.rglob("*.html")):
            page_url = urljoin(base, str(html_file.relative_to(out)))
            parser = _Links()
            parser.feed(html_file.read_text())
            for link in parser.links:
                if link.startswith(("#", "http:", "https:", "mailto:", "data:")):
                    continue
                target = urljoin(page_url, link)
                parts = urlsplit(target)
                assert client.head(parts._replace(query="", fragment="").geturl()).status_code == 200, \
                    f"{html_file.relative_to(out)} links to missing {link}"
                checked += 1
        for item in full_site["report"].benchmarks:
            if not item.available:
                continue
            page_data_url = urljoin(base, f"{item.key}/index.html")
            config_url = urljoin(page_data_url, f"../db/{item.db.config_name}")
            config = client.get(config_url).json()
            for index in range(math.ceil(config["databaseLengthBytes"] / config["serverChunkSize"])):
                chunk = urljoin(config_url, config["urlPrefix"] + str(index).zfill(config["suffixLength"]))
                assert client.head(chunk).status_code == 200
    assert checked > 20


def test_query_stats_report_the_engine_counters(page, full_site):
    open_view(page, full_site["url"] + "nbgraph/index.html#/nbgraphresult?dataset=cora&_v=1")
    stats = query_stats(page)
    assert stats[0]["query"] == "browse" and 0 < stats[0]["bytes"] <= stats[0]["total_bytes"]
