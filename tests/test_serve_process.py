"""A real ``datasette`` process on a free loopback port: via ``serving.start`` and via ``nasbenchmark serve``."""
from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest
from click.testing import CliRunner

from nasbenchmark import serving
from nasbenchmark.serving.cli import serve
from served_dbs import require_db


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def test_start_serves_canned_queries_over_http_and_stops(served_dir):
    require_db(served_dir, "nb201")
    with serving.start(served_dir) as server:
        assert server.url.startswith("http://127.0.0.1:")
        status, body = get(server.url + "nasbench201/top_architectures.json?_shape=array&k=4&dataset=cifar100")
        rows = json.loads(body)
        assert status == 200 and [r["rank"] for r in rows] == [1, 2, 3, 4]
        status, body = get(server.url + "nasbench201/top_architectures.csv?k=4&dataset=cifar100")
        table = list(csv.DictReader(io.StringIO(body)))
        assert status == 200 and [int(r["arch_index"]) for r in table] == [r["arch_index"] for r in rows]
        status, body = get(server.url + "-/settings.json")
        assert json.loads(body)["max_returned_rows"] == serving.SETTINGS["max_returned_rows"]
    assert server.process.poll() is not None
    with pytest.raises(OSError):
        get(server.url + "-/versions.json")


def test_start_reports_a_port_in_use(served_dir):
    require_db(served_dir, "nb201")
    with serving.start(served_dir) as first:
        port = int(first.url.rsplit(":", 1)[1].strip("/"))
        with pytest.raises(serving.ServeError, match=f"cannot listen on 127.0.0.1:{port}"):
            serving.start(served_dir, port=port, timeout=30).stop()


def _processes_mentioning(text: str) -> list[int]:
    """PIDs of live processes whose command line contains ``text`` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if text.encode() in f.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL],
                         ids=lambda s: signal.Signals(s).name)
def test_serve_command_stops_datasette_on_every_signal(served_dir, signum):
    """Ctrl-C, SIGTERM and SIGHUP stop the command and its Datasette child; after a SIGKILL of the command
    the child dies with it (PR_SET_PDEATHSIG). Either way nothing keeps answering on the port."""
    import time

    require_db(served_dir, "nb201")
    command = [sys.executable, "-m", "nasbenchmark", "serve", "--port", "0", "--dir", str(served_dir)]
    # Own session: on failure the cleanup kills the command and its datasette child together.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               start_new_session=True)
    try:
        # Datasette's access log shares stdout; our line follows the readiness probe's entry.
        line = next(line for line in process.stdout if not line.startswith("INFO:"))
        assert line.startswith("Datasette serving ") and "nasbench201.db" in line, line
        url = line.split(" at ")[1].split()[0]
        status, body = get(url + "nasbench201/learning_curve.json?_shape=array&epochs=12&dataset=cifar100")
        assert status == 200 and json.loads(body)[0]["current_epoch"] == 1
        children = [pid for pid in _processes_mentioning(str(served_dir)) if pid != process.pid]
        assert children, "no datasette child found"
        process.send_signal(signum)
        code = process.wait(timeout=20)
        assert code == -signal.SIGKILL if signum == signal.SIGKILL else code == 0
        deadline = time.monotonic() + 15
        while any(os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().split()[2] != "Z"
                  for pid in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        with pytest.raises(OSError):
            get(url + "-/versions.json")
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def test_serve_command_without_databases_exits_1(tmp_path):
    result = CliRunner().invoke(serve, ["--dir", str(tmp_path), "--port", "0"])
    assert result.exit_code == 1
    assert f"no benchmark database in {tmp_path}" in result.output
