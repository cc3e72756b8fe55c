"""The NDS pages of the built site in real headless Chromium, on the labelled synthetic sample: a design space's
browse table equals the Python API, the configuration page draws the cells or the stage table with the runs and
their curves, the error EDFs of several design spaces are overlaid, the scatter shows a whole design space.

Byte budgets on the full-scale DB are measured by ``benchmarks/site_bytes.py`` (the descriptor lists the views).
"""
from __future__ import annotations

import json
import sqlite3
import statistics

import pytest

from generators.fixtures import nds as fixture
from nasbenchmark import database
from nasbenchmark.nds import bind, query_nds_computed_stats
from nasbenchmark.nds.constants import DESIGN_SPACES
from site_builder import build
from site_builder.measure import open_view, query_stats
from site_builder.server import serve

pytestmark = pytest.mark.browser

SPACE_ID = {space.name: space.id for space in DESIGN_SPACES}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    dbs = tmp_path_factory.mktemp("nds-dbs")
    fixture.build_sample_db(dbs / "nds.db")
    out = tmp_path_factory.mktemp("nds-site") / "site"
    build(out, dbs, log=lambda text: None)
    with serve(out) as server:
        yield {"url": server.url + "nds/index.html", "db": dbs / "nds.db"}
    database.close_all()


def table_rows(page, selector="#view table.results") -> list[list[str]]:
    return page.eval_on_selector(selector, "t => [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent))")


def test_overview_labels_the_sample_and_lists_the_design_spaces(page, site):
    open_view(page, site["url"])
    assert page.is_visible("#synthetic-banner") and "NDS" in page.inner_text("h1")
    overview = page.inner_text("#overview")
    assert "DARTS_lr-wd_in: darts / tune_lr_wd / imagenet" in overview and "error EDF" in overview


def test_browse_a_design_space_sorted_by_accuracy_equals_the_api(page, site):
    open_view(page, site["url"] + "#/ndsmeanstats?space=Vanilla&_sort_desc=best_test_acc&_size=25&_v=1")
    shown = table_rows(page)
    bind(site["db"])
    means = [m for m in query_nds_computed_stats(None, "vanilla", "random", None, None, "cifar10", reduction="mean")]
    means.sort(key=lambda m: (m["best_test_acc"], m["config"]["id"]), reverse=True)
    assert [int(row[0]) for row in shown] == [m["config"]["id"] for m in means[:25]]
    assert [float(row[2]) for row in shown] == [pytest.approx(m["best_test_acc"], rel=1e-5) for m in means[:25]]
    assert page.get_attribute("#view table.results tbody tr a", "href").startswith("#/ndstrialconfig/")


def _config(site, where: str) -> tuple[int, dict]:
    with sqlite3.connect(site["db"]) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute(f"select c.*, count(s.id) as runs from ndstrialconfig c join ndstrialstats s "
                           f"on s.config_id = c.id where {where} group by c.id order by runs desc, c.id limit 1").fetchone()
    return row["id"], dict(row)


def test_a_cell_configuration_page_draws_both_cells_and_the_curves(page, site):
    config_id, row = _config(site, "c.proposer = 'darts'")
    open_view(page, site["url"] + f"#/ndstrialconfig/{config_id}?_v=1")
    assert page.eval_on_selector_all("#view svg.cell-graph", "svgs => svgs.length") == 2
    labels = page.eval_on_selector_all("#view svg.cell-graph .edge-label text", "ts => ts.map(t => t.textContent)")
    spec = json.loads(row["cell_spec"])
    assert labels == [spec[f"{cell}_{i}_op_{side}"] for cell in ("normal", "reduce") for i in range(4) for side in "xy"]
    assert "darts cells, depth" in page.inner_text("#view h2")
    assert len(table_rows(page)) == row["runs"]
    assert page.eval_on_selector_all("#view figure.chart svg [aria-label=line] path", "ps => ps.length") == row["runs"]


def test_a_resnet_configuration_page_has_the_stage_table_and_every_run(page, site):
    config_id, row = _config(site, "c.proposer = 'resnet' and c.generator = 'random'")
    assert row["runs"] > 1  # re-run by the _rng and _reruns files
    open_view(page, site["url"] + f"#/ndstrialconfig/{config_id}?_v=1")
    spec = json.loads(row["model_spec"])
    stages = table_rows(page, "#view table.stage-table")
    assert [int(r[1]) for r in stages] == spec["ds"] and [int(r[2]) for r in stages] == spec["ws"]
    runs = table_rows(page, "#view .result table.results:not(.stage-table)")
    with sqlite3.connect(site["db"]) as conn:
        expected = conn.execute("select id, seed, sweep from ndstrialstats where config_id = ? order by id",
                                (config_id,)).fetchall()
    assert [(int(r[0]), int(r[1]), r[2]) for r in runs] == expected


def test_error_edfs_of_several_design_spaces_are_overlaid(page, site):
    open_view(page, site["url"] + "#/error_edf?spaces=resnet,vanilla,resnext-a&_v=1")
    series = page.eval_on_selector_all("#view figure.chart svg [aria-label=line] path", "ps => ps.length")
    assert series == 3
    legend = page.eval_on_selector_all("#view figure.chart [class$=-swatch]", "ss => ss.map(s => s.textContent)")
    assert sorted(legend) == ["ResNeXt-A", "ResNet", "Vanilla"]
    (stats,) = [s for s in query_stats(page) if s["query"] == "query"]
    with sqlite3.connect(site["db"]) as conn:
        configs = sum(n for (n,) in conn.execute(
            "select configs from ndsdesignspace where name in ('ResNet', 'Vanilla', 'ResNeXt-A')"))
    assert stats["rows"] <= 3 * 100 + 3 and stats["rows"] >= min(configs, 3 * 100)


def test_the_scatter_shows_every_configuration_of_a_design_space(page, site):
    open_view(page, site["url"] + "#/-/scatter?space=ResNeXt-A&x=flops&y=final_test_acc&color=depth&_v=1")
    dots = page.eval_on_selector_all("#view figure.chart [aria-label=dot] circle", "cs => cs.length")
    with sqlite3.connect(site["db"]) as conn:
        configs = conn.execute("select configs from ndsdesignspace where name = 'ResNeXt-A'").fetchone()[0]
    assert dots == configs
    assert [s["rows"] for s in query_stats(page) if s["query"] == "scatter"] == [configs]


def test_seed_variance_query_matches_the_runs(page, site):
    open_view(page, site["url"] + "#/seed_variance?space=Vanilla&min_seeds=4&_v=1")
    rows = table_rows(page)
    assert rows
    bind(site["db"])
    for row in rows[:3]:
        config_id = int(row[0])
        runs = [r["best_test_acc"] for r in query_nds_computed_stats(None, "vanilla", "random", None, None, "cifar10")
                if r["config"]["id"] == config_id]
        assert int(row[1]) == len(runs) and float(row[3]) == pytest.approx(statistics.stdev(runs), rel=1e-4)
