"""site_builder.build: pages, vendored files, benchmark facts, escaping, reuse, and the CLI."""
from __future__ import annotations

import json
import re
import shutil
import sqlite3

import pytest

from nasbenchmark import registry
from click.testing import CliRunner

from site_builder import build
from site_builder.cli import build_site
from synthetic_nb201 import build_nb201_db
from site_builder.vendor import VENDORED_FILES

HOSTILE = "<script>window.__pwned = 1</script>"


@pytest.fixture(scope="module")
def db_dir(tmp_path_factory):
    from generators.nasbenchgraph import convert

    directory = tmp_path_factory.mktemp("dbs")
    nb201 = build_nb201_db(directory / "nasbench201.db", num_archs=120)
    with sqlite3.connect(nb201) as conn:  # a provenance value with markup must render as text
        conn.execute("insert into metadata values ('note', ?)", (HOSTILE,))
    convert(None, directory / "nasbenchgraph.db", progress=False)
    for bench in registry.benchmarks():  # the others: their labelled samples
        if not (directory / bench.db_filename).exists():
            (bench.sample or bench.embedded).build(directory / bench.db_filename)
    return directory


@pytest.fixture(scope="module")
def site(db_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "out"
    return out, build(out, db_dir, log=lambda text: None)


def test_pages_vendored_files_and_dbs_are_written(site):
    out, report = site
    for page in ("index.html", "hosting.html", "nb201/index.html", "nbgraph/index.html", "api/index.html"):
        assert (out / page).is_file(), page
    assert set(report.pages) >= {"index.html", "hosting.html", "nb201/index.html", "nbgraph/index.html"}
    for target in VENDORED_FILES.values():
        assert (out / "static" / "vendor" / target).stat().st_size > 0
    assert (out / "static" / "js" / "app.js").is_file()
    for item in report.benchmarks:
        assert item.available
        assert (out / "db" / item.db.config_name).is_file()
        assert all((out / "db" / chunk).is_file() for chunk in item.db.chunk_names)


def test_benchmark_facts_and_synthetic_flags(site):
    _, report = site
    facts = {item.key: item for item in report.benchmarks}
    assert facts["nb201"].synthetic and not facts["nbgraph"].synthetic
    assert facts["nb201"].num_archs == 120 and facts["nb201"].row_counts["nb201trialconfig"] == 960
    assert facts["nbgraph"].num_archs == 26206 and facts["nbgraph"].row_counts["nbgraphresult"] == 211669


def _banner_hidden(html: str) -> bool:
    tag = re.search(r'<div id="synthetic-banner"[^>]*>', html).group(0)
    return " hidden" in tag


def test_synthetic_banner_only_where_a_synthetic_db_is_shown(site):
    out, _ = site
    assert not _banner_hidden((out / "nb201" / "index.html").read_text())
    assert _banner_hidden((out / "nbgraph" / "index.html").read_text())
    # The home page shows real and synthetic DBs side by side: no page-wide banner, a label on each card.
    home = (out / "index.html").read_text()
    assert _banner_hidden(home)
    cards = dict(re.findall(r'<article class="card" data-benchmark="(\w+)">(.*?)</article>', home, re.S))
    assert "synthetic sample — not real results" in cards["nb201"] and "real data" not in cards["nb201"]
    assert "real data" in cards["nbgraph"] and "synthetic" not in cards["nbgraph"].lower()


def test_db_values_are_escaped_in_pages_and_page_data(site):
    out, _ = site
    html = (out / "nb201" / "index.html").read_text()
    assert HOSTILE not in html
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html
    data = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S).group(1)
    assert "</" not in data  # nothing in the JSON can close the script element
    page = json.loads(data)
    assert (out / "nb201" / page["db"]["config_url"]).resolve().is_file()
    assert {q["name"] for q in page["catalog"]["queries"]} >= {"top_architectures"}


def test_missing_db_is_listed_with_its_generate_command(db_dir, tmp_path):
    only_graph = tmp_path / "dbs"
    only_graph.mkdir()
    shutil.copy(db_dir / "nasbenchgraph.db", only_graph)
    report = build(tmp_path / "out", only_graph, log=lambda text: None)
    nb201 = next(item for item in report.benchmarks if item.key == "nb201")
    assert not nb201.available
    assert not (tmp_path / "out" / "nb201").exists()
    home = (tmp_path / "out" / "index.html").read_text()
    assert "not in this build" in home and "nasbenchmark generate nb201" in home
    assert 'href="nb201/index.html"' not in home


def test_rebuild_reuses_dbs_and_drops_stale_files(site, db_dir):
    out, _ = site
    (out / "stale.html").write_text("old")
    report = build(out, db_dir, log=lambda text: None)
    assert all(item.db.reused for item in report.benchmarks)
    assert not (out / "stale.html").exists()
    assert (out / "nb201" / "index.html").is_file()


def test_refuses_to_overwrite_a_folder_it_did_not_make(tmp_path, db_dir):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    with pytest.raises(ValueError, match="not empty and was not made by the site builder"):
        build(foreign, db_dir, log=lambda text: None)
    result = CliRunner().invoke(build_site, ["--out", str(foreign), "--dir", str(db_dir)])
    assert result.exit_code == 1
    assert "not empty and was not made by the site builder" in result.output
    assert (foreign / "thesis.tex").read_text() == "precious"
