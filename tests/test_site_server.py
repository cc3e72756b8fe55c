"""The site's Range server: 206 with Content-Range, 416 outside the file, CORS and no compression."""
from __future__ import annotations

import os

import httpx
import pytest

from site_builder.server import parse_range, serve

SIZES = [0, 1, 4095, 4096, 4097, 10 * 1024 * 1024 + 3]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    for size in SIZES:
        (root / f"blob{size}.bin").write_bytes(os.urandom(size))
    (root / "sub").mkdir()
    (root / "sub" / "index.html").write_text("<p>hello</p>")
    (root / "worker.wasm").write_bytes(b"\0asm")
    with serve(root) as handle:
        yield root, handle


def get(handle, path, **headers):
    return httpx.get(handle.url + path, headers=headers)


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
                                       ("blob0.bin", "bytes=0-10"), ("blob4096.bin", "bytes=-0")])
def test_range_outside_the_file_is_416(site, path, spec):
    root, handle = site
    size = (root / path).stat().st_size
    response = get(handle, path, Range=spec)
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{size}"


@pytest.mark.parametrize("spec", ["bytes=10-5", "items=0-4", "bytes=0-1,5-9", "bytes=x-y"])
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


@pytest.mark.parametrize("path", ["missing.bin", "sub/nothing.html", "../etc/passwd", "%2e%2e/%2e%2e/etc/passwd"])
def test_missing_and_outside_paths_are_404(site, path):
    _, handle = site
    assert get(handle, path).status_code == 404


def test_parse_range_cases():
    assert parse_range(None, 10) is None
    assert parse_range("bytes=2-4", 10) == (2, 4)
    assert parse_range("bytes=2-", 10) == (2, 9)
    assert parse_range("bytes=-3", 10) == (7, 9)
    assert parse_range("bytes=-30", 10) == (0, 9)
    assert parse_range("bytes=10-", 10) == "unsatisfiable"


def test_stop_frees_the_port(tmp_path):
    handle = serve(tmp_path)
    url = handle.url
    handle.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)


def test_serve_rejects_a_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        serve(tmp_path / "nope")
