"""Every converter writes through ``generators.common.output.atomic_database``: bad output paths are one
line, the input is never overwritten, killed runs leave no temp file behind, a served DB is not replaced."""
from __future__ import annotations

import fcntl
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import REPO, real_data
from generators.common import InputError, atomic_database
from generators.common.output import remove_stale_temp_files
from generators.nasbenchgraph import convert

CORA = real_data("nas-bench-graph", "light", "cora.bench")


def _one_line(error: pytest.ExceptionInfo) -> str:
    text = str(error.value)
    assert "\n" not in text
    return text


def test_output_equal_to_the_input_is_refused_and_the_input_kept(tmp_path):
    bench = tmp_path / "proteins.bench"
    bench.write_bytes(real_data("nas-bench-graph", "light", "proteins.bench").read_bytes())
    before = bench.read_bytes()
    with pytest.raises(InputError) as error:
        convert([bench], bench, progress=False)
    assert "would overwrite the input" in _one_line(error)
    assert bench.read_bytes() == before


@pytest.mark.parametrize("case", ["parent is a file", "name too long", "read-only folder", "a folder"])
def test_unusable_output_paths_are_one_line_errors(tmp_path, case):
    if case == "parent is a file":
        (tmp_path / "file").write_text("x")
        output, expected = tmp_path / "file" / "out.db", "is a file, not a folder"
    elif case == "name too long":
        output, expected = tmp_path / ("x" * 255 + ".db"), "file name too long"
    elif case == "read-only folder":
        if os.geteuid() == 0:
            pytest.skip("root may write anywhere in-process; test_fault_matrix.py::test_output_in_a_read_only_folder "
                        "runs every converter without root's permission overrides instead")
        (tmp_path / "ro").mkdir(mode=0o500)
        output, expected = tmp_path / "ro" / "out.db", "permission denied"
    else:
        output, expected = tmp_path, "is a folder"
    with pytest.raises(InputError) as error:
        convert([CORA], output, progress=False)
    assert expected in _one_line(error)


def test_a_failure_leaves_no_temp_file_and_the_earlier_db_intact(tmp_path):
    output = tmp_path / "out.db"
    output.write_bytes(b"earlier")
    with pytest.raises(RuntimeError), atomic_database(output) as conn:
        conn.execute("create table t (a)")
        raise RuntimeError("boom")
    assert output.read_bytes() == b"earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.db"]


def test_temp_files_of_dead_writers_are_removed_live_ones_kept(tmp_path):
    output = tmp_path / "out.db"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".out.db.tmp-{dead.stdout.strip()}-abcd1234"
    live = tmp_path / f".out.db.tmp-{os.getpid()}-abcd1234"
    stale.write_bytes(b"x" * 10)
    live.write_bytes(b"x" * 10)
    assert remove_stale_temp_files(output) == [stale]
    assert not stale.exists() and live.exists()


def _generate(output, *extra) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "nasbenchmark", "generate", "nbgraph", "--input",
                             str(real_data("nas-bench-graph", "light")), "--output", str(output), *extra],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: signal.Signals(s).name)
def test_a_killed_conversion_keeps_the_earlier_db_and_the_next_run_cleans_up(tmp_path, signum):
    output = tmp_path / "nasbenchgraph.db"
    output.write_bytes(b"earlier")
    process = _generate(output, "--quiet")
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".nasbenchgraph.db.tmp-*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    assert output.read_bytes() == b"earlier"
    if signum != signal.SIGKILL:
        assert stderr.strip().startswith("Stopped by") and len(stderr.strip().splitlines()) == 1, stderr
        assert not list(tmp_path.glob(".nasbenchgraph.db.tmp-*"))  # its own finally removed it
    rerun = _generate(output, "--quiet")
    assert rerun.wait(timeout=120) == 0
    assert not list(tmp_path.glob(".nasbenchgraph.db.tmp-*"))
    with sqlite3.connect(output) as conn:
        assert conn.execute("select count(*) from nbgraphresult").fetchone()[0] > 0


def test_a_db_being_served_is_not_replaced(tmp_path):
    output = tmp_path / "nasbenchgraph.db"
    convert([CORA], output, progress=False)
    before = output.stat().st_ino
    fd = os.open(output, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_SH)  # what `nasbenchmark serve` holds while it serves the file
    try:
        with pytest.raises(InputError) as error:
            convert([CORA], output, progress=False)
        assert "is being served" in _one_line(error)
        assert output.stat().st_ino == before
        assert not list(tmp_path.glob(".nasbenchgraph.db.tmp-*"))
    finally:
        os.close(fd)
    convert([CORA], output, progress=False)
    assert output.stat().st_ino != before
