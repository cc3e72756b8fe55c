"""Read the NDS release: the 34 JSON files of ``data.zip``, from the zip itself or extracted, streamed.

``open_release(path)`` accepts ``data.zip``, the folder of 34 JSON files, a folder holding them in
``nds_data/`` (what ``unzip data.zip`` makes) or a folder holding ``data.zip``. Every file must be
one of the 34 names of ``nasbenchmark.nds.constants.SWEEP_FILES``; each must be there once.

``Release.records()`` yields every job record as a ``JobRecord``, file by file in NNI's order. A
file is never loaded whole (the real ones are up to a few hundred MB): its bytes are read in 1 MiB
chunks and each record is decoded on its own by the standard library's C decoder, so memory
holds one chunk and one record. Every file is a JSON list of records, except that a
``*_reruns.json`` file may be a ``{"top": [...], "mid": [...]}`` dict (its top- and mid-ranked
models re-trained with several seeds). The release was written by Python's ``json``, which spells
non-finite floats as bare ``NaN`` / ``Infinity`` / ``-Infinity``: those decode to ``None``, never
to a float NaN.

Bounds (``Limits``): bytes per file and in total (a zip member's declared size is checked before
inflating it, and the inflated bytes are counted, since the header may lie), the zip's compression
ratio (a zip bomb inflates a thousandfold; JSON of floats about fivefold), characters per record,
and nesting (the C decoder raises ``RecursionError`` past Python's recursion limit, reported as
too deep). Any violation, malformed JSON or an unexpected file raises ``InputError`` naming the
file, the record index and the fix.
"""
from __future__ import annotations

import codecs
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Callable, Iterator, NamedTuple, Optional

from generators.common import InputError
from nasbenchmark.nds.constants import SWEEP_FILES

RELEASE_FOLDER = "nds_data"
RELEASE_ZIP = "data.zip"
RERUN_GROUPS = ("top", "mid")
_CHUNK_BYTES = 1 << 20
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_MIB = 1 << 20
_REFETCH_HINT = "re-download data.zip from dl.fbaipublicfiles.com/nds/ and extract it again"


@dataclass(frozen=True)
class Limits:
    """What one release may hold; far above the real files, far below what would exhaust the machine."""
    #: Bytes of one JSON file once inflated (the largest real file is a few hundred MB).
    max_file_bytes: int = 2 << 30
    #: Bytes of all 34 files together.
    max_total_bytes: int = 16 << 30
    #: Inflated / compressed size of a zip member.
    max_compression_ratio: float = 100.0
    #: Characters of one job record (a real one is about 10 KB).
    max_record_chars: int = 8 * _MIB
    #: Entries in the zip's central directory (the release has 34 files and a folder).
    max_zip_members: int = 1000


class JobRecord(NamedTuple):
    """One job record as decoded, with where it came from."""
    file: str              # release file name, e.g. "ResNet_rng1.json"
    index: int             # position in its list (in ``group``'s list for a reruns dict)
    group: Optional[str]   # "top" / "mid" in a ``{top, mid}`` reruns file, else None
    data: dict

    @property
    def where(self) -> str:
        """The record's place for messages: ``ResNet_reruns.json: top record 3``."""
        group = f"{self.group} " if self.group else ""
        return f"{self.file}: {group}record {self.index}"


@dataclass(frozen=True)
class SweepSource:
    """One of the 34 files: a file in a folder or a member of the zip."""
    name: str
    location: str                                 # path, or "data.zip:nds_data/Amoeba.json"
    size: int                                     # bytes once inflated
    path: Optional[Path] = None
    member: Optional[zipfile.ZipInfo] = None


@dataclass(frozen=True)
class Release:
    """The release found at ``path``: its 34 files in NNI's order, not yet read."""
    path: Path
    zip_path: Optional[Path]
    sources: tuple[SweepSource, ...]
    limits: Limits

    @property
    def total_bytes(self) -> int:
        return sum(source.size for source in self.sources)

    def records(self, progress: Optional[Callable[[int], None]] = None) -> Iterator[JobRecord]:
        """Every job record, file by file; ``progress(n)`` is called with each chunk's byte count."""
        if self.zip_path is None:
            for source in self.sources:
                with _open_file(source) as raw:
                    yield from _file_records(source, raw, self.limits, progress)
            return
        with _open_zip(self.zip_path) as archive:
            for source in self.sources:
                with _open_member(archive, source) as raw:
                    yield from _file_records(source, raw, self.limits, progress)


def open_release(path, limits: Limits = Limits()) -> Release:
    """Find the 34 files at ``path`` (zip or folder, see the module doc) and check their sizes."""
    path = Path(path).expanduser()
    if path.is_dir():
        if any((path / name).is_file() for name in SWEEP_FILES):
            return _folder_release(path, limits)
        if (path / RELEASE_FOLDER).is_dir():
            return _folder_release(path / RELEASE_FOLDER, limits)
        if (path / RELEASE_ZIP).is_file():
            return _zip_release(path / RELEASE_ZIP, limits)
        raise InputError(f"{path}: no NDS files here (expected the 34 JSON files such as Amoeba.json, an "
                         f"{RELEASE_FOLDER}/ folder holding them, or {RELEASE_ZIP}); pass data.zip or the "
                         "folder it extracts to")
    if path.is_file():
        if zipfile.is_zipfile(path):
            return _zip_release(path, limits)
        raise InputError(f"{path}: not a zip file; pass the NDS data.zip itself or the folder it extracts to "
                         "(one JSON file alone is not a release)")
    raise InputError(f"{path}: no such file or folder; pass the NDS data.zip or the folder it extracts to")


def _folder_release(folder: Path, limits: Limits) -> Release:
    found: dict[str, SweepSource] = {}
    for path in sorted(folder.iterdir()):
        # Hidden files (macOS "._Amoeba.json" metadata, editors' backups) are not part of the release.
        if path.suffix != ".json" or path.name.startswith(".") or not path.is_file():
            continue
        _check_name(path.name, str(path))
        found[path.name] = SweepSource(path.name, str(path), path.stat().st_size, path=path)
    return _release(folder, None, found, limits)


def _zip_release(zip_path: Path, limits: Limits) -> Release:
    found: dict[str, SweepSource] = {}
    with _open_zip(zip_path) as archive:
        members = archive.infolist()
        if len(members) > limits.max_zip_members:
            raise InputError(f"{zip_path}: {len(members):,} zip entries, more than the "
                             f"{limits.max_zip_members:,} a release may have (it has 34 files); not the NDS data.zip")
        for member in members:
            parts = PurePosixPath(member.filename).parts
            # Directories and macOS archive metadata (__MACOSX/, ._*) are not data.
            if member.is_dir() or not parts or parts[0] == "__MACOSX" or parts[-1].startswith("._"):
                continue
            location = f"{zip_path}:{member.filename}"
            if len(parts) > 2:
                raise InputError(f"{location}: nested {len(parts) - 1} folders deep; data.zip holds its JSON "
                                 f"files at the top or in {RELEASE_FOLDER}/; {_REFETCH_HINT}")
            name = parts[-1]
            _check_name(name, location)
            if name in found:
                raise InputError(f"{location}: {name} is in the zip twice (also {found[name].location}); "
                                 "keep one copy")
            if member.flag_bits & 0x1:
                raise InputError(f"{location}: encrypted zip member; the release is not encrypted, {_REFETCH_HINT}")
            _check_size(location, member.file_size, limits)
            ratio = member.file_size / max(member.compress_size, 1)
            if ratio > limits.max_compression_ratio:
                raise InputError(f"{location}: inflates {ratio:,.0f}-fold ({member.compress_size:,} -> "
                                 f"{member.file_size:,} bytes), more than the {limits.max_compression_ratio:,.0f}-fold "
                                 f"JSON allows (a zip bomb?); {_REFETCH_HINT}")
            found[name] = SweepSource(name, location, member.file_size, member=member)
    return _release(zip_path, zip_path, found, limits)


def _check_name(name: str, location: str) -> None:
    if name not in SWEEP_FILES:
        raise InputError(f"{location}: {name!r} is not one of the 34 files of the NDS release "
                         f"({', '.join(list(SWEEP_FILES)[:3])}, ...); remove it or restore its original name")


def _check_size(location: str, size: int, limits: Limits) -> None:
    if size > limits.max_file_bytes:
        raise InputError(f"{location}: {size:,} bytes, more than the {limits.max_file_bytes:,} one release file "
                         f"may hold (the largest real one is a few hundred MB); {_REFETCH_HINT}")


def _release(path: Path, zip_path: Optional[Path], found: dict, limits: Limits) -> Release:
    missing = [name for name in SWEEP_FILES if name not in found]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise InputError(f"{path}: {len(missing)} of the 34 NDS files missing ({shown}); {_REFETCH_HINT}")
    if zip_path is None:
        for source in found.values():
            _check_size(source.location, source.size, limits)
    release = Release(path, zip_path, tuple(found[name] for name in SWEEP_FILES), limits)
    if release.total_bytes > limits.max_total_bytes:
        raise InputError(f"{path}: {release.total_bytes:,} bytes in the 34 files, more than the "
                         f"{limits.max_total_bytes:,} the release may hold; {_REFETCH_HINT}")
    return release


def _open_zip(zip_path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{zip_path}: unreadable zip ({exc}); {_REFETCH_HINT}") from None


def _open_file(source: SweepSource) -> IO[bytes]:
    try:
        return open(source.path, "rb")
    except OSError as exc:
        raise InputError(f"{source.location}: cannot open ({exc.strerror})") from None


def _open_member(archive: zipfile.ZipFile, source: SweepSource) -> IO[bytes]:
    try:
        return archive.open(source.member)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as exc:
        raise InputError(f"{source.location}: cannot inflate ({exc}); {_REFETCH_HINT}") from None


def _nonfinite_to_none(_token: str) -> None:
    return None


# One decoder for every file: parse_constant turns NaN / Infinity / -Infinity into None.
_DECODER = json.JSONDecoder(parse_constant=_nonfinite_to_none)


class _ValueStream:
    """Top-level JSON tokens of one file, decoded one value at a time from a bounded byte stream."""

    def __init__(self, source: SweepSource, raw: IO[bytes], limits: Limits,
                 progress: Optional[Callable[[int], None]]):
        self._source = source
        self._raw = raw
        self._max_bytes = min(source.size, limits.max_file_bytes)
        self._max_value_chars = limits.max_record_chars
        self._progress = progress
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._buffer = ""
        self._pos = 0
        self._offset = 0          # characters of the file before ``_buffer[0]``
        self._bytes_read = 0
        self.eof = False

    def _fill(self, wanted: int = _CHUNK_BYTES) -> bool:
        """Append at least one chunk of text; False at the end of the file."""
        if self.eof:
            return False
        try:
            data = self._raw.read(max(wanted, _CHUNK_BYTES))
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise InputError(f"{self._source.location}: damaged ({exc}); {_REFETCH_HINT}") from None
        self._bytes_read += len(data)
        if self._bytes_read > self._max_bytes:
            raise InputError(f"{self._source.location}: holds more than the {self._max_bytes:,} bytes its size "
                             f"says (or than a release file may hold); {_REFETCH_HINT}")
        if self._progress is not None and data:
            self._progress(len(data))
        try:
            text = self._utf8.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise InputError(f"{self._source.location}: not UTF-8 text near byte "
                             f"{self._bytes_read - len(data) + exc.start:,}; not a JSON file of the release") from None
        if not data:
            self.eof = True
        # Drop what was consumed so the buffer holds about one chunk plus the current value.
        self._offset += self._pos
        self._buffer = self._buffer[self._pos:] + text
        self._pos = 0
        return bool(data)

    def peek(self) -> str:
        """The next non-whitespace character, not consumed; "" at the end of the file."""
        while True:
            self._pos = _WHITESPACE.match(self._buffer, self._pos).end()
            if self._pos < len(self._buffer):
                return self._buffer[self._pos]
            if not self._fill():
                return ""

    def expect(self, allowed: str, where: str, what: str) -> str:
        char = self.peek()
        if not char or char not in allowed:
            found = repr(char) if char else "the end of the file"
            raise InputError(f"{where}: expected {what}, found {found} at character {self.position:,}; "
                             f"the file is truncated or not from the release, {_REFETCH_HINT}")
        self._pos += 1
        return char

    @property
    def position(self) -> int:
        return self._offset + self._pos

    def value(self, where: str):
        """Decode the JSON value that starts here, reading more text until it is complete."""
        self.peek()  # raw_decode does not skip leading whitespace
        while True:
            start = self._pos
            try:
                value, end = _DECODER.raw_decode(self._buffer, start)
            except json.JSONDecodeError as exc:
                if self.eof or len(self._buffer) - start > self._max_value_chars:
                    raise InputError(f"{where}: malformed JSON at character {self._offset + exc.pos:,} "
                                     f"({exc.msg}); the file is damaged or truncated, {_REFETCH_HINT}") from None
                self._fill(len(self._buffer) - start)
                continue
            except RecursionError:
                raise InputError(f"{where}: JSON nested too deeply (a job record is 5 levels deep); "
                                 f"not a record of the release, {_REFETCH_HINT}") from None
            if end - start > self._max_value_chars:
                raise InputError(f"{where}: {end - start:,} characters, more than the {self._max_value_chars:,} a "
                                 f"job record may have (real ones are about 10 KB); {_REFETCH_HINT}")
            # A number ending exactly at the buffer's end may continue in the next chunk.
            if end == len(self._buffer) and not self.eof:
                self._fill()
                continue
            self._pos = end
            return value


def _file_records(source: SweepSource, raw: IO[bytes], limits: Limits,
                  progress: Optional[Callable[[int], None]]) -> Iterator[JobRecord]:
    stream = _ValueStream(source, raw, limits, progress)
    reruns = source.name.endswith("_reruns.json")
    shape = 'a list of job records or a {"top": [...], "mid": [...]} dict' if reruns else "a list of job records"
    first = stream.peek()
    if first == "[":
        yield from _list_records(stream, source, None)
    elif first == "{" and reruns:
        yield from _rerun_records(stream, source)
    else:
        found = repr(first) if first else "an empty file"
        raise InputError(f"{source.location}: expected {shape}, found {found}; not a file of the release, "
                         f"{_REFETCH_HINT}")
    if stream.peek():
        raise InputError(f"{source.location}: unexpected data after the end of the JSON at character "
                         f"{stream.position:,}; {_REFETCH_HINT}")


def _list_records(stream: _ValueStream, source: SweepSource, group: Optional[str]) -> Iterator[JobRecord]:
    label = f"{source.location}: " + (f"{group!r} list" if group else "list")
    stream.expect("[", label, "'['")
    if stream.peek() == "]":
        stream.expect("]", label, "']'")
        return
    index = 0
    while True:
        record = JobRecord(source.name, index, group, None)
        data = stream.value(record.where)
        if not isinstance(data, dict):
            raise InputError(f"{record.where}: a job record must be a JSON object, got {type(data).__name__}; "
                             f"not a file of the release, {_REFETCH_HINT}")
        yield record._replace(data=data)
        if stream.expect(",]", record.where, "',' or ']' after the record") == "]":
            return
        index += 1


def _rerun_records(stream: _ValueStream, source: SweepSource) -> Iterator[JobRecord]:
    stream.expect("{", source.location, "'{'")
    seen: list[str] = []
    while True:
        key = stream.value(f"{source.location}: key after {seen[-1]!r}" if seen else f"{source.location}: first key")
        if key not in RERUN_GROUPS or key in seen:
            problem = "twice" if key in seen else "unknown"
            raise InputError(f"{source.location}: key {key!r} {problem}; a reruns file is a dict with exactly the "
                             f"keys {list(RERUN_GROUPS)} (each a list of job records)")
        seen.append(key)
        stream.expect(":", f"{source.location}: key {key!r}", "':'")
        yield from _list_records(stream, source, key)
        if stream.expect(",}", f"{source.location}: after the {key!r} list", "',' or '}'") == "}":
            break
    if sorted(seen) != sorted(RERUN_GROUPS):
        raise InputError(f"{source.location}: has only {seen}; a reruns dict has both {list(RERUN_GROUPS)} lists, "
                         f"{_REFETCH_HINT}")
