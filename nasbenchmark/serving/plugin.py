"""The Datasette plugin ``nasbenchmark serve`` loads (``--plugins-dir``): what Datasette 0.65 does not do.

* Every connection to a benchmark DB is hardened (``database.harden``): no writes or ATTACH, and
  strings/blobs bounded, so one ``printf('%.*c', 900000000, 'x')`` cannot take a gigabyte.
* Canned queries: a bad parameter answers 400 with one readable message naming every bad parameter, in
  HTML, JSON and CSV alike (0.65 answers a CSV with 200 and an empty body); the text a query stops with
  (``descriptor.stop_sql``) is shown alone, without SQLite's "JSON path error near" wrapper; a POST
  answers 405 (0.65 raises a 500: our canned queries are read-only).
"""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, unquote

from datasette import hookimpl

from .. import registry
from ..database import harden
from ..descriptor import CannedQuery, stop_message
from ..provenance import read_provenance

_STOP_IN_HTML = re.compile(rb"JSON path error near &#39;(.*)&#39;(?=\s*<)")
_PATH = re.compile(r"^/(?P<db>[^/]+)/(?P<query>[^/]+?)(?P<format>\.json|\.csv)?$")


def _queries_by_database(datasette) -> dict[str, dict[str, tuple[CannedQuery, dict]]]:
    """Datasette database name -> canned query name -> (query, the DB's ``absent`` metadata)."""
    by_file = {bench.db_filename: bench for bench in registry.benchmarks()}
    found = {}
    for name, db in datasette.databases.items():
        bench = by_file.get(f"{name}.db")
        if bench and db.path:
            absent = read_provenance(db.path).absent
            found[name] = {query.name: (query, absent) for query in bench.queries}
    return found


@hookimpl
def prepare_connection(conn, database: str, datasette):
    if not database.startswith("_"):  # Datasette's own _internal and _memory databases are left alone
        harden(conn)


async def _send_text(send, status: int, text: str, content_type: str, extra: list | None = None) -> None:
    body = text.encode()
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
               *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _error(send, status: int, message: str, fmt: str | None, title: str) -> None:
    if fmt == ".json":
        text = json.dumps({"ok": False, "error": message, "status": status, "title": title})
        await _send_text(send, status, text, "application/json; charset=utf-8")
    else:
        await _send_text(send, status, f"{title}: {message}\n", "text/plain; charset=utf-8",
                         [(b"allow", b"GET, HEAD")] if status == 405 else None)


def _cleaned(body: bytes, content_type: str) -> bytes:
    """The response body with stop messages shown alone."""
    if "json" in content_type:
        try:
            data = json.loads(body)
        except ValueError:
            return body
        if isinstance(data, dict) and isinstance(data.get("error"), str):
            data["error"] = stop_message(data["error"])
            return json.dumps(data).encode()
        return body
    return _STOP_IN_HTML.sub(lambda match: match.group(1).replace(b"&#39;&#39;", b"&#39;"), body)


def _canned_request(scope, queries) -> tuple[CannedQuery, dict, str, str | None] | None:
    match = _PATH.match(unquote(scope.get("path", "")))
    if not match:
        return None
    entry = queries.get(match["db"], {}).get(match["query"])
    return (*entry, match["db"], match["format"]) if entry else None


@hookimpl
def asgi_wrapper(datasette):
    state = {}

    def wrap(app):
        async def wrapped(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            if "queries" not in state:
                state["queries"] = _queries_by_database(datasette)
            found = _canned_request(scope, state["queries"])
            if found is None:
                return await app(scope, receive, send)
            query, absent, db_name, fmt = found
            if scope["method"] not in ("GET", "HEAD"):
                return await _error(send, 405, f"{query.name} is a read-only canned query: use GET", fmt,
                                    "Method not allowed")
            values = {key: items[-1] for key, items in parse_qs(scope.get("query_string", b"").decode(),
                                                                keep_blank_values=True).items()}
            problem = query.stop_text(values, absent)
            if problem and fmt:
                return await _error(send, 400, problem, fmt, "Invalid parameters")
            if fmt == ".csv":
                try:
                    await datasette.get_database(db_name).execute(
                        query.sql, {p.name: values.get(p.name, "") for p in query.params})
                except Exception as exc:  # noqa: BLE001 - any failure of the query is the user's answer
                    return await _error(send, 400, stop_message(" ".join(str(exc).split())), fmt, "Query failed")
                return await app(scope, receive, send)
            await _rewritten(app, scope, receive, send)

        return wrapped

    return wrap


async def _rewritten(app, scope, receive, send) -> None:
    """Run ``app`` and clean the body of its HTML/JSON response (Datasette sends those in one piece)."""
    start = None
    chunks: list[bytes] = []

    async def capture(message):
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
            return
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            content_type = dict(start["headers"]).get(b"content-type", b"").decode()
            body = _cleaned(b"".join(chunks), content_type)
            await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await send(message)

    await app(scope, receive, capture)
