"""The browser-DB writer: page size, chunks, content hash, reuse, and query plans of every site statement."""
from __future__ import annotations

import json
import re
import sqlite3
from types import SimpleNamespace

import pytest

from nasbenchmark import registry
from nasbenchmark.nasbench201 import bind, query_nb201_computed_stats
from site_builder.browserdb import PAGE_SIZE, SERVER_CHUNK_SIZE, join_chunks, write_browser_db
from site_builder.views import browse_specs
from synthetic_nb201 import build_nb201_db

NUM_ARCHS = 400


@pytest.fixture(scope="module")
def nb201_source(tmp_path_factory):
    return build_nb201_db(tmp_path_factory.mktemp("src") / "nasbench201.db", num_archs=NUM_ARCHS)


def views(bench, source):
    """What the site runs for ``bench`` on ``source``: its browse specs (generic ones when it declares
    none), scatter and architecture page."""
    with sqlite3.connect(source) as conn:
        browse = browse_specs(bench, conn)
    return SimpleNamespace(browse=browse, scatter=bench.site.scatter, arch=bench.site.arch)


@pytest.fixture(scope="module")
def nb201_adapter(nb201_source):
    return views(registry.benchmark("nb201"), nb201_source)


@pytest.fixture(scope="module")
def nb201_written(nb201_source, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    db = write_browser_db(nb201_source, out, "nb201", registry.benchmark("nb201").site_statements())
    joined = join_chunks(out, db, out.parent / f"{out.name}-joined.sqlite3")
    return out, db, joined


@pytest.fixture(scope="module")
def nbgraph_written(tmp_path_factory):
    from generators.nasbenchgraph import convert

    source = tmp_path_factory.mktemp("graph") / "nasbenchgraph.db"
    convert(None, source, progress=False)
    bench = registry.benchmark("nbgraph")
    out = source.parent / "out"
    db = write_browser_db(source, out, "nbgraph", bench.site_statements())
    return views(bench, source), join_chunks(out, db, source.parent / "joined.sqlite3")


def test_chunks_are_at_most_10_mib_and_reassemble_the_db(nb201_written):
    out, db, joined = nb201_written
    sizes = [(out / name).stat().st_size for name in db.chunk_names]
    assert len(sizes) > 1, "the fixture should need several chunks"
    assert max(sizes) <= 10 * 1024 * 1024 == SERVER_CHUNK_SIZE
    assert all(size == SERVER_CHUNK_SIZE for size in sizes[:-1])
    assert sum(sizes) == db.size_bytes == joined.stat().st_size
    config = json.loads((out / db.config_name).read_text())
    assert config["serverMode"] == "chunked"
    assert config["requestChunkSize"] == PAGE_SIZE == 4096
    assert config["databaseLengthBytes"] == db.size_bytes
    assert config["urlPrefix"] + "0" * config["suffixLength"] == db.chunk_names[0]
    assert db.content_hash in db.db_name and config["cacheBust"] == db.content_hash


def test_db_is_compact_readable_and_in_delete_journal_mode(nb201_written):
    _, db, joined = nb201_written
    conn = sqlite3.connect(joined)
    assert conn.execute("pragma page_size").fetchone()[0] == 4096
    assert conn.execute("pragma journal_mode").fetchone()[0] == "delete"
    assert conn.execute("pragma freelist_count").fetchone()[0] == 0
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert conn.execute("select count(*) from sqlite_stat1").fetchone()[0] > 0  # ANALYZE ran
    assert dict(conn.execute("select key, value from metadata"))["synthetic"] == "true"
    assert db.row_counts["summary"] == conn.execute("select count(*) from summary").fetchone()[0] == NUM_ARCHS * 8


def test_summary_is_the_seed_mean_of_the_python_api(nb201_source, nb201_written):
    _, _, joined = nb201_written
    bind(nb201_source)
    conn = sqlite3.connect(joined)
    for run in query_nb201_computed_stats(None, 200, "cifar100", reduction="mean"):
        row = conn.execute("select test_acc, valid_acc, parameters, seeds, dataset from summary "
                           "where arch_index = ? and num_epochs = 200 and dataset_id = 2",
                           (run["config"]["arch_index"],)).fetchone()
        assert row[:3] == pytest.approx((run["test_acc"], run["valid_acc"], run["parameters"]))
        assert row[4] == "cifar100"


def test_unchanged_inputs_reuse_the_written_db_and_new_inputs_replace_it(nb201_source, tmp_path):
    first = write_browser_db(nb201_source, tmp_path, "nb201", ["create table extra (x)"])
    again = write_browser_db(nb201_source, tmp_path, "nb201", ["create table extra (x)"])
    assert again.reused and again.db_name == first.db_name
    changed = write_browser_db(nb201_source, tmp_path, "nb201", ["create table extra (y)"])
    assert not changed.reused and changed.db_name != first.db_name
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {changed.config_name, *changed.chunk_names}


def _plan(conn, sql, params) -> list[str]:
    return [row[3] for row in conn.execute("explain query plan " + sql, params)]


def _site_statements(adapter, sample_values: dict) -> list[tuple[str, str, dict]]:
    """Every statement the adapter's views run, with representative parameters."""
    statements = []
    for spec in adapter.browse:
        required = {f.name: f.choices[0][1] for f in spec.filters if getattr(f, "required", False)}
        conditions = [f.sql for f in spec.filters if getattr(f, "required", False)]
        optional = [f for f in spec.filters if hasattr(f, "choices") and not f.required]
        ranges = [f for f in spec.filters if not hasattr(f, "choices")]
        params = {**required, **{f.name: f.choices[1][1] for f in optional},
                  **{f"{r.column}__gte": 0.5 for r in ranges}, "_limit": 51, "_offset": 100}
        all_conditions = conditions + [f.sql for f in optional] + [f"{r.column} >= :{r.column}__gte" for r in ranges]
        for sort in spec.sorts:
            for desc in (False, True):
                statements.append((f"browse {spec.table} by {sort}", spec.sql(sort, desc, " and ".join(conditions)),
                                   {**required, "_limit": 51, "_offset": 0}))
                statements.append((f"browse {spec.table} by {sort} filtered",
                                   spec.sql(sort, desc, " and ".join(all_conditions)), params))
    scatter = adapter.scatter
    bind_scatter = {f.name: f.choices[0][1] for f in scatter.filters}
    for x in scatter.x_options:
        for y in scatter.y_options:
            for template in filter(None, (scatter.sql, scatter.colour_sql)):
                statements.append((f"scatter {x} {y}", template.format(x=x, y=y), bind_scatter))
    arch = adapter.arch
    statements.append(("arch row", arch.row_sql, {"id": sample_values["id"]}))
    statements.append(("arch results", arch.results_sql, {"id": sample_values["id"]}))
    if arch.curves_sql:
        statements.append(("arch curves", arch.curves_sql,
                           {"id": sample_values["id"], **{f.name: f.choices[0][1] for f in arch.curve_filters}}))
    return statements


def _check_plans(conn, statements):
    for name, sql, params in statements:
        plan = _plan(conn, sql, params)
        assert not [line for line in plan if re.match(r"SCAN \w+( |$)", line)], (name, sql, plan)
        if name.startswith("browse"):  # pages come in index order, never from sorting a whole slice
            assert not [line for line in plan if "TEMP B-TREE FOR ORDER BY" in line], (name, sql, plan)
        assert any(line.startswith("SEARCH") for line in plan), (name, plan)


def test_nb201_site_statements_search_indexes(nb201_adapter, nb201_written):
    _, _, joined = nb201_written
    statements = _site_statements(nb201_adapter, {"id": 7})
    assert len(statements) > 30
    _check_plans(sqlite3.connect(joined), statements)


def test_nbgraph_site_statements_search_indexes(nbgraph_written):
    adapter, joined = nbgraph_written
    _check_plans(sqlite3.connect(joined), _site_statements(adapter, {"id": 61237}))


def _bytes_read(path, sql, params) -> int:
    """Bytes SQLite reads from the file for one query on a cold connection (``rchar`` of /proc/self/io)."""
    def rchar():
        with open("/proc/self/io") as f:
            return int(re.search(r"rchar: (\d+)", f.read()).group(1))

    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    conn.execute("pragma cache_size = -1000000")
    conn.execute("select 1 from sqlite_master limit 1").fetchall()  # schema, read by every query
    before = rchar()
    conn.execute(sql, params).fetchall()
    read = rchar() - before
    conn.close()
    return read


@pytest.mark.parametrize("key", ["nb201", "nbgraph"])
def test_every_canned_query_runs_on_the_browser_db_without_scanning_it(key, nb201_written, nbgraph_written):
    joined = nb201_written[2] if key == "nb201" else nbgraph_written[1]
    catalog = registry.benchmark(key)
    size = joined.stat().st_size
    conn = sqlite3.connect(joined)
    for query in catalog.queries:
        conn.execute(query.sql, query.defaults).fetchall()  # runs unchanged (the sample lacks some defaults' rows)
        read = _bytes_read(joined, query.sql, query.defaults)
        assert read < size / 4, f"{key} canned query {query.name} reads {read:,} of {size:,} bytes"


def test_a_benchmark_without_views_gets_a_generic_browser(nbgraph_written):
    import dataclasses

    from nasbenchmark.descriptor import SiteViews

    _, joined = nbgraph_written
    bench = dataclasses.replace(registry.benchmark("nbgraph"), key="no_views", site=SiteViews())
    adapter = views(bench, joined)
    with sqlite3.connect(joined) as conn:
        specs = {spec.table: spec for spec in adapter.browse}
        assert adapter.scatter is None and adapter.arch is None
        assert set(specs["nbgrapharch"].sorts) == {"key", "arch_str"}  # integer key and the unique index
        facets = {f.name: [label for label, _ in f.choices] for f in specs["nbgrapharch"].filters}
        assert facets["link_index"] == [str(i) for i in range(9)]
        for spec in specs.values():
            for sort in spec.sorts:
                plan = _plan(conn, spec.sql(sort, True), {"_limit": 10, "_offset": 0})
                assert "TEMP B-TREE FOR ORDER BY" not in " ".join(plan), (spec.table, sort, plan)


def test_the_converter_output_gets_the_same_site_tables(tmp_path):
    """The real NB201 converter's DB (its synthetic sample) takes the adapter's derived SQL as well."""
    from generators.fixtures.nb201 import build_sample_db

    source = tmp_path / "nasbench201.db"
    build_sample_db(source, num_archs=30)
    adapter = views(registry.benchmark("nb201"), source)
    db = write_browser_db(source, tmp_path / "out", "nb201", registry.benchmark("nb201").site_statements())
    assert db.row_counts["summary"] == 30 * 8
    joined = join_chunks(tmp_path / "out", db, tmp_path / "joined.sqlite3")
    bind(source)
    expected = {r["config"]["arch_index"]: r["test_acc"]
                for r in query_nb201_computed_stats(None, 12, "cifar10-valid", reduction="mean")}
    conn = sqlite3.connect(joined)
    got = dict(conn.execute("select arch_index, test_acc from summary where num_epochs = 12 and dataset_id = 0"))
    assert got == pytest.approx(expected)
    _check_plans(conn, _site_statements(adapter, {"id": 3}))
