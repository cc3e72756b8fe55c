"""The NAS-Bench-101 pages and the cell designers (NB101 and NB201) in real Chromium, on the labelled sample
the site is built from: designed cells are looked up by the hash the page computes, the URL holds the cell,
and the architecture page, browse filters and whole-space scatter show what the DB holds."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from generators.fixtures.nb101 import KNOWN_MODELS, build_sample_db
from generators.fixtures.nb201 import build_sample_db as build_nb201_sample
from nasbenchmark.nasbench101 import canonical_hash
from site_builder import build
from site_builder.measure import open_view, query_stats
from site_builder.server import serve

pytestmark = pytest.mark.browser
INCEPTION = "28cfc7874f6d200472e1a9dcd8650aa0"
README_ADJACENCY = "0111010" "0000001" "0000001" "0000100" "0000001" "0000001" "0000000"
DONE = "() => document.querySelector('.designer-results')?.dataset.lookup === 'done'"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    dbs = tmp_path_factory.mktemp("nb101-dbs")
    build_sample_db(dbs / "nasbench101.db")
    build_nb201_sample(dbs / "nasbench201.db", num_archs=40)
    out = tmp_path_factory.mktemp("nb101-site") / "site"
    build(out, dbs, log=lambda text: None)
    with serve(out) as server:
        yield server.url, dbs


def _db(site, name="nasbench101.db"):
    return sqlite3.connect(site[1] / name)


def _designer_state(page) -> tuple[str, str]:
    query = parse_qs(urlsplit(page.evaluate("location.href")).fragment.split("?", 1)[1])
    return query["adjacency"][0], query["ops"][0]


def _problems(page) -> list[str]:
    return page.eval_on_selector_all(".designer-problems li", "items => items.map(i => i.textContent)")


def test_the_default_cell_is_found_by_the_hash_the_page_computes(page, site):
    url, _ = site
    open_view(page, url + "nb101/index.html#/-/designer?_v=1")
    page.wait_for_function(DONE)
    assert INCEPTION in page.inner_text(".designer-summary")
    [arch_id] = _db(site).execute("select arch_id from nb101arch where hash = ?", (INCEPTION,)).fetchone()
    assert page.inner_text(".designer-found") == f"Found: architecture {arch_id} (arch_id {arch_id})."
    budgets = page.eval_on_selector_all(".designer-results table.results tbody tr td:first-child",
                                        "cells => cells.map(c => c.textContent)")
    assert budgets == ["4", "12", "36", "108"]
    assert _designer_state(page) == (README_ADJACENCY, "conv1x1,conv3x3,conv3x3,conv3x3,maxpool3x3")
    assert page.is_visible(".bench-tabs a[data-tab=designer]")


def test_an_isomorphic_spelling_finds_the_same_model(page, site):
    url, _ = site
    stored = next(model for model in KNOWN_MODELS if model.module_hash == INCEPTION)
    ops = ",".join(op.replace("-bn-relu", "") for op in stored.raw_operations.split(",")[1:-1])
    open_view(page, url + f"nb101/index.html#/-/designer?adjacency={stored.raw_adjacency}&ops={ops}&_v=1")
    page.wait_for_function(DONE)
    assert INCEPTION in page.inner_text(".designer-summary") and "Found: architecture" in page.inner_text("#view")


def test_edits_update_problems_hash_lookup_and_url(page, site):
    url, _ = site
    open_view(page, url + "nb101/index.html#/-/designer?_v=1")
    page.wait_for_function(DONE)
    found = page.inner_text(".designer-found")
    page.click("#designer-add")  # an unconnected vertex 6 before the output: pruned, so the same model
    page.wait_for_function(DONE)
    assert _problems(page) == ["vertex 6 is on no input-to-output path and will be pruned"]
    assert INCEPTION in page.inner_text(".designer-summary") and page.inner_text(".designer-found") == found
    page.check("#designer-edge-0-6")
    page.check("#designer-edge-6-7")  # now on a path: 8 vertices, one too many
    page.wait_for_function(DONE)
    assert _problems(page) == ["8 vertices after pruning, more than the 7 allowed",
                               "11 edges after pruning, more than the 9 allowed"]
    assert "nothing to look up" in page.inner_text(".designer-results")
    assert not page.query_selector(".designer-summary")
    adjacency, ops = _designer_state(page)
    assert len(adjacency) == 64 and ops.endswith(",conv3x3")
    page.click("#designer-remove-6")
    page.select_option("#designer-op-5", "conv3x3")
    page.wait_for_function(DONE)
    adjacency, ops = _designer_state(page)
    assert (adjacency, ops) == (README_ADJACENCY, "conv1x1,conv3x3,conv3x3,conv3x3,conv3x3")
    matrix = [[int(adjacency[7 * i + j]) for j in range(7)] for i in range(7)]
    full_ops = ["input", "conv1x1-bn-relu", *["conv3x3-bn-relu"] * 4, "output"]
    assert canonical_hash((matrix, full_ops)) in page.inner_text(".designer-summary")  # the page's hash is Python's


def test_a_designed_cell_is_a_link(page, browser, site):
    url, _ = site
    open_view(page, url + "nb101/index.html#/-/designer?_v=1")
    page.wait_for_function(DONE)
    page.uncheck("#designer-edge-0-1")  # vertex 1 loses its only input
    page.wait_for_function(DONE)
    link = page.evaluate("location.href")
    expected = page.inner_text("#view .designer-status")
    other = browser.new_page()
    try:
        open_view(other, link)
        other.wait_for_function(DONE)
        assert other.inner_text("#view .designer-status") == expected
        assert "vertex 1 is on no input-to-output path and will be pruned" in expected
        assert not other.is_checked("#designer-edge-0-1") and other.is_checked("#designer-edge-0-2")
    finally:
        other.close()


def test_a_malformed_cell_in_the_url_says_what_is_wrong(page, site):
    url, _ = site
    open_view(page, url + "nb101/index.html#/-/designer?adjacency=0120&ops=&_v=1")
    assert '"adjacency" must be the V*V digits 0 or 1' in page.inner_text("#view .message-error")
    open_view(page, url + "nb101/index.html#/-/designer?adjacency=0100&ops=conv5x5&_v=1")
    assert '"ops" must list the 0 inner vertices' in page.inner_text("#view .message-error")


def test_the_nb201_designer_looks_cells_up_by_arch_string(page, site):
    url, _ = site
    with _db(site, "nasbench201.db") as conn:
        arch_index, arch_str = conn.execute(
            "select a.arch_index, a.arch_str from nb201arch a where exists (select 1 from nb201trialconfig c where "
            "c.arch_index = a.arch_index) order by a.arch_index desc limit 1").fetchone()
    open_view(page, url + "nb201/index.html#/-/designer?_v=1")
    page.wait_for_function(DONE)
    ops = [part.split("~")[0] for part in arch_str.strip("|").replace("|+|", "|").split("|")]
    edges = ["0_1", "0_2", "1_2", "0_3", "1_3", "2_3"]
    nni = {"nor_conv_3x3": "conv_3x3", "nor_conv_1x1": "conv_1x1"}
    for edge, op in zip(edges, ops):
        page.select_option(f"#designer-edge-{edge}", nni.get(op, op))
    page.wait_for_function(DONE)
    assert page.inner_text(".designer-found") == f"Found: architecture {arch_index} (arch_index {arch_index})."
    assert parse_qs(urlsplit(page.evaluate("location.href")).fragment.split("?", 1)[1])["arch"] == [arch_str]
    assert page.query_selector_all(".designer-results table.results tbody tr")


def test_the_architecture_page_draws_the_cell_and_every_budget(page, site):
    url, _ = site
    [arch_id, vertices, edges] = _db(site).execute("select arch_id, num_vertices, num_edges from nb101arch "
                                                   "where hash = ?", (INCEPTION,)).fetchone()
    open_view(page, url + f"nb101/index.html#/nb101arch/{arch_id}?num_epochs=36&_v=1")
    assert len(page.query_selector_all("#view svg.cell-graph g.node")) == vertices
    assert len(page.query_selector_all("#view svg.cell-graph path.edge")) == edges
    counters = {stats["query"]: stats["rows"] for stats in query_stats(page)}
    assert counters["arch-lookup"] == 4 and counters["arch-curves"] == 3 * 2  # 3 runs, halfway and final


def test_browse_op_count_filter_shows_the_matching_models(page, site):
    url, _ = site
    open_view(page, url + "nb101/index.html#/nb101meanstats?num_epochs=12&maxpool3x3=2&vertices=6&_size=100&_v=1")
    rows = page.eval_on_selector_all("#view table.results tbody tr td:first-child", "cells => cells.map(c => c.textContent)")
    expected = [str(row[0]) for row in _db(site).execute(
        "select m.arch_id from nb101meanstats m join nb101arch a on a.arch_id = m.arch_id where m.num_epochs = 12 and "
        "a.maxpool3x3 = 2 and a.num_vertices = 6 order by m.test_acc desc, m.arch_id desc limit 100")]
    assert rows == expected and rows


def test_the_whole_space_scatter_stands_for_every_model(page, site):
    """Each bin's representative stands for its models, and every Pareto-optimal model is drawn."""
    url, _ = site
    open_view(page, url + "nb101/index.html#/-/scatter?num_epochs=108&x=training_time&y=valid_acc&_v=1")
    with page.expect_download() as info:
        page.click("#view .download-json")
    points = json.loads(Path(info.value.path()).read_text())
    with _db(site) as conn:
        means = conn.execute("select arch_id, training_time, valid_acc from nb101meanstats where num_epochs = 108 "
                             "order by training_time, valid_acc desc, arch_id").fetchall()
    front, best = set(), None
    for arch_id, _, accuracy in means:
        if best is None or accuracy > best:
            front.add(arch_id)
            best = accuracy
    assert front <= {point["arch_id"] for point in points}
    assert len(means) <= sum(point["archs"] for point in points) <= len(means) + len(front)
    assert f"Pareto front: {len(front)} architectures" in page.inner_text("#view")
