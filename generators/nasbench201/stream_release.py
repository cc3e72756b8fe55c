"""A release read from one big pickle (the .pth files, the NATS single file), in a child process.

The child opens the file, streams ``arch2infos`` (``stream_unpickler``: marker mode for protocol-2
streams, batch mode otherwise or after a marker mismatch, re-reading the file and skipping the
entries already sent) and turns each architecture into rows; the parent only inserts them.
Unpickling plus row building and SQLite inserts then run on both cores (measured: the child alone
takes as long as the whole conversion in one process), the child's memory (mostly the
unpickler's memo array) is freed on exit, and its memory is limited (``child_process``).
"""
from __future__ import annotations

import bz2
import gc
import multiprocessing
import os
import pickle
import signal
import struct
import zipfile
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from generators.common import InputError
from generators.common.unpickle import restricted_load
from nasbenchmark.nasbench201.graph_util import arch_json, arch_str_to_dict

from .child_process import become_reader
from .entry_resolver import EntryResolver
from .entry_stream import EntryFinder, SplicedStream
from .pickle_head import scan_head
from .release import RELEASE_GLOBALS, Release, check_meta_archs
from .rows import ArchRows, arch_rows
from .stream_unpickler import BoundaryMismatch, StreamingUnpickler

#: torch's legacy serialization header (torch/serialization.py).
TORCH_MAGIC = 0x1950A86A20F9469CFC6C
TORCH_PROTOCOL_VERSION = 1001
_READ_BUFFER = 1 << 20
#: Architectures per message from the child (amortises pipe round trips).
_SEND_ARCHS = 8
#: Memory the reader child may use beyond what it has at start, besides the stream's size: the memo
#: array of a full release is ~1.4 GB (8 bytes per memo index, ~1 index per 28 bytes of stream).
_CHILD_MEMORY = 2 << 30
#: The NATS single file is read in batch mode: a SETITEMS batch of 1,000 architectures is alive at once
#: (~2.4 GB measured at 1,000 and 3,000 archs), whatever the compressed file's size.
_BATCH_MODE_MEMORY = 4 << 30


class _PickleStream:
    """The open pickle of one release file: where it starts and ends, what follows it, random access."""

    def __init__(self, file: IO[bytes], source: str, end: int | None,
                 after_load: Callable[[IO[bytes]], None] | None = None,
                 read_at: Callable[[int, int], bytes] | None = None,
                 check_on_error: Callable[[Path], None] | None = None):
        self.file, self.source, self.end, self.after_load = file, source, end, after_load
        self.read_at = read_at
        self.check_on_error = check_on_error

    def close(self) -> None:
        self.file.close()


def _read_at(file: IO[bytes]) -> Callable[[int, int], bytes]:
    descriptor = file.fileno()
    return lambda offset, size: os.pread(descriptor, size, offset)


def _open_pth_legacy(path: Path) -> _PickleStream:
    """torch's legacy format: magic, protocol version, sys_info, the object, storage keys."""
    source = str(path)
    file = open(path, "rb")
    try:
        magic = restricted_load(file, [], source)
        version = restricted_load(file, [], source)
        sys_info = restricted_load(file, [], source)
        if magic != TORCH_MAGIC or version != TORCH_PROTOCOL_VERSION:
            raise InputError(f"{source}: not a torch legacy file (magic {magic!r}, protocol {version!r})")
        if not isinstance(sys_info, dict) or not sys_info.get("little_endian", False):
            raise InputError(f"{source}: unsupported torch sys_info {sys_info!r} (expected little-endian)")
    except BaseException:
        file.close()
        raise

    def storage_keys(reader: IO[bytes]) -> None:
        if restricted_load(reader, [], source) != []:
            raise InputError(f"{source}: contains tensor storages; use the NAS-Bench-201 .pth (weights cleared)")

    return _PickleStream(file, source, path.stat().st_size, storage_keys, _read_at(file))


_LOCAL_HEADER = struct.Struct("<4s22xHH")


def _open_pth_zip(path: Path) -> _PickleStream:
    """torch's zip container: ``<name>/data.pkl`` is stored uncompressed, so it is read in place."""
    source = str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = [info for info in archive.infolist()
                       if info.filename == "data.pkl" or info.filename.endswith("/data.pkl")]
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{source}: not a valid zip file ({exc}); download the file again") from None
    if len(members) != 1:
        raise InputError(f"{source}: a torch zip file holds exactly one <name>/data.pkl; found "
                         f"{[m.filename for m in members] or 'none'} (is this a torch checkpoint?)")
    member = members[0]
    if member.compress_type != zipfile.ZIP_STORED:
        raise InputError(f"{source}: {member.filename} is compressed, torch.save stores it; not a torch file")
    file = open(path, "rb")
    file.seek(member.header_offset)
    magic, name_length, extra_length = _LOCAL_HEADER.unpack(file.read(_LOCAL_HEADER.size))
    if magic != b"PK\x03\x04":
        file.close()
        raise InputError(f"{source}: damaged zip entry {member.filename}; download the file again")
    start = member.header_offset + _LOCAL_HEADER.size + name_length + extra_length
    file.seek(start)
    return _PickleStream(file, f"{source}:{member.filename}", start + member.file_size, read_at=_read_at(file))


def _open_nats_single(path: Path) -> _PickleStream:
    # bz2 does not record the decompressed size (no memo pre-sizing) and cannot be read at an offset.
    return _PickleStream(bz2.open(path, "rb"), str(path), None, check_on_error=_check_bz2)


#: Release pickles compress about 5:1 with bz2; a file that expands far more is a bomb, not worth reading on.
_MAX_BZ2_RATIO = 100


def _check_bz2(path: Path) -> None:
    """A corrupt bz2 block can yield garbage before its CRC fails: on an unpickling error, tell them apart
    (reading at most ``_MAX_BZ2_RATIO`` times the file's size)."""
    budget = path.stat().st_size * _MAX_BZ2_RATIO
    with bz2.open(path, "rb") as f:
        while f.read(_READ_BUFFER * 16):
            if f.tell() > budget:
                raise InputError(f"{path}: decompresses to more than {_MAX_BZ2_RATIO} times its size, far more "
                                 "than a release file; not an original release file")


OPENERS = {"pth-legacy": _open_pth_legacy, "pth-zip": _open_pth_zip, "nats-single": _open_nats_single}


class _Producer:
    """Runs in the child: stream the pickle and send ("meta", archs), ("rows", [...])..., ("done", None)."""

    def __init__(self, conn, path: Path, fmt: str):
        self.conn = conn
        self.path = path
        self.fmt = fmt
        self.stream = OPENERS[fmt](path)
        self.source = self.stream.source
        self.arch_strings: list[str] = []
        self.arch_jsons: list[str] = []
        self.pending: list[ArchRows] = []
        self.sent: set[int] = set()
        self.markers_made = False
        self.read_mode = ""        # "markers" or "batch": how the last read went (see stream_unpickler)
        self.slow_reads = 0        # entries read again to resolve references to earlier ones

    def run(self) -> None:
        try:
            self._read(markers=True)
        except Exception as exc:  # noqa: BLE001 - a marker may have made any error; batch mode decides
            if not isinstance(exc, BoundaryMismatch) and not self.markers_made:
                raise
            # Read again without markers; entries already sent are skipped.
            self.stream.close()
            self.stream = OPENERS[self.fmt](self.path)
            self._read(markers=False)
        self.flush()
        self.conn.send(("done", None))

    def _read(self, markers: bool) -> None:
        stream = self.stream
        start = stream.file.tell()
        head = scan_head(stream.file, self.source)
        stream.file.seek(start)
        unpickler = None
        finder = resolver = None
        if markers and head.protocol == 2 and stream.read_at:
            finder = EntryFinder(head.arch2infos_offset, lambda: len(self.arch_strings) or 1 << 16,
                                 lambda *found: unpickler.marker(*found))
            resolver = EntryResolver(stream.read_at, self.source, RELEASE_GLOBALS)
        spliced = SplicedStream(stream.file, start, finder=finder, source=self.source)
        unpickler = StreamingUnpickler(spliced, self.source, head, self.on_item, resolver, stream.end)
        unpickler.on_meta = self.on_meta
        injection = unpickler.injection()
        edits = [(head.arch2infos_offset, 1, (injection,))]
        if head.frame:
            frame_at, frame_length = head.frame
            edits.append((frame_at + 1, 8, (struct.pack("<Q", frame_length + len(injection) - 1),)))
        spliced.edits = sorted(edits)
        try:
            top = unpickler.load()
            unpickler.check_markers_done()
        finally:
            self.markers_made = bool(unpickler.marker_keys)
            self.slow_reads += unpickler.slow_reads
        self.read_mode = "markers" if self.markers_made else "batch"
        if not isinstance(top, dict) or top.get("arch2infos") is not unpickler.arch2infos:
            raise InputError(f"{self.source}: unexpected top-level layout; not a NAS-Bench-201 / NATS-tss release")
        if stream.after_load:
            stream.after_load(spliced)

    def on_meta(self, meta_archs: Any) -> None:
        if self.arch_strings:
            return          # a second read (batch mode) of the same file
        if meta_archs is None:
            raise InputError(f"{self.source}: 'meta_archs' must come before 'arch2infos' in the top-level dict")
        self.arch_strings = check_meta_archs(meta_archs, self.source)
        try:
            self.arch_jsons = [arch_json(arch_str_to_dict(arch_str)) for arch_str in self.arch_strings]
        except ValueError as exc:
            raise InputError(f"{self.source}: meta_archs: {exc}") from None
        self.conn.send(("meta", self.arch_strings))

    def on_item(self, key: Any, hp_results: Any) -> None:
        if type(key) is not int or not 0 <= key < len(self.arch_strings):
            raise InputError(f"{self.source}: arch2infos key {key!r} is not an index into meta_archs "
                             f"(0..{len(self.arch_strings) - 1})")
        if key in self.sent:
            return
        self.pending.append(arch_rows(key, self.arch_strings[key], self.arch_jsons[key], hp_results, self.source))
        self.sent.add(key)
        if len(self.pending) >= _SEND_ARCHS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.conn.send(("rows", self.pending))
            self.pending = []


def _produce(conn, path: str, fmt: str, parent_pid: int) -> None:
    """Child process entry point: every failure goes to the parent as one line."""
    become_reader(parent_pid, (_BATCH_MODE_MEMORY if fmt == "nats-single" else _CHILD_MEMORY) + Path(path).stat().st_size)
    gc.disable()    # see convert.gc_paused; this process only unpickles
    producer = None
    try:
        producer = _Producer(conn, Path(path), fmt)
        producer.run()
    except BrokenPipeError:
        return          # the parent stopped reading: it is ending, and says why itself
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        source = producer.source if producer else path
        if producer and producer.stream.check_on_error and not isinstance(exc, InputError):
            try:
                producer.stream.check_on_error(Path(path))
            except (InputError, OSError, EOFError, ValueError) as corrupt:
                exc = corrupt
        try:
            conn.send(("error", str(describe_load_error(exc, source))))
        except OSError:
            pass
    finally:
        if producer:
            producer.stream.close()
        conn.close()


class StreamedRelease(Release):
    def __init__(self, path: Path, fmt: str):
        self.input_format = fmt
        self.path = path
        context = multiprocessing.get_context()
        self.conn, child_conn = context.Pipe(duplex=False)
        self.process = context.Process(target=_produce, args=(child_conn, str(path), fmt, os.getpid()),
                                       name=f"nb201 {fmt} reader", daemon=True)
        self.process.start()
        child_conn.close()
        try:
            self.arch_strings = self._receive("meta")
        except BaseException:
            self.close()
            raise
        self.expected_archs = len(self.arch_strings)

    @property
    def sources(self) -> list[Path]:
        return [self.path]

    def _receive(self, expected: str) -> Any:
        try:
            kind, payload = self.conn.recv()
        except EOFError:
            self.process.join(5)
            code = self.process.exitcode
            how = f"was killed by {signal.Signals(-code).name}" if code and code < 0 else f"ended (exit code {code})"
            raise InputError(f"{self.path}: the reader process {how} while reading it: a damaged or hostile "
                             "file (or the machine ran out of memory); check that this is the original release file"
                             ) from None
        if kind == "error":
            raise InputError(payload)
        if kind != expected and not (expected == "rows" and kind == "done"):
            raise InputError(f"{self.path}: reader sent {kind!r} before {expected!r}")
        return payload if kind != "done" else None

    def rows(self, arch_jsons: list[str]) -> Iterator[ArchRows]:
        while True:
            batch = self._receive("rows")
            if batch is None:
                return
            yield from batch

    def close(self) -> None:
        self.conn.close()
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()


def describe_load_error(exc: BaseException, source: str) -> InputError:
    """One-line InputError for whatever went wrong while unpickling ``source``."""
    if isinstance(exc, InputError):
        return exc
    if isinstance(exc, pickle.UnpicklingError) and "Memo value not found" in str(exc):
        return InputError(f"{source}: an architecture references an object of an architecture in an earlier "
                          f"1,000-item batch ({exc}); this protocol-4 layout is read in batches, which keep "
                          "only names across batches: please report this file")
    if isinstance(exc, MemoryError):
        return InputError(f"{source}: reading it needs more memory than a release file of its size can "
                          "(a damaged or hostile pickle); download the file again")
    if isinstance(exc, EOFError) or (isinstance(exc, pickle.UnpicklingError) and "truncated" in str(exc)):
        return InputError(f"{source}: truncated (the pickle ends early); download the file again")
    if isinstance(exc, zipfile.BadZipFile) or (isinstance(exc, OSError) and "Invalid data stream" in str(exc)):
        return InputError(f"{source}: corrupt compressed data ({exc}); download the file again")
    detail = " ".join(str(exc).split())[:200]
    return InputError(f"{source}: not a valid release pickle ({type(exc).__name__}: {detail}); "
                      "check that this is the original release file")
