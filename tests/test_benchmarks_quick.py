"""``benchmarks/compare.py --quick``: the side-by-side harness runs end to end on small inputs, so it cannot rot.

One run of the real script (a fresh process, every section) into a temporary folder; the assertions read the
RESULTS.json, .md and .svg it wrote. NNI's and the original APIs' parts are skipped only when their virtualenv
cannot be built on this machine, and the skip says so.
"""
from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import peers  # noqa: E402

from nasbenchmark import registry  # noqa: E402


def _environment_or_reason(environment: peers.Environment) -> str | None:
    try:
        environment.python()
    except peers.PeerUnavailable as exc:
        return str(exc)
    return None


@pytest.fixture(scope="module")
def quick(tmp_path_factory) -> tuple[dict, Path]:
    work = tmp_path_factory.mktemp("compare-quick")
    out = work / "results"
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "compare.py"), "--quick", "--work", str(work),
                           "--out", str(out)], capture_output=True, text=True, timeout=1800, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((out / "RESULTS.json").read_text())
    assert (out / "RESULTS.md").read_text() in done.stdout  # the printed table is the written one
    return results, out


def test_every_converter_runs_at_every_quick_scale_and_keeps_the_full_db(quick):
    results, _ = quick
    assert results["mode"] == "quick"
    conversion = results["conversion"]
    assert list(conversion) == [bench.key for bench in registry.benchmarks()]
    for key, item in conversion.items():
        scales = item["scales"]
        assert [scale["fraction"] for scale in scales] == sorted(scale["fraction"] for scale in scales)
        assert scales[-1]["fraction"] == 1.0 and len(scales) >= 2, key
        for scale in scales:
            ours = scale["ours"]
            assert ours["ok"], (key, ours)
            assert ours["seconds"] > 0 and ours["peak_rss_mb"] > 10 and scale["input_bytes"] > 0
        assert scales[-1]["ours"]["db_bytes"] > scales[0]["ours"].get("db_bytes", 0) - 1
        db = Path(results["work"]) / "dbs" / registry.benchmark(key).db_filename
        assert db.stat().st_size == scales[-1]["ours"]["db_bytes"]


def test_nni_db_gen_converts_the_same_input_and_is_slower(quick):
    reason = _environment_or_reason(peers.NNI)
    if reason:
        pytest.skip(reason)
    conversion = quick[0]["conversion"]
    for key in ("nb201", "nds"):
        top = conversion[key]["scales"][-1]
        assert top["nni"]["ok"], top["nni"]
        assert top["nni"]["db_bytes"] > 0
        assert top["nni"]["seconds"] > top["ours"]["seconds"], (key, top)
    assert "TensorFlow 1" in conversion["nb101"]["no_peer"] and "nni" not in conversion["nb101"]["scales"][-1]


def test_nni_queries_on_our_db_return_what_ours_return(quick):
    """NNI's query functions read our tables unchanged: the same calls give as many rows on both sides."""
    reason = _environment_or_reason(peers.NNI)
    if reason:
        pytest.skip(reason)
    queries = quick[0]["queries"]
    assert set(queries) == {bench.key for bench in registry.benchmarks()}
    for key, item in queries.items():
        names = [case["case"] for case in item["cases"]]
        assert any("wildcard" in name for name in names), key
        for case in item["cases"]:
            ours = case["ours"]
            assert ours["calls"] >= 1 and 0 < ours["p50_ms"] <= ours["p99_ms"], (key, case)
            assert ours["rows"] >= 1
            if key == "nbgraph":
                assert case["nni"] == {"skipped": "NNI has no NAS-Bench-Graph"}
            else:
                assert case["nni"]["rows"] == ours["rows"], (key, case)
                assert case["ratio_p50"] == pytest.approx(case["nni"]["p50_ms"] / ours["p50_ms"], rel=0.02, abs=0.01)


def test_cold_start_of_our_api_and_of_the_original_loaders(quick):
    cold = quick[0]["cold_start"]
    ours = [row for row in cold if row["who"].startswith("ours")]
    assert {row["benchmark"] for row in ours} >= {bench.key for bench in registry.benchmarks()}
    for row in ours:
        assert 0 < row["seconds"] < 30 and 10 < row["peak_rss_mb"] < 1000, row
    originals = [row for row in cold if not row["who"].startswith("ours")]
    reason = _environment_or_reason(peers.ORIGINAL_APIS)
    assert len(originals) == 4
    for row in originals:
        if reason:
            assert row["skipped"] == reason
        else:
            assert "seconds" in row, row  # the quick inputs fit every loader's memory
            assert row["peak_rss_mb"] > 10


def test_browser_views_are_measured_or_the_reason_is_given(quick):
    browser = quick[0]["browser"]
    if "skipped" in browser:
        assert "Chromium" in browser["skipped"] or "cannot run" in browser["skipped"]
        pytest.skip(browser["skipped"])
    views = browser["views"]
    budgeted = [(bench.key, view.label) for bench in registry.benchmarks() for view in bench.site.budgets]
    assert [(v["benchmark"], v["view"]) for v in views if not v["view"].startswith("canned query")] == budgeted
    measured = [v for v in views if "total_bytes" in v]
    assert len(measured) > len(views) // 2  # small DBs lack some ids the budgets name; most views still render
    for view in measured:
        assert view["total_bytes"] >= view["query_bytes"] >= 0 and view["seconds_to_rows"] > 0
        assert view["within_budget"] is None or view["within_budget"] == (view["total_bytes"] <= view["budget_bytes"])
    assert all(v.get("failure") for v in views if "total_bytes" not in v)


def test_results_markdown_and_scaling_plot(quick):
    results, out = quick
    markdown = (out / "RESULTS.md").read_text()
    for heading in ("## Conversion at full scale", "## Scaling", "## Queries", "## Cold start", "## Browser",
                    "## Targets"):
        assert heading in markdown
    assert "![conversion time and peak RSS against scale](RESULTS.svg)" in markdown
    assert "published" in markdown and "reference, not measured here" in markdown
    svg = ElementTree.fromstring((out / "RESULTS.svg").read_text())
    paths = svg.findall("{http://www.w3.org/2000/svg}path")
    assert len(paths) >= 2 * len(results["conversion"])  # one line per benchmark per panel, at least
