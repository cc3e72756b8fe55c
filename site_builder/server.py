"""A small static file server that answers HTTP Range requests, for previewing and testing the site.

The in-browser database reads the SQLite chunks with ``Range: bytes=a-b`` requests, so any host of
the built site must meet three requirements (Python's ``http.server`` meets none of the first):

1. **Range requests**: answer ``206 Partial Content`` with ``Content-Range`` and advertise
   ``Accept-Ranges: bytes``. A host that ignores ``Range`` and sends the whole file with ``200``
   makes the engine read wrong bytes ("database disk image is malformed").
2. **Identity encoding on DB files**: no ``Content-Encoding: gzip``/``br`` on ``*.sqlite3.*`` chunks;
   byte offsets are offsets into the uncompressed file.
3. **CORS when the DB lives on another origin**: ``Access-Control-Allow-Origin`` and
   ``Access-Control-Expose-Headers: Content-Range, Content-Length, Accept-Ranges``.

This server does all three; ``serve(site_dir)`` starts it on a free loopback port in a thread.
"""
from __future__ import annotations

import argparse
import email.utils
import http.server
import mimetypes
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

_CONTENT_TYPES = {
    ".wasm": "application/wasm",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".whl": "application/zip",
}
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Range",
    "Access-Control-Expose-Headers": "Content-Range, Content-Length, Accept-Ranges",
}


def parse_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """The inclusive byte range ``(first, last)`` a ``Range`` header asks for.

    Returns ``None`` when the whole file should be sent (no header, a syntax this server does not
    serve such as several ranges: RFC 9110 lets a server ignore ``Range``), and ``"unsatisfiable"``
    when the range lies outside the file (answer 416).
    """
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or match.group(1) == match.group(2) == "":
        return None
    first_text, last_text = match.groups()
    if first_text == "":  # suffix range: the last N bytes
        length = int(last_text)
        if length == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - length), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # invalid syntax per RFC 9110: ignore the header
    if first >= size:
        return "unsatisfiable"
    return first, min(int(last_text), size - 1) if last_text else size - 1


class RangeRequestHandler(http.server.BaseHTTPRequestHandler):
    """Serves files under ``self.server.root`` with Range support, CORS headers and no compression."""

    server_version = "nasbenchmark-site"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        """Quiet: tests and previews do not want a line per range request."""

    def _file_for_request(self) -> Path | None:
        root: Path = self.server.root
        relative = unquote(urlsplit(self.path).path).lstrip("/")
        candidate = (root / relative).resolve()
        if candidate != root and root not in candidate.parents:
            return None
        if candidate.is_dir():
            candidate = candidate / "index.html"
        return candidate if candidate.is_file() else None

    def _send_common_headers(self) -> None:
        for name, value in _CORS_HEADERS.items():
            self.send_header(name, value)
        self.send_header("Accept-Ranges", "bytes")

    def _send_error_status(self, status: int, extra: dict[str, str] | None = None) -> None:
        body = f"{status} {http.HTTPStatus(status).phrase}\n".encode()
        self.send_response(status)
        self._send_common_headers()
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_OPTIONS(self):  # noqa: N802 - http.server naming
        self.send_response(204)
        self._send_common_headers()
        self.send_header("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self):  # noqa: N802
        self._serve(send_body=False)

    def do_GET(self):  # noqa: N802
        self._serve(send_body=True)

    def _serve(self, send_body: bool) -> None:
        path = self._file_for_request()
        if path is None:
            self._send_error_status(404)
            return
        size = path.stat().st_size
        wanted = parse_range(self.headers.get("Range"), size)
        if wanted == "unsatisfiable":
            self._send_error_status(416, {"Content-Range": f"bytes */{size}"})
            return
        first, last = wanted if wanted else (0, size - 1)
        length = last - first + 1 if size else 0
        self.send_response(206 if wanted else 200)
        self._send_common_headers()
        if wanted:
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        content_type = _CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
        self.send_header("Content-Type", content_type or "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.send_header("Last-Modified", email.utils.formatdate(path.stat().st_mtime, usegmt=True))
        # HTML changes with every build; DB chunks carry a content hash in their names.
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if send_body and length:
            with open(path, "rb") as f:
                f.seek(first)
                remaining = length
                while remaining:
                    block = f.read(min(remaining, 1 << 20))
                    if not block:
                        break
                    self.wfile.write(block)
                    remaining -= len(block)


class _RangeServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, root: Path):
        self.root = root
        super().__init__(address, RangeRequestHandler)


@dataclass
class ServerHandle:
    """A running server: ``url`` ends with ``/``; ``stop()`` shuts it down and frees the port."""

    host: str
    port: int
    _server: _RangeServer
    _thread: threading.Thread

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> "ServerHandle":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve(site_dir: Path | str, host: str = "127.0.0.1", port: int = 0) -> ServerHandle:
    """Serve ``site_dir`` in a background thread; returns once the socket listens. ``port=0`` picks a free port."""
    root = Path(site_dir).resolve()
    if not root.is_dir():
        raise ValueError(f"site_dir {str(site_dir)!r} is not a directory; build the site first")
    server = _RangeServer((host, port), root)
    thread = threading.Thread(target=server.serve_forever, name=f"site-server-{server.server_address[1]}",
                              daemon=True)
    thread.start()
    return ServerHandle(host, server.server_address[1], server, thread)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m site_builder.server",
                                     description="Serve a built site with HTTP Range support.")
    parser.add_argument("site_dir", nargs="?", default="site")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    args = parser.parse_args(argv)
    handle = serve(args.site_dir, args.host, args.port)
    print(f"serving {Path(args.site_dir).resolve()} at {handle.url} (Ctrl-C stops)")
    try:
        handle._thread.join()
    except KeyboardInterrupt:
        handle.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
