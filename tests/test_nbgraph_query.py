"""NAS-Bench-Graph query API, peewee models and ``query nbgraph`` CLI on the real cora + proteins files."""
from __future__ import annotations

import json
import pickle

import pytest
from click.testing import CliRunner

from conftest import real_data
from generators.nasbenchgraph import convert
from nasbenchmark import database
from nasbenchmark.cli import main
from nasbenchmark.nasbenchgraph import (OPS, PROTEINS_OPS, NbGraphArch, NbGraphDataset, NbGraphResult,
                                        bind, iter_archs, list_datasets, query_nbgraph_computed_stats)

README_ROW = {
    "id": 61237,
    "config": {"key": 61237, "arch_str": "[0,1,1,2] gcn-gin-cheb-fc", "link_index": 6, "link": [0, 1, 1, 2],
               "ops": ["gcn", "gin", "cheb", "fc"]},
    "dataset": "cora", "valid_perf": 0.79, "test_perf": 0.8046666666666668, "latency": 0.003651857376098633,
}


@pytest.fixture(scope="module")
def db_path(tmp_path_factory):
    output = tmp_path_factory.mktemp("nbgraph") / "nasbenchgraph.db"
    convert([real_data("nas-bench-graph", "light", name) for name in ("cora.bench", "proteins.bench")],
            output, progress=False)
    return output


@pytest.fixture
def bound(db_path, nasbenchmark_dir):
    bind(db_path)
    return db_path


def query(arch=None, dataset=None):
    return list(query_nbgraph_computed_stats(arch, dataset))


def test_result_shape_and_values(bound):
    (row,) = query(61237, "cora")
    assert row["parameters"] == pytest.approx(0.765191, abs=1e-12)
    assert {k: v for k, v in row.items() if k != "parameters"} == README_ROW


@pytest.mark.parametrize("arch", [
    61237,
    ([0, 1, 2, 1], ["gcn", "gin", "fc", "cheb"]),
    [[0, 1, 1, 3], ("gcn", "cheb", "gin", "fc")],
    "[0,1,2,1] gcn-gin-fc-cheb",
    "[0, 1, 1, 2] gcn-gin-cheb-fc",
])
def test_every_spelling_finds_the_same_row(bound, arch):
    assert [row["id"] for row in query(arch, "cora")] == [61237]


def test_wildcards(bound):
    everything = query()
    assert len(everything) == 26206 + 2021
    assert [row["dataset"] for row in everything] == ["cora"] * 26206 + ["proteins"] * 2021
    assert [row["id"] for row in everything[:26206]] == sorted(row["id"] for row in everything[:26206])
    assert [row["dataset"] for row in query(61237)] == ["cora"]  # gat/gin/cheb are not in proteins
    proteins_key = 81457  # [0,1,2,3] gcn-sage-arma-fc
    assert [row["dataset"] for row in query(proteins_key)] == ["cora", "proteins"]
    assert len(query(None, "proteins")) == 2021 and len(query(None, "CORA")) == 26206
    assert all(set(row["config"]["ops"]) <= set(PROTEINS_OPS) for row in query(None, "proteins"))


def test_values_equal_file_for_every_proteins_row(bound):
    with open(real_data("nas-bench-graph", "light", "proteins.bench"), "rb") as f:
        original = pickle.load(f)
    got = {row["id"]: (row["valid_perf"], row["test_perf"], row["latency"], row["parameters"])
           for row in query(None, "proteins")}
    assert got == {key: (v["valid_perf"], v["perf"], v["latency"], v["para"]) for key, v in original.items()}


@pytest.mark.parametrize("arch, dataset, message", [
    (None, "mnist", r"unsupported dataset 'mnist'; expected one of \['cora'"),
    (None, 3, "unsupported dataset 3"),
    (99999, None, "not a NAS-Bench-Graph key"),
    (10100, None, "10100 is not a stored key: the release stores that architecture as 10010"),
    (True, None, "arch must be a key"),
    (61237.0, None, "arch must be a key"),
    ({"link": [0, 0, 0, 0]}, None, "arch must be a key"),
    ("gcn-gin-fc-cheb", None, "malformed NAS-Bench-Graph arch string"),
    (([0, 1, 2, 1], ["gcn", "gin", "fc", "lstm"]), None, r"unknown operation 'lstm'; expected one of \['gat'"),
    (([0, 2, 2, 1], ["gcn"] * 4), None, r"link\[1\] must be an int in 0..1"),
    (([0, 1, 2, 3], ["skip"] * 4), None, "four skip operations"),
    (61237, "proteins", r"proteins was benchmarked only with ops \['gcn', 'sage', 'arma', 'fc', 'skip'\]"),
])
def test_bad_arguments(bound, arch, dataset, message):
    with pytest.raises(ValueError, match=message):
        query(arch, dataset)


def test_list_datasets_and_iter_archs(bound):
    assert list_datasets() == [
        {"dataset": "cora", "num_archs": 26206, "num_ops": 9, "ops": OPS, "metric": "accuracy"},
        {"dataset": "proteins", "num_archs": 2021, "num_ops": 5, "ops": PROTEINS_OPS, "metric": "roc_auc (unverified)"}]
    archs = list(iter_archs())
    assert len(archs) == 26206 and archs[0]["arch_str"] == "[0,0,0,0] gat-gat-gat-gat"
    assert [a["key"] for a in archs] == sorted(a["key"] for a in archs)
    proteins = list(iter_archs("proteins"))
    assert len(proteins) == 2021 and proteins[0] == {"key": 1111, "arch_str": "[0,0,0,0] gcn-gcn-gcn-gcn",
                                                    "link_index": 0, "link": [0, 0, 0, 0], "ops": ["gcn"] * 4}
    with pytest.raises(ValueError, match="unsupported dataset"):
        list(iter_archs("imagenet"))


def test_peewee_models(bound):
    result = NbGraphResult.get((NbGraphResult.dataset == "cora") & (NbGraphResult.arch == 61237))
    assert result.test_perf == 0.8046666666666668 and result.arch.arch_str == "[0,1,1,2] gcn-gin-cheb-fc"
    assert result.dataset.num_archs == 26206 and result.arch.link == [0, 1, 1, 2]
    assert [r.dataset_id for r in NbGraphArch.get_by_id(81457).results.order_by(NbGraphResult.dataset)] == [
        "cora", "proteins"]
    assert NbGraphDataset.get_by_id("proteins").ops == PROTEINS_OPS
    best = NbGraphResult.select().where(NbGraphResult.dataset == "proteins").order_by(
        NbGraphResult.test_perf.desc()).first()
    assert (best.key, round(best.test_perf, 6)) == (85414, 0.792634)


def test_database_is_read_only(bound):
    import peewee
    with pytest.raises(peewee.DatabaseError, match="not authorized"):
        NbGraphDataset.update(num_archs=0).execute()


def test_missing_database_names_the_generate_command(nasbenchmark_dir):
    with pytest.raises(database.DatabaseNotFoundError, match="nasbenchmark generate nbgraph"):
        query(61237, "cora")


def test_cli_query(db_path, nasbenchmark_dir):
    runner = CliRunner()
    done = runner.invoke(main, ["query", "nbgraph", "--db", str(db_path), "--arch", "[0,1,2,1] gcn-gin-fc-cheb",
                                "--dataset", "cora"])
    assert done.exit_code == 0, done.output
    (row,) = [json.loads(line) for line in done.output.splitlines()]
    assert {k: v for k, v in row.items() if k != "parameters"} == README_ROW
    pair = json.dumps([[0, 1, 2, 1], ["gcn", "gin", "fc", "cheb"]])
    for arch in ("61237", pair):
        done = runner.invoke(main, ["query", "nbgraph", "--db", str(db_path), "--arch", arch])
        assert [json.loads(line)["dataset"] for line in done.output.splitlines()] == ["cora"], arch
    done = runner.invoke(main, ["query", "nbgraph", "--db", str(db_path), "--dataset", "proteins", "--limit", "3"])
    assert [json.loads(line)["id"] for line in done.output.splitlines()] == [1111, 1114, 1115]
    failed = runner.invoke(main, ["query", "nbgraph", "--db", str(db_path), "--arch", "[0,1,2,1] gcn-gin-fc-gat",
                                  "--dataset", "proteins"])
    assert failed.exit_code == 1 and "proteins was benchmarked only with ops" in failed.output
    failed = runner.invoke(main, ["query", "nbgraph", "--db", str(db_path), "--dataset", "mnist"])
    assert failed.exit_code == 2 and "mnist" in failed.output
