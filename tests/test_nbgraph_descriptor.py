"""NAS-Bench-Graph descriptor: documentation covers the real DB, canned queries are right and use indexes."""
from __future__ import annotations

import collections
import pickle
import re
import sqlite3

import pytest

from conftest import real_data
from generators.nasbenchgraph import convert
from nasbenchmark import registry
from nasbenchmark.descriptor import stop_message
from nasbenchmark.nasbenchgraph.descriptor import BENCHMARK
from nasbenchmark.nasbenchgraph.graph_util import decode_key

# Non-default values of the choice parameters, so every UNION ALL branch is exercised.
ALTERNATIVES = {"metric": "valid_perf", "cost": "latency", "dataset": "proteins", "arch": "[0,1,2,3] gcn-sage-arma-fc"}


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    output = tmp_path_factory.mktemp("nbgraph") / "nasbenchgraph.db"
    convert([real_data("nas-bench-graph", "light", name) for name in ("cora.bench", "proteins.bench")],
            output, progress=False)
    connection = sqlite3.connect(output)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def original():
    data = {}
    for name in ("cora", "proteins"):
        with open(real_data("nas-bench-graph", "light", f"{name}.bench"), "rb") as f:
            data[name] = {key: {k: float(v) for k, v in values.items()} for key, values in pickle.load(f).items()}
    return data


def run(conn, name, **params):
    query = BENCHMARK.query(name)
    cursor = conn.execute(query.sql, {**query.defaults, **params})
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor]


def test_descriptor_identity():
    assert registry.benchmark("nbgraph") is BENCHMARK
    assert (BENCHMARK.key, BENCHMARK.db_filename, BENCHMARK.license) == ("nbgraph", "nasbenchgraph.db", "Apache-2.0")
    assert BENCHMARK.license_url == "https://github.com/THUMNLab/NAS-Bench-Graph"
    assert BENCHMARK.generate_command == "nasbenchmark generate nbgraph"


def test_every_table_and_column_is_documented(conn):
    tables = {name for (name,) in conn.execute(
        "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '%_fts%'")}
    assert tables == {table.name for table in BENCHMARK.tables}
    for table in BENCHMARK.tables:
        columns = [row[1] for row in conn.execute(f"pragma table_info({table.name})")]
        assert columns == [column.name for column in table.columns], table.name
        assert all(column.description for column in table.columns), table.name
        assert set(table.facets) <= set(columns) and table.label_column in (None, *columns)
    units = {c.name: c.unit for c in BENCHMARK.table("nbgraphresult").columns}
    assert units == {"dataset": "", "key": "", "valid_perf": "fraction of 1", "test_perf": "fraction of 1",
                     "latency": "seconds", "parameters": "millions"}
    assert "unverified" in BENCHMARK.table("nbgraphresult").columns[3].description


def results_table_access(conn, sql: str, params: dict) -> tuple[list[str], bool]:
    """Plan lines that SCAN the results table (or skip-scan an index over every dataset: ``ANY(dataset)``),
    and whether some line reads it through an index."""
    aliases = {"nbgraphresult"} | set(re.findall(r"nbgraphresult\s+(?:indexed by \w+\s*,?\s*)?(?!where|join|on)(\w+)",
                                                 sql))
    plan = [row[-1] for row in conn.execute("explain query plan " + sql, params)]
    scans = [line for line in plan if line.split()[0] in ("SCAN", "SEARCH") and line.split()[1] in aliases
             and (line.startswith("SCAN ") or "ANY(" in line)]
    indexed = any(re.match(r"SEARCH (\w+) USING .*(INDEX|PRIMARY KEY)", line) and line.split()[1] in aliases
                  for line in plan)
    return scans, indexed


def test_plan_check_detects_a_full_scan(conn):
    assert results_table_access(conn, "select key from nbgraphresult r where r.valid_perf + r.latency > :p",
                                {"p": 0.8}) == (["SCAN r"], False)
    scans, _ = results_table_access(conn, "select key from nbgraphresult r where r.test_perf > :p", {"p": 0.8})
    assert len(scans) == 1 and "ANY(dataset)" in scans[0]


@pytest.mark.parametrize("query", BENCHMARK.queries, ids=lambda q: q.name)
def test_canned_query_params_syntax_and_plan(conn, query):
    assert set(re.findall(r":(\w+)", query.sql)) == set(query.defaults)
    for forbidden in ("->>", "STRICT", "RIGHT JOIN", "FULL JOIN"):
        assert forbidden not in query.sql.upper()
    for params in (query.defaults, {k: ALTERNATIVES.get(k, v) for k, v in query.defaults.items()}):
        assert results_table_access(conn, query.sql, params) == ([], True), query.name
        rows = conn.execute(query.sql, params)
        columns = [d[0] for d in rows.description]
        assert rows.fetchall(), (query.name, params)
        if query.chart:
            assert query.chart["type"] in ("scatter", "line", "bar")
            assert {query.chart["x"], query.chart["y"]} <= set(columns), query.name


@pytest.mark.parametrize("dataset, metric, k", [("cora", "test_perf", 10), ("cora", "valid_perf", 7),
                                                ("proteins", "test_perf", 25)])
def test_top_architectures(conn, original, dataset, metric, k):
    field = {"test_perf": "perf", "valid_perf": "valid_perf"}[metric]
    expected = sorted(original[dataset], key=lambda key: (-original[dataset][key][field], key))[:k]
    rows = run(conn, "top_architectures", dataset=dataset, metric=metric, k=str(k))
    assert [row["key"] for row in rows] == expected
    assert [row["score"] for row in rows] == [original[dataset][key][field] for key in expected]
    assert rows[0]["arch_str"] == str(decode_key(expected[0]))


def test_architecture_results(conn):
    by_key = run(conn, "architecture_results", arch="61237")
    assert by_key == run(conn, "architecture_results", arch="[0,1,1,2] gcn-gin-cheb-fc")
    assert [(row["dataset"], row["test_perf"], row["metric"]) for row in by_key] == [
        ("cora", 0.8046666666666668, "accuracy")]
    assert [row["dataset"] for row in run(conn, "architecture_results", arch="81457")] == ["cora", "proteins"]


@pytest.mark.parametrize("arch", ["[0,1,2,1] gcn-gin-fc-cheb", "abc", "99999999", "10100"])
def test_architecture_results_names_what_it_accepts(conn, arch):
    """Only stored spellings are found; anything else stops with what the DB holds (never zero rows)."""
    with pytest.raises(sqlite3.OperationalError) as error:
        run(conn, "architecture_results", arch=arch)
    assert stop_message(str(error.value)).startswith(
        "arch must be the key (e.g. 61237) or the stored arch string (e.g. [0,1,1,2] gcn-gin-cheb-fc) of one of the "
        "26206 architectures in this DB")


@pytest.mark.parametrize("dataset", ["cora", "proteins"])
@pytest.mark.parametrize("cost, field", [("parameters", "para"), ("latency", "latency")])
def test_pareto_front_equals_brute_force(conn, original, dataset, cost, field):
    values = original[dataset]

    def dominated(key):
        return any(other != key and values[other][field] <= values[key][field]
                   and values[other]["perf"] >= values[key]["perf"]
                   and (values[other][field], -values[other]["perf"]) != (values[key][field], -values[key]["perf"])
                   for other in values)

    cheapest = sorted(values, key=lambda key: values[key][field])
    # Only architectures better than every cheaper one can be on the front: prefilter for speed.
    candidates, best = [], -1.0
    for key in cheapest:
        if values[key]["perf"] > best or values[key]["perf"] == best:
            candidates.append(key)
        best = max(best, values[key]["perf"])
    expected = sorted((key for key in candidates if not dominated(key)), key=lambda key: values[key][field])
    rows = run(conn, "pareto_front", dataset=dataset, cost=cost)
    assert [row["key"] for row in rows] == expected
    assert [row["cost"] for row in rows] == [values[key][field] for key in expected]
    assert len(rows) >= 3


def test_perf_vs_cost(conn, original):
    rows = run(conn, "perf_vs_cost", dataset="proteins", cost="latency")
    assert len(rows) == 2021
    assert {row["key"]: (row["cost"], row["test_perf"]) for row in rows} == {
        key: (v["latency"], v["perf"]) for key, v in original["proteins"].items()}


@pytest.mark.parametrize("dataset, bins", [("cora", 20), ("proteins", 7)])
def test_perf_histogram(conn, original, dataset, bins):
    perfs = [v["perf"] for v in original[dataset].values()]
    lo, hi = min(perfs), max(perfs)
    expected = collections.Counter(min(int((p - lo) * bins / (hi - lo)), bins - 1) for p in perfs)
    rows = run(conn, "perf_histogram", dataset=dataset, bins=str(bins))
    assert [row["bin"] for row in rows] == list(range(bins))  # empty bins included
    assert {row["bin"]: row["architectures"] for row in rows} == {b: expected.get(b, 0) for b in range(bins)}
    assert rows[0]["bin_start"] == lo and rows[-1]["bin_end"] == pytest.approx(hi)
    assert sum(row["architectures"] for row in rows) == len(perfs)


def test_top_k_operations(conn, original):
    top = sorted(original["cora"], key=lambda key: (-original["cora"][key]["perf"], key))[:100]
    occurrences = collections.Counter(op for key in top for op in decode_key(key).ops)
    architectures = collections.Counter(op for key in top for op in set(decode_key(key).ops))
    rows = run(conn, "top_k_operations", dataset="cora", k="100")
    assert {row["op"]: (row["occurrences"], row["architectures"]) for row in rows} == {
        op: (occurrences[op], architectures[op]) for op in occurrences}
    assert sum(row["occurrences"] for row in rows) == 400
    assert [row["occurrences"] for row in rows] == sorted((row["occurrences"] for row in rows), reverse=True)


def test_best_per_dataset(conn):
    rows = run(conn, "best_per_dataset")
    assert [(row["dataset"], row["key"], round(row["test_perf"], 6)) for row in rows] == [
        ("cora", 77016, 0.831333), ("proteins", 85414, 0.792634)]
    assert rows[1]["metric"] == "roc_auc (unverified)"


def test_every_bad_parameter_is_named_in_one_message(conn):
    with pytest.raises(sqlite3.OperationalError) as error:
        run(conn, "top_architectures", dataset="mnist", metric="acc", k="abc")
    assert stop_message(str(error.value)) == (
        'dataset must be one of cora, citeseer, pubmed, cs, physics, photo, computers, arxiv, proteins; got "mnist". '
        'metric must be one of test_perf, valid_perf; got "acc". k must be an integer 1..26206; got "abc".')
    assert BENCHMARK.query("top_architectures").stop_text({"dataset": "mnist", "metric": "acc", "k": "abc"}) == \
        stop_message(str(error.value))
