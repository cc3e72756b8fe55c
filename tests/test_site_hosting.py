"""The built site on the hosts people use: the page's host check in real Chromium, and the host files.

One module fixture builds a site from the 120-architecture NAS-Bench-201 sample (a browser DB of about
22 MiB in 3 chunks: small enough for the whole-file fallback) and the real NAS-Bench-Graph wheel (about
117 MiB in 12 chunks: too large for it), into ``<tmp>/mount/site`` so the same files also serve under
``/site/``. It is then served by: the project's server, Python's ``http.server`` (no Range), servers that
gzip the chunks, servers on another loopback origin with no or partial CORS, a server that leaves out
``Content-Range``, and nginx and Caddy running the hosting page's own snippets (skipped when not installed).
"""
from __future__ import annotations

import functools
import gzip
import http.server
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from site_builder import build
from site_builder.hosting import CONTENT_HASHED_CHUNK, HEADERS_FILE, IMMUTABLE, NOJEKYLL, REVALIDATE
from site_builder.measure import open_view
from site_builder.server import parse_range, serve
from synthetic_nb201 import build_nb201_db

NB201_COUNT_SQL = "select count(*) from nb201trialstats"
NBGRAPH_COUNT_SQL = "select count(*) from nbgraphdataset"


@pytest.fixture(scope="module")
def hosted(tmp_path_factory):
    from generators.nasbenchgraph import convert

    dbs = tmp_path_factory.mktemp("hosted-dbs")
    build_nb201_db(dbs / "nasbench201.db", num_archs=120)
    convert(None, dbs / "nasbenchgraph.db", progress=False)
    mount = tmp_path_factory.mktemp("mount")
    out = mount / "site"
    report = build(out, dbs, log=lambda text: None)
    dbs_built = {item.key: item.db for item in report.benchmarks if item.db}  # the benchmarks with a DB here
    assert dbs_built["nb201"].size_bytes <= 64 * 1024 * 1024 < dbs_built["nbgraph"].size_bytes, \
        "the fixture no longer spans the whole-file fallback limit"
    expected = {}
    for key, filename, sql in (("nb201", "nasbench201.db", NB201_COUNT_SQL),
                               ("nbgraph", "nasbenchgraph.db", NBGRAPH_COUNT_SQL)):
        with sqlite3.connect(dbs / filename) as conn:
            expected[key] = str(conn.execute(sql).fetchone()[0])
    return {"out": out, "mount": mount, "dbs": dbs_built, "expected": expected}


# --- servers --------------------------------------------------------------------------------------


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """The page aborts the probe of a host that sends whole files: not an error here."""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """``python -m http.server``: no Range support, no CORS headers."""

    def log_message(self, format, *args):  # noqa: A002
        pass


@contextmanager
def stdlib_server(handler_class, directory: Path):
    server = _QuietServer(("127.0.0.1", 0), functools.partial(handler_class, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _is_chunk(url_path: str) -> bool:
    return bool(re.search(r"\.sqlite3\.\d+$", url_path.split("?", 1)[0]))


class GzipHandler(QuietHandler):
    """Gzips the DB chunks whatever the request's Accept-Encoding (Chromium sends ``identity`` with Range).
    ``whole``: ignores Range too, 200 and the whole file (as GitHub Pages' CDN was seen to do);
    ``ranges``: 206 with the asked range of the file, gzipped."""

    mode = "whole"

    def do_GET(self):  # noqa: N802
        if not _is_chunk(self.path):
            return super().do_GET()
        data = Path(self.translate_path(self.path)).read_bytes()
        wanted = parse_range(self.headers.get("Range"), len(data)) if self.mode == "ranges" else None
        first, last = wanted if isinstance(wanted, tuple) else (0, len(data) - 1)
        body = gzip.compress(data[first:last + 1], compresslevel=1)
        self.send_response(206 if isinstance(wanted, tuple) else 200)
        if isinstance(wanted, tuple):
            self.send_header("Content-Range", f"bytes {first}-{last}/{len(data)}")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class RangeHandler(QuietHandler):
    """Answers Range correctly, with only the CORS headers in ``cors``, and Content-Range if ``content_range``."""

    cors: dict[str, str] = {}
    content_range = True

    def do_GET(self):  # noqa: N802
        self._answer(send_body=True)

    def do_HEAD(self):  # noqa: N802 - the engine sends one before its first read
        self._answer(send_body=False)

    def _answer(self, send_body: bool):
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            return super().do_GET() if send_body else super().do_HEAD()
        data = path.read_bytes()
        wanted = parse_range(self.headers.get("Range"), len(data))
        first, last = wanted if isinstance(wanted, tuple) else (0, len(data) - 1)
        self.send_response(206 if isinstance(wanted, tuple) else 200)
        for name, value in self.cors.items():
            self.send_header(name, value)
        if isinstance(wanted, tuple) and self.content_range:
            self.send_header("Content-Range", f"bytes {first}-{last}/{len(data)}")
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Length", str(last - first + 1))
        self.end_headers()
        if send_body:
            self.wfile.write(data[first:last + 1])


def handler(base, **attributes):
    return type(base.__name__, (base,), attributes)


# --- the page -------------------------------------------------------------------------------------


def mib(size_bytes: int) -> str:
    return f"{size_bytes / 1024 / 1024:.1f} MiB"


def sql_view(base_url: str, key: str, sql: str) -> str:
    return f"{base_url}{key}/index.html#/?sql={quote(sql)}&_v=1"


def first_cell(page) -> str | None:
    cell = page.query_selector("#view table.results tbody td")
    return cell.text_content() if cell else None


def notices(page) -> list[dict]:
    return page.eval_on_selector_all(".host-check", """els => els.map(e => ({problem: e.dataset.problem,
        kind: e.classList.contains('message-error') ? 'error' : 'warning', text: e.textContent,
        link: e.querySelector('a').href}))""")


def view_errors(page) -> list[str]:
    return page.eval_on_selector_all("#view .message-error", "els => els.map(e => e.textContent)")


def assert_result(page, hosted, key: str):
    assert first_cell(page) == hosted["expected"][key], view_errors(page)
    assert not view_errors(page)


def assert_host_message(page, problem: str, kind: str, *words: str) -> dict:
    """One notice of ``problem`` naming ``words``, linking an existing section of the hosting page."""
    shown = notices(page)
    assert [(n["problem"], n["kind"]) for n in shown] == [(problem, kind)], shown
    notice = shown[0]
    for word in words:
        assert word in notice["text"], (word, notice["text"])
    assert "Fix:" in notice["text"]
    hosting_url, anchor = notice["link"].split("#")
    hosting = httpx.get(hosting_url)
    assert hosting.status_code == 200 and f'id="{anchor}"' in hosting.text
    if kind == "error":
        errors = " ".join(view_errors(page))
        assert "cannot be read from this host" in errors
        assert "malformed" not in errors and "SQLite" not in errors
        assert first_cell(page) is None
    return notice


def pages_without_db(hosted, target: Path, db_origin: str | None = None) -> Path:
    """A copy of the site without ``db/``; with ``db_origin``, the NB201 page reads its DB from there."""
    shutil.copytree(hosted["out"], target, ignore=shutil.ignore_patterns("db"))
    if db_origin:
        page_file = target / "nb201" / "index.html"
        html = page_file.read_text()
        moved = html.replace('"config_url": "../db/', f'"config_url": "{db_origin}db/')
        assert moved != html
        page_file.write_text(moved)
    return target


# --- the page on each host ------------------------------------------------------------------------


def test_the_project_server_answers_every_query_without_a_notice(page, hosted):
    with serve(hosted["out"]) as server:
        open_view(page, sql_view(server.url, "nb201", NB201_COUNT_SQL))
        assert_result(page, hosted, "nb201")
        assert notices(page) == []
        open_view(page, sql_view(server.url, "nbgraph", NBGRAPH_COUNT_SQL))
        assert_result(page, hosted, "nbgraph")
        assert notices(page) == []


def test_a_sub_path_mount_works_as_on_a_github_pages_project_site(page, hosted):
    with serve(hosted["mount"]) as server:
        base = server.url + "site/"
        open_view(page, sql_view(base, "nb201", NB201_COUNT_SQL))
        assert_result(page, hosted, "nb201")
        assert notices(page) == []
        assert httpx.get(server.url + "site").headers["location"] == "/site/"


def test_python_http_server_small_db_falls_back_to_whole_files_and_says_so(page, hosted):
    with stdlib_server(QuietHandler, hosted["mount"]) as base:
        open_view(page, sql_view(base + "site/", "nb201", NB201_COUNT_SQL))
        db = hosted["dbs"]["nb201"]
        notice = assert_host_message(page, "no-range", "warning", "ignores HTTP Range", "whole database once",
                                     f"{mib(db.size_bytes)} in {len(db.chunk_names)} files",
                                     "python -m site_builder.server")
        assert notice["link"] == base + "site/hosting.html#range"
        assert_result(page, hosted, "nb201")


def test_python_http_server_large_db_gets_a_message_not_an_sqlite_error(page, hosted):
    with stdlib_server(QuietHandler, hosted["out"]) as base:
        open_view(page, sql_view(base, "nbgraph", NBGRAPH_COUNT_SQL))
        assert_host_message(page, "no-range", "error", "ignores HTTP Range", "too large to download whole",
                            mib(hosted["dbs"]["nbgraph"].size_bytes), "limit is 64.0 MiB")


@pytest.mark.parametrize("mode", ["whole", "ranges"])
def test_a_host_that_gzips_the_chunks_gets_a_message(page, hosted, mode):
    with stdlib_server(handler(GzipHandler, mode=mode), hosted["out"]) as base:
        open_view(page, sql_view(base, "nb201", NB201_COUNT_SQL))
        assert_host_message(page, "compressed", "error", "Content-Encoding: gzip", "Accept-Encoding: identity",
                            "Turn compression off")


def test_a_db_on_another_origin_without_cors_gets_a_message(page, hosted, tmp_path):
    with stdlib_server(RangeHandler, hosted["out"]) as db_host, \
            serve(pages_without_db(hosted, tmp_path / "pages", db_host)) as site:
        open_view(page, sql_view(site.url, "nb201", NB201_COUNT_SQL))
        assert_host_message(page, "cors-blocked", "error", db_host.rstrip("/"), "Access-Control-Allow-Origin")


def test_a_db_on_another_origin_with_the_project_server_needs_nothing_more(page, hosted, tmp_path):
    with serve(hosted["out"]) as db_host, serve(pages_without_db(hosted, tmp_path / "pages", db_host.url)) as site:
        open_view(page, sql_view(site.url, "nb201", NB201_COUNT_SQL))
        assert_result(page, hosted, "nb201")
        assert notices(page) == []


def test_a_db_on_another_origin_that_does_not_expose_the_headers_runs_with_a_note(page, hosted, tmp_path):
    # Allow-Origin only: Chromium sends a single Range without a preflight, and hides Content-Range.
    origin_only = handler(RangeHandler, cors={"Access-Control-Allow-Origin": "*"})
    with stdlib_server(origin_only, hosted["out"]) as db_host, \
            serve(pages_without_db(hosted, tmp_path / "pages", db_host)) as site:
        open_view(page, sql_view(site.url, "nb201", NB201_COUNT_SQL))
        assert_host_message(page, "headers-hidden", "warning", db_host.rstrip("/"),
                            "Access-Control-Expose-Headers: Content-Range, Content-Length, Accept-Ranges")
        assert_result(page, hosted, "nb201")


class CorsOnConfigOnly(RangeHandler):
    """CORS headers on the DB config JSON but not on the chunks (one path forgotten in the host's rules)."""

    def end_headers(self):
        if self.path.split("?", 1)[0].endswith(".json"):
            self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()


def test_a_db_on_another_origin_with_cors_only_on_the_config_gets_a_message(page, hosted, tmp_path):
    with stdlib_server(CorsOnConfigOnly, hosted["out"]) as db_host, \
            serve(pages_without_db(hosted, tmp_path / "pages", db_host)) as site:
        open_view(page, sql_view(site.url, "nb201", NB201_COUNT_SQL))
        assert_host_message(page, "cors-range", "error", db_host.rstrip("/"), "db/*.sqlite3.*",
                            "Access-Control-Allow-Headers: Range")


def test_a_206_without_content_range_runs_with_a_note(page, hosted):
    with stdlib_server(handler(RangeHandler, content_range=False), hosted["out"]) as base:
        open_view(page, sql_view(base, "nb201", NB201_COUNT_SQL))
        assert_host_message(page, "no-content-range", "warning", "without a Content-Range")
        assert_result(page, hosted, "nb201")


def test_a_missing_db_folder_is_named(page, hosted, tmp_path):
    with serve(pages_without_db(hosted, tmp_path / "pages")) as server:
        open_view(page, sql_view(server.url, "nb201", NB201_COUNT_SQL))
        assert_host_message(page, "config-missing", "error", "HTTP 404", "db/ included")


# --- host files -----------------------------------------------------------------------------------


def parse_headers_file(text: str) -> list[tuple[str, dict[str, str]]]:
    rules = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("/"):
            rules.append((line, {}))
        else:
            name, value = line.strip().split(": ", 1)
            rules[-1][1][name] = value
    return rules


def matches(pattern: str, url_path: str) -> bool:
    """Netlify and Cloudflare Pages: a trailing ``*`` matches any rest of the path, otherwise exact."""
    return url_path.startswith(pattern[:-1]) if pattern.endswith("*") else url_path == pattern


def site_files(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                  if p.is_file() and not p.name.startswith((".", "_")))


def test_the_build_writes_nojekyll_and_a_headers_file_without_overlapping_rules(hosted):
    out = hosted["out"]
    assert (out / NOJEKYLL).read_text() == ""
    rules = parse_headers_file((out / HEADERS_FILE).read_text())
    chunks = [name for name in site_files(out) if name.startswith("db/") and not name.endswith(".json")]
    assert len(chunks) == sum(len(db.chunk_names) for db in hosted["dbs"].values()) and all(CONTENT_HASHED_CHUNK.match(name) for name in chunks)
    for name in site_files(out):
        urls = [f"/{name}"] + ([f"/{name[:-len('index.html')]}"] if name.endswith("index.html") else [])
        for url in urls:
            setting = [headers for pattern, headers in rules if matches(pattern, url) and "Cache-Control" in headers]
            assert len(setting) == 1, (url, setting)
            headers = setting[0]
            if name in chunks:
                assert headers["Cache-Control"] == IMMUTABLE and "no-transform" in IMMUTABLE
                assert headers["Content-Type"] == "application/octet-stream"
                assert headers["Access-Control-Allow-Origin"] == "*"
                assert "Content-Range" in headers["Access-Control-Expose-Headers"]
            else:
                assert headers["Cache-Control"] == REVALIDATE, url
    assert len(rules) <= 100  # Cloudflare Pages reads at most 100 rules


def test_the_project_server_sends_what_headers_file_says(hosted):
    out = hosted["out"]
    rules = parse_headers_file((out / HEADERS_FILE).read_text())
    with serve(out) as server, httpx.Client() as client:
        for name in site_files(out):
            expected = next(h for p, h in rules if matches(p, f"/{name}") and "Cache-Control" in h)
            response = client.head(server.url + name, headers={"Accept-Encoding": "gzip, br"})
            assert response.headers["cache-control"] == expected["Cache-Control"], name
            assert "content-encoding" not in response.headers


# --- nginx and Caddy with the hosting page's snippets ---------------------------------------------


class _Snippets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.snippets: dict[str, str] = {}
        self._current = None

    def handle_starttag(self, tag, attrs):
        if tag == "pre" and dict(attrs).get("data-snippet"):
            self._current = dict(attrs)["data-snippet"]
            self.snippets[self._current] = ""

    def handle_endtag(self, tag):
        if tag == "pre":
            self._current = None

    def handle_data(self, data):
        if self._current:
            self.snippets[self._current] += data


def hosting_snippets(out: Path) -> dict[str, str]:
    parser = _Snippets()
    parser.feed((out / "hosting.html").read_text())
    parser.close()
    return parser.snippets


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running(argv: list[str], port: int, log: Path, env: dict | None = None):
    with open(log, "w") as output:
        process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"{argv[0]} did not start: {log.read_text()}")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=20)


def check_host_headers(base: str, out: Path) -> None:
    """What every host of the site must answer, over plain HTTP (the browser test checks the page)."""
    chunk = next(name for name in site_files(out) if CONTENT_HASHED_CHUNK.match(name))
    config = next(name for name in site_files(out) if name.startswith("db/") and name.endswith(".json"))
    with httpx.Client() as client:
        part = client.get(base + chunk, headers={"Range": "bytes=16-99", "Accept-Encoding": "gzip, br, zstd"})
        assert part.status_code == 206 and part.content == (out / chunk).read_bytes()[16:100]
        assert part.headers["content-range"] == f"bytes 16-99/{(out / chunk).stat().st_size}"
        assert "content-encoding" not in part.headers
        assert part.headers["cache-control"] == IMMUTABLE
        assert part.headers["content-type"] == "application/octet-stream"
        assert part.headers["access-control-allow-origin"] == "*"
        assert {h.strip() for h in part.headers["access-control-expose-headers"].split(",")} == {
            "Content-Range", "Content-Length", "Accept-Ranges"}
        preflight = client.options(base + chunk, headers={"Origin": "http://elsewhere.test",
                                                          "Access-Control-Request-Method": "GET",
                                                          "Access-Control-Request-Headers": "range"})
        assert preflight.status_code == 204 and "Range" in preflight.headers["access-control-allow-headers"]
        for name in (config, "index.html", "nb201/index.html"):
            assert client.get(base + name).headers["cache-control"] == REVALIDATE, name


def _require(tool: str) -> str:
    path = shutil.which(tool) or (f"/usr/sbin/{tool}" if os.path.exists(f"/usr/sbin/{tool}") else None)
    if path is None:
        pytest.skip(f"{tool} is not installed (Debian: apt-get install {tool})")
    return path


def test_nginx_with_the_hosting_page_snippet_serves_the_site(page, hosted, tmp_path):
    nginx = _require("nginx")
    out, port = hosted["out"], free_port()
    server_block = hosting_snippets(out)["nginx"].replace("/srv/site", str(out)).replace("8080", str(port))
    # A host that compresses everything it can: the snippet must keep the chunks out of it.
    config = tmp_path / "nginx.conf"
    config.write_text(f"""{'user root;' if os.geteuid() == 0 else ''}
daemon off;
master_process off;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{}}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    gzip on;
    gzip_types *;
    gzip_min_length 0;
{server_block}
}}
""")
    checked = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    with running([nginx, "-p", str(tmp_path), "-c", str(config)], port, tmp_path / "nginx.out") as base:
        check_host_headers(base, out)
        script = httpx.get(base + "static/js/app.js", headers={"Accept-Encoding": "gzip"})
        assert script.headers["content-encoding"] == "gzip"  # compression is on, just not for the chunks
        open_view(page, sql_view(base, "nb201", NB201_COUNT_SQL))
        assert_result(page, hosted, "nb201")
        assert notices(page) == []


def test_caddy_with_the_hosting_page_snippet_serves_the_site(page, hosted, tmp_path):
    caddy = _require("caddy")
    out, port = hosted["out"], free_port()
    site_block = hosting_snippets(out)["caddy"].replace("/srv/site", str(out)).replace("8080", str(port))
    config = tmp_path / "Caddyfile"
    config.write_text("{\n\tadmin off\n\tauto_https off\n}\n\n" + site_block + "\n")
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)}
    checked = subprocess.run([caddy, "validate", "--config", str(config), "--adapter", "caddyfile"],
                             capture_output=True, text=True, env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with running([caddy, "run", "--config", str(config), "--adapter", "caddyfile"], port, tmp_path / "caddy.out",
                 env) as base:
        check_host_headers(base, out)
        script = httpx.get(base + "static/js/app.js", headers={"Accept-Encoding": "gzip"})
        assert script.headers["content-encoding"] == "gzip"
        open_view(page, sql_view(base, "nb201", NB201_COUNT_SQL))
        assert_result(page, hosted, "nb201")
        assert notices(page) == []


def test_the_s3_snippets_are_a_valid_cors_configuration_and_upload(hosted):
    snippets = hosting_snippets(hosted["out"])
    rule = json.loads(snippets["s3-cors"])["CORSRules"][0]
    assert rule["AllowedHeaders"] == ["Range"] and set(rule["AllowedMethods"]) == {"GET", "HEAD"}
    assert set(rule["ExposeHeaders"]) == {"Content-Range", "Content-Length", "Accept-Ranges"}
    upload = snippets["s3-upload"]
    assert f'--cache-control "{IMMUTABLE}"' in upload and "--content-type application/octet-stream" in upload
    assert f"--cache-control {REVALIDATE}" in upload and '--exclude "db/*.sqlite3.*"' in upload


def test_every_section_a_notice_links_exists_on_the_hosting_page(hosted):
    script = (hosted["out"] / "static" / "js" / "hostcheck.js").read_text()
    anchors = set(re.findall(r',\s*"([a-z-]+)"\)', script))  # the last argument of each HostProblem
    assert anchors == {"range", "compression", "cors", "files"}
    html = (hosted["out"] / "hosting.html").read_text()
    for anchor in anchors:
        assert f'id="{anchor}"' in html, anchor
