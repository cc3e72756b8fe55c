"""The converter on real NATS-Bench files (3 archs + meta of NATS-tss-v1_0-3ffb9-simple)."""
from __future__ import annotations

import sqlite3

import pytest

from conftest import real_data
from generators.common import InputError
from generators.nasbench201 import convert
from generators.nasbench201.archs import official_arch_strings


@pytest.fixture(scope="module")
def real_db(tmp_path_factory):
    folder = real_data("nats-bench", "NATS-tss-v1_0-3ffb9-simple")
    output = tmp_path_factory.mktemp("real-nats") / "nasbench201.db"
    summary = convert(folder, output, progress=False)
    assert (summary.archs, summary.configs) == (15625, 3 * 8)
    return output


def _run(conn, arch_index, epochs, dataset, seed):
    conn.row_factory = sqlite3.Row
    return conn.execute("select s.* from nb201trialstats s join nb201trialconfig c on s.config_id = c.id "
                        "where c.arch_index = ? and c.num_epochs = ? and c.dataset = ? and s.seed = ?",
                        (arch_index, epochs, dataset, seed)).fetchone()


def test_exact_values_arch0_cifar100_seed999(real_db):
    with sqlite3.connect(real_db) as conn:
        run = _run(conn, 0, 200, "cifar100", 999)
    assert run["train_acc"] == 57.82
    assert run["test_acc"] == 53.07999995117188      # x-test@199
    assert run["valid_acc"] == 53.13999993896484     # x-valid@199
    assert run["ori_test_acc"] == 53.11
    assert run["parameters"] == 0.135156 and run["flops"] == 15.65322
    assert run["latency"] == 0.013182918230692545
    assert run["training_time"] == pytest.approx(200 * 14.442185997962952)
    assert run["valid_evaluation_time"] == 0.5097958473932176


def test_sparse_coverage_of_real_200_epoch_runs(real_db):
    with sqlite3.connect(real_db) as conn:
        run_id = _run(conn, 0, 200, "cifar100", 999)["id"]
        rows = conn.execute("select current_epoch, valid_acc, test_acc, ori_test_acc, train_acc "
                            "from nb201intermediatestats where trial_id = ? order by current_epoch", (run_id,)).fetchall()
        assert len(rows) == 200 and all(r["train_acc"] is not None and r["ori_test_acc"] is not None for r in rows)
        assert [r["current_epoch"] for r in rows if r["valid_acc"] is not None] == [200]
        assert [r["current_epoch"] for r in rows if r["test_acc"] is not None] == [200]
        assert rows[-1]["test_acc"] == 53.07999995117188
        # cifar10 has no validation split; cifar10-valid's test (ori-test) exists only at epoch 200.
        cifar10 = conn.execute("select count(*), count(valid_acc) from nb201trialstats s join nb201trialconfig c "
                               "on s.config_id = c.id where c.dataset = 'cifar10'").fetchone()
        assert cifar10[0] > 0 and cifar10[1] == 0
        c10v = _run(conn, 11, 200, "cifar10-valid", 777)["id"]
        tests = conn.execute("select current_epoch from nb201intermediatestats where trial_id = ? and test_acc "
                             "is not null", (c10v,)).fetchall()
        assert [t[0] for t in tests] == [200]


def test_real_seeds_and_counts(real_db):
    with sqlite3.connect(real_db) as conn:
        seeds = conn.execute("select c.num_epochs, c.dataset, group_concat(s.seed) from nb201trialstats s join "
                             "nb201trialconfig c on s.config_id = c.id where c.arch_index = 284 group by c.id "
                             "order by c.id").fetchall()
        assert seeds[0] == (12, "cifar10-valid", "111,777")
        assert [s[2] for s in seeds if s[0] == 200] == ["777,888,999"] * 4
        assert conn.execute("select count(*) from nb201intermediatestats").fetchone()[0] == 3 * (5 * 12 + 12 * 200)


def test_arch_list_is_the_official_order(real_db):
    with sqlite3.connect(real_db) as conn:
        stored = [r[0] for r in conn.execute("select arch_str from nb201arch order by arch_index")]
        assert stored == list(official_arch_strings())
        assert conn.execute("select arch from nb201arch where arch_index = 0").fetchone()[0] == (
            '{"0_1":"avg_pool_3x3","0_2":"conv_1x1","0_3":"conv_1x1",'
            '"1_2":"skip_connect","1_3":"skip_connect","2_3":"skip_connect"}')


def test_real_values_in_12_epoch_runs(real_db):
    with sqlite3.connect(real_db) as conn:
        run = _run(conn, 0, 12, "cifar10-valid", 111)
        assert run["parameters"] == 0.129306 and run["flops"] == 15.64737
        assert run["latency"] == 0.0139359758611311
        assert run["training_time"] == pytest.approx(12 * 7.221092998981476)


def test_size_search_space_is_refused(tmp_path):
    folder = real_data("nats-bench", "NATS-sss-v1_0-50262-simple")
    output = tmp_path / "sss.db"
    with pytest.raises(InputError, match="size search space.*different benchmark"):
        convert(folder, output, progress=False)
    assert not output.exists()


def test_single_meta_file_is_refused_with_a_hint(tmp_path):
    meta = real_data("nats-bench", "NATS-tss-v1_0-3ffb9-simple", "meta.pickle.pbz2")
    with pytest.raises(InputError, match="pass the whole folder"):
        convert(meta, tmp_path / "x.db", progress=False)
