"""The site's Range server: Range semantics, headers, hostile requests, connection bounds, start and stop."""
from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from site_builder.hosting import IMMUTABLE, REVALIDATE
from site_builder.server import parse_range, serve

SIZES = [0, 1, 4095, 4096, 4097, 10 * 1024 * 1024 + 3]
CHUNK = "db/nb201-0123456789abcdef.sqlite3.000"
CONFIG = "db/nb201-0123456789abcdef.json"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    for size in SIZES:
        (root / f"blob{size}.bin").write_bytes(os.urandom(size))
    (root / "sub").mkdir()
    (root / "sub" / "index.html").write_text("<p>hello</p>")
    (root / "worker.wasm").write_bytes(b"\0asm")
    (root / "db").mkdir()
    (root / CHUNK).write_bytes(os.urandom(8192))
    (root / CONFIG).write_text("{}")
    with serve(root) as handle:
        yield root, handle


def get(handle, path, **headers):
    return httpx.get(handle.url + path, headers=headers)


def raw_request(handle, request: bytes, timeout: float = 5) -> bytes:
    """Send bytes as they are (httpx would reject or encode them) and read until the server closes."""
    with socket.create_connection((handle.host, handle.port), timeout=timeout) as conn:
        conn.sendall(request)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    return received


@pytest.mark.parametrize("size", SIZES)
def test_whole_file_is_200_with_accept_ranges(site, size):
    root, handle = site
    response = get(handle, f"blob{size}.bin")
    assert response.status_code == 200
    assert response.content == (root / f"blob{size}.bin").read_bytes()
    assert response.headers["accept-ranges"] == "bytes"
    assert int(response.headers["content-length"]) == size
    assert "content-encoding" not in response.headers


RANGES = [(0, 0), (0, 4095), (4096, 8191), (1, None), (5000, 10**9)]


@pytest.mark.parametrize("size,first,last", [(size, first, last) for size in SIZES for first, last in RANGES
                                             if first < size])
def test_range_is_206_with_the_requested_bytes(site, size, first, last):
    root, handle = site
    data = (root / f"blob{size}.bin").read_bytes()
    spec = f"bytes={first}-{'' if last is None else last}"
    response = get(handle, f"blob{size}.bin", Range=spec, **{"Accept-Encoding": "gzip, br"})
    end = size - 1 if last is None else min(last, size - 1)
    assert response.status_code == 206
    assert response.content == data[first:end + 1]
    assert response.headers["content-range"] == f"bytes {first}-{end}/{size}"
    assert int(response.headers["content-length"]) == end - first + 1
    assert "content-encoding" not in response.headers


def test_suffix_range_returns_the_last_bytes(site):
    root, handle = site
    data = (root / "blob4097.bin").read_bytes()
    response = get(handle, "blob4097.bin", Range="bytes=-100")
    assert response.status_code == 206
    assert response.content == data[-100:]
    assert response.headers["content-range"] == "bytes 3997-4096/4097"


@pytest.mark.parametrize("path,spec", [("blob4096.bin", "bytes=4096-"), ("blob4096.bin", "bytes=5000-6000"),
                                       ("blob0.bin", "bytes=0-10"), ("blob4096.bin", "bytes=-0"),
                                       ("blob4096.bin", f"bytes={'9' * 5000}-"),
                                       ("blob4096.bin", f"bytes={'9' * 5000}-{'9' * 5001}")])
def test_range_outside_the_file_is_416(site, path, spec):
    root, handle = site
    size = (root / path).stat().st_size
    response = get(handle, path, Range=spec)
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{size}"


@pytest.mark.parametrize("spec", [f"bytes=0-{'9' * 5000}", f"bytes=-{'9' * 5000}"])
def test_range_numbers_of_5000_digits_mean_the_whole_file(site, spec):
    root, handle = site
    response = get(handle, "blob4097.bin", Range=spec)
    assert response.status_code == 206
    assert response.headers["content-range"] == "bytes 0-4096/4097"
    assert response.content == (root / "blob4097.bin").read_bytes()


@pytest.mark.parametrize("spec", ["bytes=10-5", "items=0-4", "bytes=0-1,5-9", "bytes=x-y", "bytes=-"])
def test_range_the_server_does_not_serve_is_ignored(site, spec):
    # RFC 9110 lets a server ignore a Range it cannot or will not serve: 200 and the whole file.
    root, handle = site
    response = get(handle, "blob4097.bin", Range=spec)
    assert response.status_code == 200
    assert len(response.content) == 4097


def test_cors_headers_expose_what_the_engine_reads(site):
    _, handle = site
    response = get(handle, "blob4096.bin", Range="bytes=0-9", Origin="http://elsewhere.test")
    assert response.headers["access-control-allow-origin"] == "*"
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert exposed == {"content-range", "content-length", "accept-ranges"}
    preflight = httpx.request("OPTIONS", handle.url + "blob4096.bin",
                              headers={"Origin": "http://elsewhere.test", "Access-Control-Request-Headers": "range"})
    assert preflight.status_code == 204
    assert "range" in preflight.headers["access-control-allow-headers"].lower()
    assert set(preflight.headers["access-control-allow-methods"].replace(" ", "").split(",")) == {
        "GET", "HEAD", "OPTIONS"}


def test_content_hashed_chunks_are_immutable_and_the_rest_revalidates(site):
    _, handle = site
    chunk = get(handle, CHUNK, Range="bytes=0-99", **{"Accept-Encoding": "gzip"})
    assert chunk.status_code == 206
    assert chunk.headers["cache-control"] == IMMUTABLE
    assert chunk.headers["content-type"] == "application/octet-stream"
    assert "content-encoding" not in chunk.headers
    for path in (CONFIG, "sub/", "sub/index.html", "worker.wasm", "blob1.bin"):
        assert get(handle, path).headers["cache-control"] == REVALIDATE, path


def test_head_gives_length_without_body(site):
    _, handle = site
    response = httpx.head(handle.url + "blob4097.bin")
    assert response.status_code == 200
    assert response.headers["content-length"] == "4097"
    assert response.content == b""


def test_directories_serve_index_html_and_types_are_right(site):
    _, handle = site
    page = get(handle, "sub/")
    assert page.status_code == 200 and page.text == "<p>hello</p>"
    assert page.headers["content-type"].startswith("text/html")
    assert get(handle, "worker.wasm").headers["content-type"] == "application/wasm"


def test_a_directory_without_its_slash_redirects_so_relative_links_resolve(site):
    _, handle = site
    response = get(handle, "sub?x=1")
    assert response.status_code == 301
    assert response.headers["location"] == "/sub/?x=1"


@pytest.mark.parametrize("path", ["missing.bin", "sub/nothing.html", "../etc/passwd", "%2e%2e/%2e%2e/etc/passwd",
                                  "a" * 300, "x/" * 700])
def test_missing_outside_and_unnameable_paths_are_404(site, path):
    _, handle = site
    assert get(handle, path).status_code == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_methods_that_change_things_are_405(site, method):
    _, handle = site
    response = httpx.request(method, handle.url + "blob1.bin", content=b"x")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize("request_line,status", [
    (b"GET /blob1.bin%00.html HTTP/1.1", 400),
    (b"GET /sub/%00 HTTP/1.1", 400),
    (b"GET /" + b"a" * 5000 + b" HTTP/1.1", 414),
    (b"GET /blob1.bin HTTP/1.1\r\nRange: bytes=" + b"1" * 5000 + b"-", 416),
])
def test_hostile_requests_get_an_answer_not_a_dropped_connection(site, request_line, status):
    _, handle = site
    answer = raw_request(handle, request_line + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer[:100]


def test_400_concurrent_requests_are_all_answered(site):
    _, handle = site

    def one(_):
        answer = raw_request(handle, b"GET /blob4097.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-99\r\n"
                                     b"Connection: close\r\n\r\n", timeout=20)
        return answer.startswith(b"HTTP/1.1 206 ")

    with ThreadPoolExecutor(400) as pool:
        assert sum(pool.map(one, range(400))) == 400


def test_small_ranges_on_a_kept_alive_connection_take_well_under_40_ms(site):
    # Without TCP_NODELAY the body waits for the delayed ACK of the header segment: 40-44 ms each.
    _, handle = site
    timings = []
    with httpx.Client() as client:
        for index in range(40):
            started = time.perf_counter()
            response = client.get(handle.url + "blob4097.bin", headers={"Range": f"bytes={index}-{index + 99}"})
            timings.append(time.perf_counter() - started)
            assert response.status_code == 206
    assert statistics.median(timings) < 0.02


def _kept_alive_connection(handle) -> socket.socket:
    conn = socket.create_connection((handle.host, handle.port), timeout=10)
    conn.sendall(b"GET /blob1.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = b""
    while not answer.endswith(b"\r\n\r\nx"):  # the headers and the one-byte body
        answer += conn.recv(65536)
    return conn


def _closed_by_server(conn: socket.socket, wait: float) -> bool:
    conn.settimeout(wait)
    try:
        while conn.recv(65536):  # what is still in flight, then the end of the stream
            pass
        return True
    except TimeoutError:
        return False
    except ConnectionError:
        return True


def test_idle_connections_beyond_the_bound_are_closed_oldest_first(tmp_path):
    (tmp_path / "blob1.bin").write_bytes(b"x")
    baseline = threading.active_count()
    with serve(tmp_path, max_connections=8, idle_timeout=60) as handle:
        connections = [_kept_alive_connection(handle) for _ in range(100)]
        time.sleep(0.2)  # the threads of closed connections finish
        assert threading.active_count() <= baseline + 1 + 8  # the accept loop and at most 8 connections
        started = time.monotonic()
        assert get(handle, "blob1.bin").status_code == 200
        assert time.monotonic() - started < 2
        assert all(_closed_by_server(conn, 2) for conn in connections[:90])
        assert not any(_closed_by_server(conn, 0.05) for conn in connections[-6:])
        for conn in connections:
            conn.close()


def test_idle_and_silent_connections_are_closed_after_the_idle_timeout(tmp_path):
    (tmp_path / "blob1.bin").write_bytes(b"x")
    with serve(tmp_path, idle_timeout=1) as handle:
        kept_alive = _kept_alive_connection(handle)
        silent = socket.create_connection((handle.host, handle.port))
        assert not _closed_by_server(kept_alive, 0.3)
        assert _closed_by_server(kept_alive, 3) and _closed_by_server(silent, 3)


def test_new_connections_get_503_when_every_slot_is_busy(tmp_path):
    (tmp_path / "big.bin").write_bytes(os.urandom(32 * 1024 * 1024))
    with serve(tmp_path, max_connections=2, idle_timeout=3) as handle:
        stalled = []
        for _ in range(2):  # each response fills the socket buffers and the server waits to send more
            conn = socket.socket()
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            conn.connect((handle.host, handle.port))
            conn.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            stalled.append(conn)
        time.sleep(0.3)
        answer = raw_request(handle, b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 503 ") and b"Retry-After: 1" in answer
        for conn in stalled:
            conn.close()


def test_parse_range_cases():
    assert parse_range(None, 10) is None
    assert parse_range("bytes=2-4", 10) == (2, 4)
    assert parse_range("bytes=2-", 10) == (2, 9)
    assert parse_range("bytes=-3", 10) == (7, 9)
    assert parse_range("bytes=-30", 10) == (0, 9)
    assert parse_range("bytes=10-", 10) == "unsatisfiable"
    assert parse_range("bytes=4-2", 10) is None


def test_stop_frees_the_port_and_ends_the_connection_threads(tmp_path):
    (tmp_path / "blob1.bin").write_bytes(b"x")
    baseline = threading.active_count()
    handle = serve(tmp_path)
    url, port = handle.url, handle.port
    kept_alive = _kept_alive_connection(handle)
    started = time.monotonic()
    handle.stop()
    assert time.monotonic() - started < 3
    assert threading.active_count() == baseline
    assert _closed_by_server(kept_alive, 1)
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)
    with serve(tmp_path, "127.0.0.1", port) as again:  # the port can be listened on again at once
        assert again.port == port


def test_serve_rejects_a_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        serve(tmp_path / "nope")


def test_serve_on_a_taken_port_raises_oserror(tmp_path):
    with serve(tmp_path) as handle, pytest.raises(OSError):
        serve(tmp_path, handle.host, handle.port)


def test_the_module_serves_until_interrupted_without_a_warning(tmp_path):
    (tmp_path / "index.html").write_text("<p>home</p>")
    process = subprocess.Popen([sys.executable, "-W", "default", "-m", "site_builder.server", str(tmp_path),
                                "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith(f"serving {tmp_path} at http://127.0.0.1:"), line
        url = line.split(" at ", 1)[1].split()[0]
        assert httpx.get(url).text == "<p>home</p>"
    finally:
        process.send_signal(subprocess.signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Warning" not in stderr and "Traceback" not in stderr, stderr


def test_the_module_on_a_taken_port_prints_one_line(tmp_path):
    with serve(tmp_path) as handle:
        result = subprocess.run([sys.executable, "-m", "site_builder.server", str(tmp_path), "--port",
                                 str(handle.port)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--port" in result.stderr, result.stderr
