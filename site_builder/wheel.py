"""Build the helper's wheel for the static site's downloads/ folder, cached by a hash of its sources.

The helper wheel holds the ``nasbenchmark`` package only (peewee at runtime): it is built from the
repository's ``pyproject.toml`` rewritten by ``helper_pyproject`` (no ``generators``/``site_builder``
packages, no source-checkout commands). Only the files setuptools packs are hashed and built, from a
private copy: a concurrent edit, a ``build/`` folder or ``node_modules`` in the work tree can neither
change the wheel nor its hash. Wheels are not byte-reproducible (zip timestamps), so reusing the
cached file also keeps the published sha256 stable while the sources do not change.
"""
from __future__ import annotations

import fnmatch
import hashlib
import importlib.util
import os
import re
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
    pyproject = helper_pyproject((repo / "pyproject.toml").read_text(encoding="utf-8"))
    snapshot = {relative: (repo / relative).read_bytes() for relative in package_sources(repo, pyproject)}
    snapshot[Path("pyproject.toml")] = pyproject.encode()
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


#: The repository's package selection and the helper wheel's (``helper_pyproject``).
_REPO_PACKAGES = 'include = ["nasbenchmark*", "generators*", "site_builder*"]'
_HELPER_PACKAGES = 'include = ["nasbenchmark*"]'
_COMMANDS_SECTION = re.compile(r'^\[project\.entry-points\."nasbenchmark\.commands"\]\n(?:[^\n\[]+\n)*\n?', re.M)


def helper_pyproject(text: str) -> str:
    """The repository's pyproject.toml for the helper wheel: the ``nasbenchmark`` package only and none
    of the source-checkout commands (``nasbenchmark.commands`` entry points). Raises if the layout it
    rewrites has changed, rather than publishing a wheel with the converters in it. Another project's
    pyproject (the tests build small ones) is returned unchanged."""
    if tomllib.loads(text).get("project", {}).get("name") != "nasbenchmark":
        return text
    if text.count(_REPO_PACKAGES) != 1 or len(_COMMANDS_SECTION.findall(text)) != 1:
        raise RuntimeError("pyproject.toml no longer has the package list or the nasbenchmark.commands entry points "
                           "that site_builder/wheel.py rewrites for the helper wheel; update helper_pyproject")
    return _COMMANDS_SECTION.sub("", text.replace(_REPO_PACKAGES, _HELPER_PACKAGES))


def package_sources(repo: Path, pyproject: str) -> list[Path]:
    """Files setuptools puts into the wheel (a superset is fine: it only costs a rebuild), relative to repo."""
    config = tomllib.loads(pyproject)
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
