""".pth files written by torch.save itself (tests/data/nas-bench-201/PROVENANCE.md) convert to the rows of
the same real architectures read from the NATS '-simple' folder, whatever objects torch's pickler
shared between architectures."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from conftest import real_data
from generators.nasbench201 import convert
from generators.nasbench201.stream_release import _Producer

#: Real architectures of the '-simple' folder; entry i of the shared1200 files holds SOURCES[i % 3].
SOURCES = (0, 11, 284)
STATS = ("seed, train_acc, valid_acc, test_acc, ori_test_acc, train_loss, valid_loss, test_loss, ori_test_loss, "
         "parameters, latency, flops, training_time, valid_evaluation_time, test_evaluation_time, "
         "ori_test_evaluation_time")
EPOCHS = "current_epoch, train_acc, valid_acc, test_acc, ori_test_acc, train_loss, valid_loss, test_loss, ori_test_loss"


@pytest.fixture(scope="module")
def simple_db(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("simple") / "simple.db"
    convert(real_data("nats-bench", "NATS-tss-v1_0-3ffb9-simple"), output, progress=False)
    return output


def _runs(db: Path, archs: list[int] | None = None, per_epoch: bool = False) -> dict[int, list[tuple]]:
    """Per arch: its runs' values (and per-epoch values), without ids, in a canonical order."""
    columns = EPOCHS if per_epoch else STATS
    join = "join nb201intermediatestats i on i.trial_id = s.id " if per_epoch else ""
    where = f"where c.arch_index in ({','.join(map(str, archs))})" if archs is not None else ""
    prefix = "i." if per_epoch else "s."
    select = ", ".join(prefix + c.strip() if c.strip() != "seed" else "s.seed" for c in columns.split(","))
    runs: dict[int, list[tuple]] = {}
    with sqlite3.connect(db) as conn:
        for arch, *values in conn.execute(
                f"select c.arch_index, c.num_epochs, c.dataset, {select} from nb201trialstats s "
                f"join nb201trialconfig c on s.config_id = c.id {join}{where} order by c.arch_index, 2, 3, 4, 5"):
            runs.setdefault(arch, []).append(tuple(values))
    return runs


@pytest.mark.parametrize("container", ["legacy", "zip"])
def test_real3_pth_equals_the_simple_folder(container, simple_db, tmp_path):
    output = tmp_path / "real3.db"
    convert(real_data("nas-bench-201", f"NAS-Bench-201-v1_1-real3-{container}.pth"), output, progress=False)
    assert _runs(output) == _runs(simple_db)
    assert _runs(output, per_epoch=True) == _runs(simple_db, per_epoch=True)


@pytest.fixture(scope="module", params=["legacy", "zip"])
def shared_db(request, tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("shared") / "shared.db"
    source = real_data("nas-bench-201", f"NAS-Bench-201-v1_1-shared1200-{request.param}.pth")
    summary = convert(source, output, progress=False)
    assert summary.archs == 15625 and summary.configs == 1200 * 8
    return output


def test_every_entry_of_torch_save_with_shared_objects_has_its_real_values(shared_db, simple_db):
    expected = _runs(simple_db)
    got = _runs(shared_db)
    assert sorted(got) == list(range(1200))
    for arch, runs in got.items():
        assert runs == expected[SOURCES[arch % 3]], arch


def test_per_epoch_rows_across_the_1000_item_batch(shared_db, simple_db):
    expected = _runs(simple_db, per_epoch=True)
    archs = [3, 4, 5, 97, 98, 194, 999, 1000, 1001, 1067, 1164, 1199]
    got = _runs(shared_db, archs, per_epoch=True)
    for arch in archs:
        assert got[arch] == expected[SOURCES[arch % 3]], arch


class _Collect:
    """Stands in for the pipe to the parent process."""

    def __init__(self):
        self.archs = 0

    def send(self, message):
        if message[0] == "rows":
            self.archs += len(message[1])


def test_shared_objects_are_resolved_one_architecture_at_a_time():
    path = real_data("nas-bench-201", "NAS-Bench-201-v1_1-shared1200-legacy.pth")
    sink = _Collect()
    producer = _Producer(sink, path, "pth-legacy")
    producer.run()
    assert producer.read_mode == "markers" and sink.archs == 1200
    # References to freed objects were found and read again, once per newly shared object, not per entry.
    assert 0 < producer.slow_reads < 60
