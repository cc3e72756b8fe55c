"""Each NAS-Bench-101 canned query against the same answer computed in Python from the runs of a fixture DB,
through indexes only; its parameter checks; and what a DB without some budgets says."""
from __future__ import annotations

import json
import sqlite3
from collections import defaultdict

import pytest

from conftest import reference_average_ranks
from generators.fixtures import nb101 as fixture
from generators.nasbench101 import convert
from generators.nasbench101.whole_space import average_ranks, pareto_front
from nasbenchmark.descriptor import stop_message
from nasbenchmark.nasbench101.descriptor import ACCURACIES, BENCHMARK
from nasbenchmark.serving.plans import full_reads, large_tables

MODELS = 150


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    folder = tmp_path_factory.mktemp("canned")
    path = fixture.write_fixture(folder / "nasbench_full-fixture.tfrecord", "full", MODELS, include=fixture.KNOWN_MODELS)
    convert(path, folder / "nasbench101.db", progress=False, synthetic=True)
    connection = sqlite3.connect(folder / "nasbench101.db")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def runs(conn):
    """Every run: (arch_id, num_epochs) -> list of {metric: value}, from the per-run table."""
    grouped = defaultdict(list)
    for arch_id, epochs, *values in conn.execute(
            "select c.arch_id, c.num_epochs, s.train_acc, s.valid_acc, s.test_acc, s.training_time, s.parameters "
            "from nb101trialstats s join nb101trialconfig c on c.id = s.config_id"):
        grouped[arch_id, epochs].append(dict(zip(("train_acc", "valid_acc", "test_acc", "training_time",
                                                  "parameters"), values)))
    return grouped


def _mean(runs, key, metric):
    return sum(run[metric] for run in runs[key]) / len(runs[key])


def _query(conn, name, **params):
    query = BENCHMARK.query(name)
    cursor = conn.execute(query.sql, {**query.defaults, **params})
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def _ranked(runs, epochs, metric):
    means = {arch: _mean(runs, (arch, e), metric) for (arch, e) in runs if e == epochs}
    return sorted(means.items(), key=lambda item: (-item[1], item[0]))


def test_every_query_reads_large_tables_through_an_index(conn):
    for query in BENCHMARK.queries:
        assert full_reads(conn, query.sql, query.defaults, large_tables(BENCHMARK)) == [], query.name


@pytest.mark.parametrize("epochs, metric, k", [("108", "test_acc", "10"), ("4", "valid_acc", "25"),
                                               ("36", "train_acc", "1")])
def test_top_architectures(conn, runs, epochs, metric, k):
    rows = _query(conn, "top_architectures", epochs=epochs, metric=metric, k=k)
    expected = _ranked(runs, int(epochs), metric)[:int(k)]
    assert [row["arch_id"] for row in rows] == [arch for arch, _ in expected]
    assert [row["rank"] for row in rows] == list(range(1, int(k) + 1))
    for row, (arch, mean) in zip(rows, expected):
        values = [run[metric] for run in runs[arch, int(epochs)]]
        assert (row["mean_acc"], row["min_acc"], row["max_acc"], row["runs"]) == (
            pytest.approx(mean, rel=1e-12), min(values), max(values), 3)
        counts = conn.execute("select hash, conv3x3, conv1x1, maxpool3x3 from nb101arch where arch_id = ?",
                              (arch,)).fetchone()
        assert (row["hash"], row["conv3x3"], row["conv1x1"], row["maxpool3x3"]) == counts


def test_architecture_results_by_hash_id_or_stored_dict(conn, runs):
    arch_id, stored = conn.execute("select arch_id, arch from nb101arch where hash = ?", (
        "28cfc7874f6d200472e1a9dcd8650aa0",)).fetchone()
    by_default = _query(conn, "architecture_results")
    assert [row["num_epochs"] for row in by_default] == [4, 12, 36, 108]
    for row in by_default:
        key = (arch_id, row["num_epochs"])
        assert row["arch_id"] == arch_id and row["runs"] == 3
        assert row["test_acc"] == pytest.approx(_mean(runs, key, "test_acc"), rel=1e-12)
        assert row["min_test_acc"] == min(run["test_acc"] for run in runs[key])
        halfway = conn.execute(
            "select avg(i.test_acc), avg(i.training_time) from nb101trialconfig c join nb101trialstats s on "
            "s.config_id = c.id join nb101intermediatestats i on i.trial_id = s.id and i.current_epoch = c.num_epochs / 2 "
            "where c.arch_id = ? and c.num_epochs = ?", key).fetchone()
        assert (row["halfway_test_acc"], row["halfway_training_time"]) == pytest.approx(halfway, rel=1e-12)
    spelling = json.dumps(dict(reversed(list(json.loads(stored).items()))))  # any key order
    for arch in (str(arch_id), "28CFC7874F6D200472E1A9DCD8650AA0", spelling):
        assert _query(conn, "architecture_results", arch=arch) == by_default, arch


@pytest.mark.parametrize("arch", ["0" * 32, "999999", "junk", '{"op1": "conv3x3-bn-relu", "input1": [0]}',
                                  '{"input1": [0], "input2": [1], "op1": "conv5x5"}'])
def test_an_architecture_the_db_lacks_or_a_bad_spelling_stops(conn, arch):
    with pytest.raises(sqlite3.OperationalError) as caught:
        _query(conn, "architecture_results", arch=arch)
    message = stop_message(str(caught.value))
    assert message.startswith(f"arch must name one model of this DB (it holds {MODELS} of the 423,624)")
    assert message.endswith(f'Got "{arch}"')


@pytest.mark.parametrize("cost", ["parameters", "training_time"])
@pytest.mark.parametrize("metric", ACCURACIES)
def test_pareto_front(conn, runs, cost, metric):
    points = [(arch, _mean(runs, (arch, 108), cost), _mean(runs, (arch, 108), metric))
              for (arch, epochs) in runs if epochs == 108]
    front = sorted((arch, x, y) for arch, x, y in points
                   if not any((x2 <= x and y2 > y) or (x2 < x and y2 >= y) for _, x2, y2 in points))
    rows = _query(conn, "pareto_front", cost=cost, metric=metric)
    assert sorted(row["arch_id"] for row in rows) == [arch for arch, _, _ in front]
    assert [row["cost"] for row in rows] == sorted(row["cost"] for row in rows)


@pytest.mark.parametrize("bins", ["1", "7", "20"])
def test_accuracy_histogram(conn, runs, bins):
    values = [mean for _, mean in _ranked(runs, 12, "valid_acc")]
    low, high, count = min(values), max(values), int(bins)
    expected = [0] * count
    for value in values:
        expected[min(int((value - low) * count / (high - low)), count - 1)] += 1
    rows = _query(conn, "accuracy_histogram", epochs="12", metric="valid_acc", bins=bins)
    assert [row["archs"] for row in rows] == expected and sum(expected) == MODELS
    assert rows[0]["bin_start"] == pytest.approx(low) and rows[-1]["bin_end"] == pytest.approx(high)


@pytest.mark.parametrize("k", ["1", "40", str(MODELS)])
def test_top_k_operations(conn, runs, k):
    top = [arch for arch, _ in _ranked(runs, 108, "test_acc")[:int(k)]]
    counts = {arch: conn.execute("select conv3x3, conv1x1, maxpool3x3, num_vertices - 2 from nb101arch where "
                                 "arch_id = ?", (arch,)).fetchone() for arch in top}
    rows = {row["op"]: row for row in _query(conn, "top_k_operations", k=k)}
    inner = sum(c[3] for c in counts.values())
    for position, op in enumerate(("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")):
        total = sum(c[position] for c in counts.values())
        assert rows[op]["total"] == total and rows[op]["archs"] == int(k)
        assert rows[op]["archs_using_it"] == sum(c[position] > 0 for c in counts.values())
        assert rows[op]["share_percent"] == round(100 * total / max(1, inner), 2)



@pytest.mark.parametrize("short, long", [("12", "108"), ("4", "36"), ("36", "36")])
def test_rank_correlation(conn, runs, short, long):
    archs = sorted(arch for (arch, epochs) in runs if epochs == int(long))
    short_ranks = reference_average_ranks([_mean(runs, (arch, int(short)), "test_acc") for arch in archs])
    long_ranks = reference_average_ranks([_mean(runs, (arch, int(long)), "test_acc") for arch in archs])
    n = len(archs)
    mean = (n + 1) / 2
    covariance = sum((a - mean) * (b - mean) for a, b in zip(short_ranks, long_ranks))
    rho = covariance / (sum((a - mean) ** 2 for a in short_ranks) * sum((b - mean) ** 2 for b in long_ranks)) ** 0.5
    [row] = _query(conn, "rank_correlation", short=short, long=long)
    assert row["archs"] == MODELS and row["spearman_rho"] == pytest.approx(rho, abs=1e-9)


def test_fronts_and_ranks_break_ties_as_the_queries_did():
    """Of points with equal cost and accuracy the lowest arch_id is on the front; tied values share their rank."""
    costs, accuracies, arch_ids = [1.0, 1.0, 1.0, 2.0, 3.0, 0.5], [50.0, 50.0, 40.0, 50.0, 60.0, 10.0], [9, 3, 1, 2, 5, 7]
    front = pareto_front(costs, accuracies, arch_ids, sorted(range(6), key=costs.__getitem__))
    assert [arch_ids[position] for position in front] == [7, 3, 5]
    assert average_ranks([3.0, 1.0, 3.0, 2.0]) == [3.5, 1.0, 3.5, 2.0] \
        == reference_average_ranks([3.0, 1.0, 3.0, 2.0])


def test_bad_parameters_stop_with_one_message(conn):
    query = BENCHMARK.query("top_architectures")
    bad = {"epochs": "100", "metric": "loss", "k": "0"}
    with pytest.raises(sqlite3.OperationalError) as caught:
        conn.execute(query.sql, bad).fetchall()
    assert stop_message(str(caught.value)) == query.stop_text(bad) == (
        'epochs must be one of 4, 12, 36, 108; got "100". metric must be one of test_acc, valid_acc, train_acc; got '
        '"loss". k must be an integer 1..1000; got "0".')


def test_a_db_without_short_budgets_says_so(tmp_path):
    path = fixture.write_fixture(tmp_path / "nasbench_only108-fixture.tfrecord", "only108", 5)
    convert(path, tmp_path / "nasbench101.db", progress=False, synthetic=True)
    with sqlite3.connect(tmp_path / "nasbench101.db") as conn:
        assert len(_query(conn, "top_architectures", epochs="", k="3")) == 3  # blank: the default, 108
        query = BENCHMARK.query("rank_correlation")
        with pytest.raises(sqlite3.OperationalError) as caught:
            conn.execute(query.sql, query.defaults).fetchall()
        assert stop_message(str(caught.value)) == 'short = "12": this DB does not hold it (a partial source; its ' \
                                                  'metadata table lists what is absent).'
