"""Every canned query of every catalog, run by the real Datasette app in-process on a served DB dir."""
from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import sqlite3
from urllib.parse import urlencode

import pytest
import yaml
from datasette.app import Datasette

from nasbenchmark import registry, serving
from nasbenchmark.serving.plans import full_reads, large_tables
from served_dbs import require_db

KEYS = list(registry.BENCHMARK_PACKAGES)
#: Features newer than SQLite 3.35 (what the site runs through sql.js) or absent from it.
_NEWER_THAN_335 = {
    "-> / ->> (3.38)": r"->", "STRICT tables (3.37)": r"\bstrict\b",
    "RIGHT/FULL JOIN (3.39)": r"\b(right|full)\s+(outer\s+)?join\b",
    "IS DISTINCT FROM (3.39)": r"\bis\s+(not\s+)?distinct\s+from\b",
    "newer functions": r"\b(unixepoch|format|octet_length|concat|concat_ws|string_agg|unhex|timediff|median|"
                       r"percentile\w*|jsonb\w*|json_pretty)\s*\(",
}


def _datasette(directory) -> Datasette:
    """The app exactly as ``nasbenchmark serve`` configures it, from the generated files."""
    files = serving.write_config(directory)
    return Datasette(immutables=[str(p) for p in files.databases],
                     metadata=yaml.safe_load(files.metadata.read_text()),
                     inspect_data=json.loads(files.inspect.read_text()), settings=serving.SETTINGS,
                     plugins_dir=str(files.plugins), template_dir=str(serving.server.TEMPLATES_DIR))


def fetch(directory, *paths: str) -> list:
    """GET each path from one in-process Datasette; returns the httpx responses."""
    ds = _datasette(directory)

    async def _get_all():
        return [await ds.client.get(path) for path in paths]

    return asyncio.run(_get_all())


def query_url(cat, name: str, params: dict, fmt: str = ".json", **extra: str) -> str:
    return f"/{serving.database_name(cat)}/{name}{fmt}?{urlencode({**params, **extra})}"


def rows_of(response) -> list[dict]:
    assert response.status_code == 200, response.text[:500]
    return response.json()


@pytest.mark.parametrize("key", KEYS)
def test_every_query_runs_with_defaults_as_json_and_csv(served_dir, key):
    cat = require_db(served_dir, key)
    paths = []
    for query in cat.queries:
        paths += [query_url(cat, query.name, query.defaults, _shape="objects"),
                  query_url(cat, query.name, query.defaults, ".csv")]
    responses = fetch(served_dir, *paths)
    for query, as_json, as_csv in zip(cat.queries, responses[::2], responses[1::2]):
        assert as_json.status_code == 200, (query.name, as_json.text[:500])
        body = as_json.json()
        assert body["ok"] is True and body["rows"], f"{query.name} returned no rows with its defaults"
        assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/plain")
        table = list(csv.DictReader(io.StringIO(as_csv.text)))
        assert len(table) == len(body["rows"]) and list(table[0]) == list(body["rows"][0])


@pytest.mark.parametrize("key", KEYS)
def test_database_page_lists_every_query_and_each_has_a_form(served_dir, key):
    cat = require_db(served_dir, key)
    name = serving.database_name(cat)
    database, *pages = fetch(served_dir, f"/{name}.json", *(f"/{name}/{q.name}" for q in cat.queries))
    listed = {q["name"]: q["title"] for q in database.json()["queries"]}
    assert listed == {q.name: q.title for q in cat.queries}
    for query, page in zip(cat.queries, pages):
        assert page.status_code == 200 and query.title in page.text
        for param in query.defaults:
            assert f'name="{param}"' in page.text, (query.name, param)


@pytest.mark.parametrize("key", KEYS)
def test_blank_fields_mean_the_defaults(served_dir, key):
    """Datasette sends "" for an empty form field; the query must then use its documented default."""
    cat = require_db(served_dir, key)
    paths = []
    for query in cat.queries:
        paths += [query_url(cat, query.name, query.defaults, _shape="array"),
                  query_url(cat, query.name, {name: "" for name in query.defaults}, _shape="array")]
    responses = fetch(served_dir, *paths)
    for query, explicit, blank in zip(cat.queries, responses[::2], responses[1::2]):
        assert rows_of(blank) == rows_of(explicit), query.name


@pytest.mark.parametrize("key", KEYS)
def test_bad_parameter_values_give_an_error_page_not_a_traceback(served_dir, key):
    cat = require_db(served_dir, key)
    junk = ["'; drop table metadata; --", "-1", "1e999", "\u00e9\u00e8", "%00"]
    cases = [(query, {**query.defaults, name: value}) for query in cat.queries for name in query.defaults
             for value in junk]
    paths = [query_url(cat, q.name, p, fmt) for q, p in cases for fmt in (".json", "")]
    for response in fetch(served_dir, *paths):
        assert response.status_code in (200, 400), (response.request.url, response.text[:300])
        assert "Traceback" not in response.text
    conn = sqlite3.connect(f"file:{served_dir / cat.db_filename}?mode=ro", uri=True)
    assert conn.execute("select count(*) from metadata").fetchone()[0] > 0


@pytest.mark.parametrize("key", KEYS)
def test_every_query_reads_large_tables_through_an_index(served_dir, key):
    cat = require_db(served_dir, key)
    conn = sqlite3.connect(f"file:{served_dir / cat.db_filename}?mode=ro", uri=True)
    for query in cat.queries:
        assert full_reads(conn, query.sql, query.defaults, large_tables(cat)) == [], query.name


@pytest.mark.parametrize("key", KEYS)
def test_sql_stays_within_sqlite_3_35_and_binds_every_value(served_dir, key):
    cat = require_db(served_dir, key)
    for query in cat.queries:
        for feature, pattern in _NEWER_THAN_335.items():
            assert not re.search(pattern, query.sql, re.I), f"{query.name} uses {feature}"
        named = set(re.findall(r"(?<![:\w]):([a-z_]\w*)", re.sub(r"'[^']*'", "''", query.sql), re.I))
        assert named == set(query.defaults), f"{query.name}: SQL params {named} != declared {set(query.defaults)}"


def test_plan_check_catches_a_scan(served_dir):
    """The scan detector itself: an unindexed filter on a large table is reported, an indexed one is not."""
    conn = sqlite3.connect(f"file:{served_dir / 'nasbench201.db'}?mode=ro", uri=True)
    large = {"nb201trialstats", "nb201intermediatestats"}
    assert full_reads(conn, "select * from nb201trialstats s where s.test_acc > 90", {}, large)
    assert full_reads(conn, "select count(*) from nb201intermediatestats", {}, large)
    assert full_reads(conn, "select * from nb201trialstats as runs where runs.seed = 777", {}, large)
    assert not full_reads(conn, "select * from nb201trialstats s where s.config_id = 3", {}, large)


def test_a_whole_space_query_is_not_truncated(served_dir):
    """Every cora architecture (26,206 in the real release) comes back, not Datasette's default 1,000."""
    cat = require_db(served_dir, "nbgraph")
    query = cat.query("perf_vs_cost")
    body = rows_of(fetch(served_dir, query_url(cat, "perf_vs_cost", query.defaults, _shape="objects"))[0])
    assert len(body["rows"]) == 26206 and body["truncated"] is False


def _checked_params(query) -> dict:
    return {p.name: "abc" for p in query.params if p.choices or p.integer}


@pytest.mark.parametrize("key", KEYS)
def test_a_bad_parameter_is_one_readable_message_in_every_format(served_dir, key):
    """JSON and CSV answer 400 with the message alone (0.65 sent CSV as 200 with an empty body); the HTML
    page shows it without SQLite's "JSON path error near" wrapper. Every bad parameter is named."""
    import html

    cat = require_db(served_dir, key)
    query = max(cat.queries, key=lambda q: len(_checked_params(q)))
    bad = _checked_params(query)
    expected = query.stop_text(bad)
    assert expected.count("must be") == len(bad) >= 2
    page, as_json, as_csv = fetch(served_dir, *(query_url(cat, query.name, bad, fmt) for fmt in ("", ".json", ".csv")))
    assert as_json.status_code == 400 and as_json.json()["error"] == expected
    assert as_csv.status_code == 400 and as_csv.text.strip().endswith(expected)
    assert expected in html.unescape(page.text) and "JSON path error" not in page.text


def test_a_query_that_stops_answers_csv_with_its_message(served_dir):
    """A stop that only the SQL can see (no such architecture) is a 400 with the message, not an empty 200."""
    cat = require_db(served_dir, "nbgraph")
    (as_csv,) = fetch(served_dir, query_url(cat, "architecture_results", {"arch": "99999999"}, ".csv"))
    assert as_csv.status_code == 400
    assert 'arch must be the key (e.g. 61237)' in as_csv.text and 'got "99999999"' in as_csv.text


@pytest.mark.parametrize("key", KEYS)
def test_post_to_a_canned_query_is_405(served_dir, key):
    cat = require_db(served_dir, key)
    ds = _datasette(served_dir)

    async def post():
        return await ds.client.post(f"/{serving.database_name(cat)}/{cat.queries[0].name}.json", data={"x": "1"})

    response = asyncio.run(post())
    assert response.status_code == 405 and "read-only canned query" in response.json()["error"]


def test_one_expensive_expression_is_bounded(served_dir):
    """SQLite's limits apply on Datasette's connections: no gigabyte from one printf or randomblob."""
    import resource
    import time

    ds = _datasette(served_dir)
    path = "/nasbenchgraph.json?" + urlencode({"sql": "select length(printf('%.*c', 900000000, 'x')) as n"})
    blob = "/nasbenchgraph.json?" + urlencode({"sql": "select length(randomblob(500000000)) as n"})

    async def run():
        return await ds.client.get(path), await ds.client.get(blob)

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    printf, randomblob = asyncio.run(run())
    assert time.perf_counter() - started < 3
    assert printf.status_code == 400 and "not authorized" in printf.json()["error"]
    assert randomblob.status_code == 400 and "too big" in randomblob.json()["error"]
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 100 * 1024  # KiB
