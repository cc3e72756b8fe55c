"""The site's browser libraries: installed by npm from ``site_builder/package-lock.json``, then copied
into the built site (never loaded from a CDN: the site works offline and on any static host)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

NPM_DIR = Path(__file__).resolve().parent
NODE_MODULES = NPM_DIR / "node_modules"

#: node_modules path -> path under the site's ``static/vendor/``.
VENDORED_FILES = {
    "sql.js-httpvfs/dist/index.js": "sql.js-httpvfs/index.js",
    "sql.js-httpvfs/dist/index.js.map": "sql.js-httpvfs/index.js.map",
    "sql.js-httpvfs/dist/sqlite.worker.js": "sql.js-httpvfs/sqlite.worker.js",
    "sql.js-httpvfs/dist/sqlite.worker.js.map": "sql.js-httpvfs/sqlite.worker.js.map",
    "sql.js-httpvfs/dist/sql-wasm.wasm": "sql.js-httpvfs/sql-wasm.wasm",
    "sql.js-httpvfs/LICENSE": "sql.js-httpvfs/LICENSE",
    "d3/dist/d3.min.js": "d3/d3.min.js",
    "d3/LICENSE": "d3/LICENSE",
    "@observablehq/plot/dist/plot.umd.min.js": "plot/plot.umd.min.js",
    "@observablehq/plot/LICENSE": "plot/LICENSE",
}


class VendorError(RuntimeError):
    """npm is missing or failed; the message says what to run."""


def ensure_node_modules(log=print) -> None:
    """Run ``npm ci`` in ``site_builder/`` when a vendored file is missing (first build, fresh clone)."""
    if all((NODE_MODULES / name).is_file() for name in VENDORED_FILES):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise VendorError("npm not found: install Node.js/npm (apt-get install npm), "
                          f"then run: npm ci --prefix {NPM_DIR}")
    log(f"installing the site's JavaScript dependencies: npm ci in {NPM_DIR}")
    result = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NPM_DIR,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise VendorError(f"npm ci failed in {NPM_DIR} (exit {result.returncode}): "
                          f"{(result.stderr or result.stdout).strip()[-2000:]}")
    missing = [name for name in VENDORED_FILES if not (NODE_MODULES / name).is_file()]
    if missing:
        raise VendorError(f"npm ci did not install {missing}; check {NPM_DIR / 'package.json'}")


def copy_vendored(static_dir: Path) -> list[Path]:
    """Copy the vendored files into ``static_dir/vendor``; returns the written paths."""
    written = []
    for source, target in VENDORED_FILES.items():
        destination = static_dir / "vendor" / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(NODE_MODULES / source, destination)
        written.append(destination)
    return written
