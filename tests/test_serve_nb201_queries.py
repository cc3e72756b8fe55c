"""NAS-Bench-201's canned queries through Datasette: results checked against plain Python on the same DB."""
from __future__ import annotations

import json
import random
import sqlite3
import statistics

import pytest

from conftest import reference_average_ranks
from nasbenchmark.nasbench201.descriptor import BENCHMARK as CATALOG
from nasbenchmark.nasbench201.graph_util import arch_str_to_dict
from served_dbs import require_db
from test_serve_queries import fetch, query_url, rows_of


@pytest.fixture(scope="module")
def nb201(served_dir):
    """(served dir, read-only connection to the NB201 sample)."""
    require_db(served_dir, "nb201")
    conn = sqlite3.connect(f"file:{served_dir / CATALOG.db_filename}?mode=ro", uri=True)
    return served_dir, conn


def run(directory, name: str, fmt: str = ".json", **params: str):
    """Rows (list of dicts) of one canned query, or the error response when it fails."""
    query = CATALOG.query(name)
    (response,) = fetch(directory, query_url(CATALOG, name, {**query.defaults, **params}, fmt, _shape="objects"))
    return response


def means(conn, dataset: str, epochs: int, metric: str = "test_acc") -> dict[int, float]:
    """{arch_index: mean over seeds}, computed in Python from the raw rows."""
    per_arch: dict[int, list[float]] = {}
    for arch_index, value in conn.execute(
            f"select c.arch_index, s.{metric} from nb201trialstats s join nb201trialconfig c on c.id = s.config_id "
            "where c.dataset = ? and c.num_epochs = ?", (dataset, epochs)):
        per_arch.setdefault(arch_index, []).append(value)
    return {a: statistics.fmean(v) for a, v in per_arch.items() if None not in v}


def test_top_architectures_are_the_k_best_in_order(nb201):
    directory, conn = nb201
    rows = rows_of(run(directory, "top_architectures", dataset="cifar100", epochs="12", k="7"))["rows"]
    expected = sorted(means(conn, "cifar100", 12).items(), key=lambda item: (-item[1], item[0]))[:7]
    assert [r["rank"] for r in rows] == list(range(1, 8))
    assert [(r["arch_index"], pytest.approx(r["mean_acc"])) for r in rows] == \
        [(a, pytest.approx(m)) for a, m in expected]
    assert all(r["min_acc"] <= r["mean_acc"] <= r["max_acc"] for r in rows)


def test_top_architectures_edges(nb201):
    directory, conn = nb201
    everything = rows_of(run(directory, "top_architectures", k="1000"))["rows"]
    assert len(everything) == len(means(conn, "cifar10", 200))  # fewer archs than k: all of them
    assert len(rows_of(run(directory, "top_architectures", k="1"))["rows"]) == 1
    # cifar10 has no validation split: nothing to rank, no error.
    assert rows_of(run(directory, "top_architectures", dataset="cifar10", metric="valid_acc"))["rows"] == []


@pytest.mark.parametrize("name, params, message", [
    ("top_architectures", {"k": "0"}, "k must be an integer 1..1000"),
    ("top_architectures", {"k": "ten"}, "k must be an integer 1..1000"),
    ("top_architectures", {"metric": "test_acc; drop table metadata"}, "metric must be one of"),
    ("pareto_front", {"cost": "weight"}, "cost must be one of parameters, flops, latency"),
    ("accuracy_histogram", {"bins": "101"}, "bins must be an integer 1..100"),
    ("learning_curve", {"dataset": "CIFAR-10"}, "dataset must be one of"),
    ("architecture_results", {"epochs": "100"}, "epochs must be one of 12, 200"),
    ("architecture_results", {"arch": "15625"}, "arch must be an index 0..15624"),
    ("architecture_results", {"arch": "|nor_conv_3x3~0|+|"}, "arch must be an index"),
    ("architecture_results", {"arch": '{"0_1": "conv_3x3"}'}, "arch must be an index"),
])
def test_bad_values_are_reported_by_name(nb201, name, params, message):
    directory, _ = nb201
    as_json = run(directory, name, **params)
    assert as_json.status_code == 400 and as_json.json()["ok"] is False
    assert message in as_json.json()["error"]
    page = run(directory, name, fmt="", **params)
    assert page.status_code == 400 and message in page.text.replace("&#34;", '"')


def test_arch_can_be_given_as_index_string_or_dict(nb201):
    directory, conn = nb201
    index, arch_str = conn.execute("select arch_index, arch_str from nb201arch where arch_index = "
                                   "(select max(arch_index) from nb201trialconfig)").fetchone()
    arch = arch_str_to_dict(arch_str)
    shuffled = json.dumps(dict(random.Random(0).sample(sorted(arch.items()), k=6)), indent=1)
    results = [rows_of(run(directory, "architecture_results", arch=a))["rows"]
               for a in (str(index), arch_str, shuffled, f"  {index} ")]
    assert results[0] and all(r == results[0] for r in results)
    assert sorted(r["dataset"] for r in results[0]) == ["cifar10", "cifar10-valid", "cifar100", "imagenet16-120"]
    assert all(r["arch_index"] == index for r in results[0])
    expected = means(conn, "cifar100", 200)[index]
    assert [r["test_acc"] for r in results[0] if r["dataset"] == "cifar100"] == [pytest.approx(expected)]


def test_learning_curve_is_the_per_epoch_mean_over_seeds(nb201):
    directory, conn = nb201
    per_epoch = {}
    for epoch, acc in conn.execute(
            "select i.current_epoch, i.test_acc from nb201intermediatestats i join nb201trialstats s on s.id = i.trial_id "
            "join nb201trialconfig c on c.id = s.config_id "
            "where c.arch_index = 0 and c.dataset = 'cifar100' and c.num_epochs = 12"):
        per_epoch.setdefault(epoch, []).append(acc)
    rows = rows_of(run(directory, "learning_curve", arch="0", dataset="cifar100", epochs="12"))["rows"]
    assert [r["current_epoch"] for r in rows] == sorted(per_epoch)  # one row per recorded epoch
    for row in rows:
        values = [v for v in per_epoch[row["current_epoch"]] if v is not None]
        assert row["seeds"] == len(per_epoch[row["current_epoch"]])
        assert row["test_acc"] == (pytest.approx(statistics.fmean(values)) if values else None)
        assert (row["min_test_acc"], row["max_test_acc"]) == ((min(values), max(values)) if values else (None, None))


def test_an_architecture_without_results_says_what_the_db_holds(nb201):
    directory, conn = nb201
    held = int(dict(conn.execute("select key, value from metadata"))["evaluated_archs"])
    missing = 15000
    assert not conn.execute("select 1 from nb201trialconfig where arch_index = ?", (missing,)).fetchone()
    (response,) = fetch(directory, query_url(CATALOG, "learning_curve", {"arch": str(missing)}))
    assert response.status_code == 400
    assert response.json()["error"] == (f"architecture {missing} has no results in this DB: it holds {held} of the "
                                         "15,625 architectures")


@pytest.mark.parametrize("cost", ["parameters", "flops"])
def test_pareto_front_is_exactly_the_undominated_architectures(nb201, cost):
    directory, conn = nb201
    rows = rows_of(run(directory, "pareto_front", dataset="imagenet16-120", cost=cost))["rows"]
    accuracy = means(conn, "imagenet16-120", 200)
    costs = means(conn, "imagenet16-120", 200, cost)
    points = {a: (costs[a], accuracy[a]) for a in accuracy}
    undominated = {a for a, (c, acc) in points.items()
                   if not any((c2 < c and acc2 >= acc) or (c2 <= c and acc2 > acc) for c2, acc2 in points.values())}
    assert {r["arch_index"] for r in rows} <= undominated
    # Of points equal in both values the front keeps one; every undominated value pair is on it.
    assert {(round(r["cost"], 9), round(r["mean_acc"], 9)) for r in rows} == \
        {(round(points[a][0], 9), round(points[a][1], 9)) for a in undominated}
    assert [r["cost"] for r in rows] == sorted(r["cost"] for r in rows)
    assert all(b["mean_acc"] > a["mean_acc"] for a, b in zip(rows, rows[1:]))


@pytest.mark.parametrize("bins", ["1", "7", "100"])
def test_histogram_counts_every_architecture_once(nb201, bins):
    directory, conn = nb201
    rows = rows_of(run(directory, "accuracy_histogram", dataset="cifar10-valid", metric="valid_acc",
                       bins=bins))["rows"]
    values = means(conn, "cifar10-valid", 200, "valid_acc").values()
    assert [r["bin"] for r in rows] == list(range(int(bins)))
    assert sum(r["archs"] for r in rows) == len(values)
    assert rows[0]["bin_start"] == pytest.approx(min(values)) and rows[-1]["bin_end"] == pytest.approx(max(values))


def test_operation_counts_cover_the_top_k_cells(nb201):
    directory, conn = nb201
    rows = rows_of(run(directory, "top_k_operations", k="20"))["rows"]
    top = sorted(means(conn, "cifar10", 200).items(), key=lambda item: (-item[1], item[0]))[:20]
    ops = [arch_str_to_dict(conn.execute("select arch_str from nb201arch where arch_index = ?", (a,)).fetchone()[0])
           for a, _ in top]
    expected = {op: sum(list(arch.values()).count(op) for arch in ops) for op in
                ("none", "skip_connect", "conv_1x1", "conv_3x3", "avg_pool_3x3")}
    assert {r["op"]: r["total"] for r in rows} == expected
    assert all(r["total"] == sum(r[f"edge_{e}"] for e in ("0_1", "0_2", "1_2", "0_3", "1_3", "2_3")) for r in rows)
    assert sum(r["share_percent"] for r in rows) == pytest.approx(100, abs=0.05)



@pytest.mark.parametrize("dataset, metric", [("cifar10-valid", "valid_acc"), ("cifar100", "test_acc")])
def test_rank_correlation_is_spearman(nb201, dataset, metric):
    directory, conn = nb201
    (row,) = rows_of(run(directory, "rank_correlation_12_vs_200", dataset=dataset, metric=metric))["rows"]
    short, long = means(conn, dataset, 12, metric), means(conn, dataset, 200, metric)
    archs = sorted(set(short) & set(long))
    expected = statistics.correlation(reference_average_ranks([short[a] for a in archs]),
                                      reference_average_ranks([long[a] for a in archs]))
    assert row["archs"] == len(archs) and row["spearman_rho"] == pytest.approx(expected, abs=1e-9)


def test_rank_correlation_without_values_is_null(nb201):
    directory, _ = nb201
    (row,) = rows_of(run(directory, "rank_correlation_12_vs_200", dataset="cifar10", metric="valid_acc"))["rows"]
    assert row["archs"] == 0 and row["spearman_rho"] is None
