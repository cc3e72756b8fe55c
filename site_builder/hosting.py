"""The HTTP headers the built site needs, and the files that tell static hosts to send them.

One policy, used by the preview server (``site_builder.server``) and written for the hosts that read
a file from the published folder:

* DB chunks (``db/<key>-<16 hex>.sqlite3.NNN``, named after their content hash by ``browserdb``)
  never change under their name: cached for a year, ``immutable``, ``no-transform`` (a CDN must not
  compress them: the engine's Range offsets address the uncompressed bytes), CORS readable.
* Everything else (pages, scripts, the DB config JSON) is revalidated on every load (``no-cache``),
  so a rebuilt site is seen at once.

``write_host_files(out_dir)`` writes ``.nojekyll`` (GitHub Pages: publish files as they are) and
``_headers`` (Netlify and Cloudflare Pages). The hosting page (``templates/hosting.html``) gives the
same policy for S3/CloudFront, nginx and Caddy.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

#: A content-hashed DB chunk, relative to the site root (see ``browserdb._split`` for the naming).
CONTENT_HASHED_CHUNK = re.compile(r"^db/[A-Za-z0-9_.-]+-[0-9a-f]{16}\.sqlite3\.[0-9]+$")
IMMUTABLE = "public, max-age=31536000, immutable, no-transform"
REVALIDATE = "no-cache"
#: What a page on another origin needs to read the DB with Range requests.
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Range",
    "Access-Control-Expose-Headers": "Content-Range, Content-Length, Accept-Ranges",
}
NOJEKYLL = ".nojekyll"
HEADERS_FILE = "_headers"


def cache_control(relative_path: str) -> str:
    """The ``Cache-Control`` value for a file of the site, by its path relative to the site root."""
    return IMMUTABLE if CONTENT_HASHED_CHUNK.match(relative_path) else REVALIDATE


def _db_rules(db_dir: Path) -> list[tuple[str, dict[str, str]]]:
    """One rule for each DB's chunks (a terminal splat: the only wildcard every host accepts) and its config."""
    rules = []
    for config_path in sorted(db_dir.glob("*.json")):
        url_prefix = json.loads(config_path.read_text())["urlPrefix"]
        rules.append((f"/db/{url_prefix}*", {"Cache-Control": IMMUTABLE, "Content-Type": "application/octet-stream",
                                              **CORS_HEADERS}))
        rules.append((f"/db/{config_path.name}", {"Cache-Control": REVALIDATE, **CORS_HEADERS}))
    return rules


def _other_rules(out_dir: Path) -> list[tuple[str, dict[str, str]]]:
    """Revalidate everything outside ``db/``: one rule per top-level entry, so no rule overlaps a DB rule.

    Netlify and Cloudflare Pages join the values of a header set by several matching rules, which
    would turn ``/*`` plus a chunk rule into ``no-cache, ..., immutable``.
    """
    rules = [("/", {"Cache-Control": REVALIDATE})]
    for entry in sorted(out_dir.iterdir()):
        if entry.name == "db" or entry.name.startswith((".", "_")):
            continue
        pattern = f"/{entry.name}/*" if entry.is_dir() else f"/{entry.name}"
        rules.append((pattern, {"Cache-Control": REVALIDATE}))
    return rules


def headers_file_text(out_dir: Path) -> str:
    """The ``_headers`` file for the site built in ``out_dir`` (its DB configs name the chunk files)."""
    lines = ["# Netlify / Cloudflare Pages response headers, written by nasbenchmark build-site (see hosting.html).",
             "# DB chunks: content-hashed names, cached for good, never compressed; the rest revalidates."]
    for pattern, headers in _db_rules(out_dir / "db") + _other_rules(out_dir):
        lines.append(pattern)
        lines.extend(f"  {name}: {value}" for name, value in headers.items())
    return "\n".join(lines) + "\n"


def write_host_files(out_dir: Path | str) -> list[Path]:
    """Write ``.nojekyll`` and ``_headers`` into the built site ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    nojekyll = out_dir / NOJEKYLL
    nojekyll.write_text("")
    headers = out_dir / HEADERS_FILE
    headers.write_text(headers_file_text(out_dir))
    return [nojekyll, headers]
