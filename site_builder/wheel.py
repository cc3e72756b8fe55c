"""Build the helper's wheel for the static site's downloads/ folder, cached by a hash of its sources.

Only the files setuptools packs are hashed and built (``pyproject.toml``, the readme and the
package files that ``[tool.setuptools]`` selects), from a private copy of them: a concurrent edit,
a ``build/`` folder or ``node_modules`` in the work tree can neither change the wheel nor its hash.
Wheels are not byte-reproducible (zip timestamps), so reusing the cached file also keeps the
published sha256 stable while the sources do not change.
"""
from __future__ import annotations

import fnmatch
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CACHE_DIR = Path(tempfile.gettempdir()) / "nasbenchmark-wheel-cache"
#: Cache entries kept besides the current one (other checkouts may share the cache).
KEEP_CACHE_ENTRIES = 5


def build_wheel(out_dir: Path, cache_dir: Path | None = None, repo: Path = REPO) -> dict:
    """Put the wheel of ``repo`` into ``out_dir/downloads/`` and describe it for the site's pages.

    Returns ``{"filename", "url" (relative to the site root), "sha256", "size", "pip_line"}``.
    """
    cache_dir = Path(cache_dir or DEFAULT_CACHE_DIR)
    # Read once: the hash and the build see the same bytes even if someone saves a file meanwhile.
    snapshot = {relative: (repo / relative).read_bytes() for relative in package_sources(repo)}
    entry = cache_dir / source_hash(snapshot)[:20]
    cached = sorted(entry.glob("*.whl"))
    if not cached:
        cached = [_build_into_cache(repo, snapshot, entry)]
        _prune_cache(cache_dir, keep=entry)
    downloads = Path(out_dir) / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    published = Path(shutil.copy2(cached[0], downloads / cached[0].name))
    return {
        "filename": published.name,
        "url": f"downloads/{published.name}",
        "sha256": hashlib.sha256(published.read_bytes()).hexdigest(),
        "size": published.stat().st_size,
        # The site's absolute URL is unknown at build time: pip takes the downloaded file's name.
        "pip_line": f"pip install {published.name}",
    }


def package_sources(repo: Path) -> list[Path]:
    """Files setuptools puts into the wheel (a superset is fine: it only costs a rebuild), relative to repo."""
    config = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools_config = config.get("tool", {}).get("setuptools", {})
    include = setuptools_config.get("packages", {}).get("find", {}).get("include", ["*"])
    data_patterns = [pattern for patterns in setuptools_config.get("package-data", {}).values()
                     for pattern in patterns]
    files = [Path("pyproject.toml")]
    readme = config.get("project", {}).get("readme")
    if isinstance(readme, str):
        files.append(Path(readme))
    files.extend(path.relative_to(repo) for path in repo.glob("LICEN[CS]E*") if path.is_file())
    for top in sorted(repo.iterdir()):
        if top.is_dir() and any(fnmatch.fnmatch(top.name, pattern) for pattern in include):
            files.extend(_package_files(top, repo, ["*.py", *data_patterns]))
    return files


def _package_files(package: Path, repo: Path, patterns: list[str]) -> list[Path]:
    """The matching files of ``package`` and of its sub-packages (folders with ``__init__.py``)."""
    if not (package / "__init__.py").is_file():
        return []
    found = []
    for path in sorted(package.iterdir()):
        if path.is_dir():
            found.extend(_package_files(path, repo, patterns))
        elif any(fnmatch.fnmatch(path.name, pattern) for pattern in patterns):
            found.append(path.relative_to(repo))
    return found


def source_hash(snapshot: dict[Path, bytes]) -> str:
    """sha256 over the relative paths and contents of the packed files."""
    digest = hashlib.sha256()
    for relative, content in snapshot.items():
        digest.update(relative.as_posix().encode() + b"\0" + content + b"\0")
    return digest.hexdigest()


def _build_into_cache(repo: Path, snapshot: dict[Path, bytes], entry: Path) -> Path:
    entry.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=entry.parent, prefix=".build-") as scratch:
        source_copy, dist = Path(scratch) / "src", Path(scratch) / "dist"
        for relative, content in snapshot.items():
            (source_copy / relative).parent.mkdir(parents=True, exist_ok=True)
            (source_copy / relative).write_bytes(content)
        command = _build_command(source_copy, dist)
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0 or len(list(dist.glob("*.whl"))) != 1:
            log = entry.parent / "last-build-failure.log"
            log.write_text(f"$ {' '.join(command)}\n{result.stdout}\n{result.stderr}", encoding="utf-8")
            raise RuntimeError(f"building the wheel of {repo} failed (exit {result.returncode}); output in {log}")
        try:
            os.replace(dist, entry)
        except OSError:  # another build of the same sources finished first; its wheel is as good
            if not any(entry.glob("*.whl")):
                raise
    return sorted(entry.glob("*.whl"))[0]


def _build_command(source: Path, dist: Path) -> list[str]:
    """``python -m build`` (the ``site`` extra installs it), else pip, both in an isolated build env.

    Isolation installs ``[build-system] requires`` (setuptools>=68, wheel) from the package index;
    ``--no-build-isolation`` would use whatever the current environment has, which may lack both.
    """
    if importlib.util.find_spec("build") is not None:
        return [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(source)]
    return [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
            "--wheel-dir", str(dist), str(source)]


def _prune_cache(cache_dir: Path, keep: Path) -> None:
    entries = sorted((path for path in cache_dir.iterdir() if path.is_dir() and not path.name.startswith(".")),
                     key=lambda path: path.stat().st_mtime, reverse=True)
    for stale in [path for path in entries if path != keep][KEEP_CACHE_ENTRIES:]:
        shutil.rmtree(stale, ignore_errors=True)
