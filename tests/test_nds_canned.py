"""Every NDS canned query equals a brute-force Python computation from the per-run rows, stops bad values with
one message, and reads large tables through indexes; so do the site's views on the browser DB."""
from __future__ import annotations

import json
import math
import sqlite3
import statistics
from collections import defaultdict

import pytest

from conftest import REPO
from generators.fixtures import nds as fixture
from nasbenchmark.descriptor import stop_message
from nasbenchmark.nds.constants import DESIGN_SPACES
from nasbenchmark.nds.descriptor import BENCHMARK
from nasbenchmark.serving.plans import full_reads, large_tables
from site_builder.browserdb import join_chunks, write_browser_db

SCALE = 0.004
SPACE_BY_NAME = {space.name: space for space in DESIGN_SPACES}


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    path = tmp_path_factory.mktemp("nds-canned") / "nds.db"
    fixture.build_sample_db(path, scale=SCALE, seed=2)
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def configs(conn):
    """Per configuration: its labels, specs and runs, straight from ndstrialconfig and ndstrialstats."""
    result = {}
    for row in conn.execute("select id, model_family, model_spec, proposer, generator, dataset, base_lr, weight_decay "
                            "from ndstrialconfig"):
        config_id, family, model_spec, proposer, generator, dataset, base_lr, weight_decay = row
        space = next(s for s in DESIGN_SPACES if (s.proposer, s.generator, s.dataset) == (proposer, generator, dataset))
        model = json.loads(model_spec)
        cell = family == "nas_cell"
        result[config_id] = {"id": config_id, "space": space.name, "family": family, "runs": [],
                             "base_lr": base_lr, "weight_decay": weight_decay,
                             "depth": model["depth"] if cell else sum(model["ds"]),
                             "width": model["width"] if cell else max(model["ws"])}
    for config_id, seed, best, final, parameters, flops in conn.execute(
            "select config_id, seed, best_test_acc, final_test_acc, parameters, flops from ndstrialstats order by id"):
        result[config_id]["runs"].append({"seed": seed, "best_test_acc": best, "final_test_acc": final,
                                          "parameters": parameters, "flops": flops})
    for config in result.values():
        for name in ("best_test_acc", "final_test_acc", "parameters", "flops"):
            config[name] = statistics.fmean(run[name] for run in config["runs"])
    return result


def run(conn, name, **params):
    query = BENCHMARK.query(name)
    cursor = conn.execute(query.sql, {**query.defaults, **params})
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor]


def stop(conn, name, **params) -> str:
    with pytest.raises(sqlite3.OperationalError) as caught:
        run(conn, name, **params)
    return stop_message(str(caught.value))


def in_space(configs, name):
    return [c for c in configs.values() if c["space"] == name]


def close(a, b) -> bool:
    return a is None and b is None or a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("params", [{}, {"metric": "final_test_acc", "points": "7", "spaces": "all"},
                                    {"generator": "tune_lr_wd", "spaces": "darts, resnet"}])
def test_error_edf_is_the_empirical_distribution_of_each_space(conn, configs, params):
    query = {**BENCHMARK.query("error_edf").defaults, **params}
    proposers = None if query["spaces"] == "all" else query["spaces"].replace(" ", "").split(",")
    points, metric = int(query["points"]), query["metric"]
    expected = []
    for space in DESIGN_SPACES:
        if (space.dataset, space.generator) != (query["dataset"], query["generator"]):
            continue
        if proposers is not None and space.proposer not in proposers:
            continue
        errors = sorted(100 - c[metric] for c in in_space(configs, space.name))
        n = len(errors)
        for k, error in enumerate(errors, start=1):
            if k in (1, n) or math.floor(k * points / n) > math.floor((k - 1) * points / n):
                expected.append((space.name, error, k / n, n))
    expected.sort(key=lambda row: (row[0], row[1], row[2]))
    got = run(conn, "error_edf", **params)
    assert len({row["design_space"] for row in got}) > 1
    assert len(got) == len(expected)
    for row, want in zip(got, expected):
        assert (row["design_space"], row["configs"]) == (want[0], want[3])
        assert close(row["error"], want[1]) and close(row["fraction"], want[2])


def test_error_edf_stops_on_names_that_are_not_design_spaces(conn):
    assert stop(conn, "error_edf", spaces="darts,resnet50,foo") == (
        "spaces: resnet50, foo is not a design space of cifar10 / random in this DB; it has amoeba, darts, enas, "
        "nasnet, pnas, resnext-a, resnext-b, resnet-b, resnet, vanilla (or all)")
    assert "spaces: amoeba is not a design space of cifar10 / tune_lr_wd" in stop(
        conn, "error_edf", generator="tune_lr_wd", spaces="amoeba")
    assert stop(conn, "error_edf", dataset="imagenet", generator="fix_w_d", spaces="all") == (
        "this DB has no configurations of imagenet / fix_w_d; the generators of imagenet are random, tune_lr_wd")


@pytest.mark.parametrize("params", [{}, {"family": "residual_bottleneck", "metric": "final_test_acc", "k": "3"},
                                    {"dataset": "imagenet", "k": "100"}])
def test_top_configs_are_the_best_of_each_space(conn, configs, params):
    query = {**BENCHMARK.query("top_configs").defaults, **params}
    metric, k = query["metric"], int(query["k"])
    expected = []
    for space in DESIGN_SPACES:
        members = in_space(configs, space.name)
        if (space.dataset, space.generator) != (query["dataset"], query["generator"]) or not members:
            continue
        if query["family"] != "all" and members[0]["family"] != query["family"]:
            continue
        ranked = sorted(members, key=lambda c: (-c[metric], c["id"]))[:k]
        expected += [(space.name, rank, c["id"]) for rank, c in enumerate(ranked, start=1)]
    got = run(conn, "top_configs", **params)
    assert [(r["design_space"], r["rank"], r["config_id"]) for r in got] == sorted(expected)
    for row in got:
        config = configs[row["config_id"]]
        assert close(row["accuracy"], config[metric]) and close(row["flops"], config["flops"])
        assert row["seeds"] == len(config["runs"]) and row["model_family"] == config["family"]


@pytest.mark.parametrize("params,bounds", [({}, (0, 10)),
                                           ({"spaces": "all", "complexity": "parameters", "metric": "final_test_acc"},
                                            (-4, 4))])
def test_accuracy_vs_complexity_bins_each_space_by_half_decades(conn, configs, params, bounds):
    query = {**BENCHMARK.query("accuracy_vs_complexity").defaults, **params}
    proposers = None if query["spaces"] == "all" else query["spaces"].split(",")
    first, last = bounds
    cells = defaultdict(list)
    for config in configs.values():
        space = SPACE_BY_NAME[config["space"]]
        if (space.dataset, space.generator) != ("cifar10", "random"):
            continue
        if proposers is None or space.proposer in proposers:
            k = min(max(_half_decade(config[query["complexity"]]), first - 1), last)
            cells[(space.name, k)].append(config[query["metric"]])
    got = run(conn, "accuracy_vs_complexity", **params)
    assert [(row["design_space"], row["bin_from"]) for row in got] == [
        (name, pytest.approx(10 ** (k / 2) if k >= first else 0.0)) for name, k in sorted(cells)]
    for row, (key, values) in zip(got, sorted(cells.items())):
        assert row["configs"] == len(values) and close(row["mean_accuracy"], statistics.fmean(values))
        assert close(row["max_accuracy"], max(values)) and row["complexity"] == query["complexity"]
    assert sum(row["configs"] for row in got) == sum(len(v) for v in cells.values()) > 50


@pytest.mark.parametrize("space,factor", [("ResNeXt-B", "depth"), ("DARTS", "width"), ("Vanilla", "width")])
def test_depth_width_effect_groups_the_space(conn, configs, space, factor):
    groups = defaultdict(list)
    for config in in_space(configs, space):
        groups[config[factor]].append(config["best_test_acc"])
    got = run(conn, "depth_width_effect", space=space, factor=factor)
    assert [row["value"] for row in got] == sorted(groups)
    for row in got:
        values = groups[row["value"]]
        assert row["configs"] == len(values) and close(row["mean_accuracy"], statistics.fmean(values))
        assert close(row["min_accuracy"], min(values)) and close(row["max_accuracy"], max(values))


def _half_decade(value: float) -> int:
    """Which half-decade holds ``value``: 10**(k/2) <= value < 10**((k+1)/2), by logarithms (the SQL compares)."""
    k = math.floor(2 * math.log10(value))
    return k + 1 if value >= 10 ** ((k + 1) / 2) else k


def test_lr_wd_sweep_bins_by_half_decades(conn, configs):
    cells = defaultdict(list)
    for config in in_space(configs, "DARTS_lr-wd"):
        lr = min(max(_half_decade(config["base_lr"]), -9), 2)
        wd = min(max(_half_decade(config["weight_decay"]), -13), -2)
        cells[(wd, lr)].append(config["best_test_acc"])
    got = run(conn, "lr_wd_sweep", space="DARTS_lr-wd")
    assert sum(row["configs"] for row in got) == len(in_space(configs, "DARTS_lr-wd")) > 10
    assert len(got) == len(cells) > 3
    for row, (key, values) in zip(got, sorted(cells.items())):
        assert row["base_lr_from"] == pytest.approx(10 ** (key[1] / 2) if key[1] > -9 else 0.0)
        assert row["weight_decay_from"] == pytest.approx(10 ** (key[0] / 2) if key[0] > -13 else 0.0)
        assert row["configs"] == len(values) and close(row["mean_accuracy"], statistics.fmean(values))
        assert close(row["max_accuracy"], max(values))


def test_seed_variance_of_reruns(conn, configs):
    got = run(conn, "seed_variance", space="Vanilla", metric="final_test_acc", min_seeds="3", k="20")
    reruns = [c for c in in_space(configs, "Vanilla") if len(c["runs"]) >= 3]
    expected = sorted(reruns, key=lambda c: (-len(c["runs"]), -c["final_test_acc"], c["id"]))[:20]
    assert [row["config_id"] for row in got] == [c["id"] for c in expected]
    assert got[0]["seeds"] == 1 + fixture.RERUNS_PER_CONFIG + 3 or got[0]["seeds"] == 1 + fixture.RERUNS_PER_CONFIG
    for row, config in zip(got, expected):
        values = [r["final_test_acc"] for r in config["runs"]]
        assert close(row["std"], statistics.stdev(values)) and row["spread"] == pytest.approx(max(values) - min(values))
        assert sorted(row["seed_list"].split()) == sorted(str(r["seed"]) for r in config["runs"])


def test_seed_variance_by_space(conn, configs):
    got = run(conn, "seed_variance_by_space")
    assert [row["design_space"] for row in got] == ["ResNet", "Vanilla"]
    for row in got:
        reruns = [c for c in in_space(configs, row["design_space"]) if len(c["runs"]) > 1]
        stds = [statistics.stdev(r["best_test_acc"] for r in c["runs"]) for c in reruns]
        assert row["rerun_configs"] == len(reruns) and close(row["mean_std"], statistics.fmean(stds))
        assert close(row["max_std"], max(stds)) and row["configs"] == len(in_space(configs, row["design_space"]))


def test_config_results_and_its_stop(conn, configs):
    config = max(configs.values(), key=lambda c: len(c["runs"]))
    got = run(conn, "config_results", config=str(config["id"]))
    assert [row["seed"] for row in got] == [r["seed"] for r in config["runs"]]
    assert {row["design_space"] for row in got} == {config["space"]}
    last = max(configs)
    assert stop(conn, "config_results", config=str(last + 1)) == (
        f"config {last + 1} is not a configuration of this DB: ids are 1..{last}")


def test_bad_choices_stop_with_every_bad_parameter_named(conn):
    assert stop(conn, "top_configs", dataset="cifar100", k="0") == (
        'dataset must be one of cifar10, imagenet; got "cifar100". k must be an integer 1..100; got "0".')
    assert 'space must be one of Amoeba, Amoeba_in' in stop(conn, "depth_width_effect", space="resnet")


def test_every_canned_query_reads_large_tables_through_an_index(conn):
    for query in BENCHMARK.queries:
        assert full_reads(conn, query.sql, query.defaults, large_tables(BENCHMARK)) == [], query.name


# --- the site's views on the browser DB ------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser_db(conn, tmp_path_factory):
    source = conn.execute("pragma database_list").fetchone()[2]
    out = tmp_path_factory.mktemp("nds-browser")
    written = write_browser_db(source, out, "nds", BENCHMARK.site_statements())
    connection = sqlite3.connect(join_chunks(out, written, out / "joined.db"))
    yield connection
    connection.close()


def view_statements() -> list[tuple[str, str, dict]]:
    site = BENCHMARK.site
    browse = site.browse[0]
    statements = [(f"browse by {sort}", browse.sql(sort, True, "space_id = :space"),
                   {"space": 21, "_limit": 101, "_offset": 0}) for sort in browse.sorts]
    scatter = site.scatter
    for x in scatter.x_options:
        for y in scatter.y_options:
            statements.append((f"scatter {x} {y}", scatter.sql.format(x=x, y=y), {"space": 16}))
            statements.append((f"scatter coloured {x} {y}", scatter.colour_sql.format(x=x, y=y), {"space": 16}))
    arch = site.arch
    statements += [("config row", arch.row_sql, {"id": 3}), ("config results", arch.results_sql, {"id": 3}),
                   ("config curves", arch.curves_sql, {"id": 3})]
    return statements


def test_site_views_read_through_indexes_and_browse_is_the_summary(browser_db, configs):
    large = large_tables(BENCHMARK)
    for label, sql, params in view_statements():
        assert full_reads(browser_db, sql, params, large) == [], label
        assert "USE TEMP B-TREE" not in " ".join(d[3] for d in browser_db.execute("explain query plan " + sql, params)), label
    browse = BENCHMARK.site.browse[0]
    page = browser_db.execute(browse.sql("best_test_acc", True, "space_id = :space"),
                              {"space": SPACE_BY_NAME["ResNet"].id, "_limit": 10, "_offset": 0}).fetchall()
    best = sorted(in_space(configs, "ResNet"), key=lambda c: (-c["best_test_acc"], -c["id"]))[:10]
    assert [row[0] for row in page] == [c["id"] for c in best]
    for query in BENCHMARK.queries:
        assert full_reads(browser_db, query.sql, query.defaults, large) == [], query.name


# --- the same plans on SQLite 3.35, the engine inside the site's sql.js ---------------------------------
# Its planner differs from Python's (it materialises no CTE by default, has no Bloom filters): a join order
# that reads an index by key here can scan it there. Needs node and sql.js@1.5.0 (as test_serve_sqlite335).

SQLJS_DIR = REPO / "site_builder" / "node_modules" / "sql.js"
_PLANS = r"""
const fs = require('fs');
const [sqljsDir, jobFile] = process.argv.slice(1);
const job = JSON.parse(fs.readFileSync(jobFile, 'utf8'));
require(sqljsDir + '/dist/sql-wasm.js')({wasmBinary: fs.readFileSync(sqljsDir + '/dist/sql-wasm.wasm')}).then(SQL => {
  const db = new SQL.Database(fs.readFileSync(job.db));
  console.log(JSON.stringify([db.exec('select sqlite_version()')[0].values[0][0], job.statements.map(([sql, params]) => {
    const stmt = db.prepare('explain query plan ' + sql);
    stmt.bind(Object.fromEntries(Object.entries(params).map(([k, v]) => [':' + k, v])));
    const details = [];
    while (stmt.step()) details.push(stmt.get()[3]);
    stmt.free();
    return details;
  })]));
});
"""


def test_sqlite_335_plans_read_large_tables_by_key(browser_db, tmp_path):
    import re
    import shutil
    import subprocess

    if not shutil.which("node") or not (SQLJS_DIR / "dist" / "sql-wasm.wasm").is_file():
        pytest.skip(f"needs node and sql.js@1.5.0 at {SQLJS_DIR}")
    statements = [(label, sql, params) for label, sql, params in view_statements()]
    statements += [(query.name, query.sql, query.defaults) for query in BENCHMARK.queries]
    job = tmp_path / "job.json"
    db_path = browser_db.execute("pragma database_list").fetchone()[2]
    job.write_text(json.dumps({"db": db_path, "statements": [[sql, params] for _, sql, params in statements]}))
    run_node = subprocess.run(["node", "-e", _PLANS, str(SQLJS_DIR), str(job)], capture_output=True, text=True,
                              timeout=300)
    assert run_node.returncode == 0, run_node.stderr[-2000:]
    version, plans = json.loads(run_node.stdout)
    assert version.startswith("3.35.")
    large = large_tables(BENCHMARK)
    for (label, _, _), details in zip(statements, plans):
        for detail in details:
            match = re.match(r"(SCAN|SEARCH) TABLE (\w+)", detail)
            if match and match.group(2) in large:
                assert match.group(1) == "SEARCH" and "AUTOMATIC" not in detail, f"{label}: {detail}"
