"""Stream ``arch2infos`` out of one huge release pickle with the C unpickler, one architecture at a time.

A plain ``pickle.load`` of the 4.7 GB NB201 .pth builds every architecture before returning
(tens of GB). Instead:

1. ``pickle_head.scan_head`` finds the ``EMPTY_DICT`` opcode that creates ``arch2infos``; it is
   replaced by a call of a private global that returns a ``StreamingDict``, whose ``__setitem__``
   (the C unpickler's SETITEMS calls it) hands each (arch index, results) pair over.
2. Marker mode (protocol-2 streams, the .pth files): ``entry_stream.EntryFinder`` finds where
   each entry starts and a *marker* is spliced in there: ``SETITEMS; MARK`` (hand over the entry
   just finished) and a call ``boundary(serial, key)``. Markers are validated as they execute
   (serials in order, exactly the one announced entry between two markers); a marker found inside
   other data cannot pass, and an entry is used only after it has passed. On any mismatch the
   caller reads the stream again in batch mode (``BoundaryMismatch``).
3. After each marker, every memo slot the finished entry used is overwritten with a *tombstone*
   (one private object), which frees the entry. A later entry may still reference one of those
   objects (a pickler memoizes every str, tuple, dict and list, and shares whatever the writer
   shared: interned names, or whole sub-objects of a ``copy.deepcopy``). Such an entry then holds a
   tombstone, which the next marker sees at no cost per object: the tombstone's reference count
   exceeds the slots holding it (and the release's global stand-ins count any tombstone passed
   to them). That entry is then read again from the file by ``entry_resolver.EntryResolver``
   with the pure-Python unpickler, resolving each tombstoned reference from the entry that
   defined it; the objects learned that way are put back into the C memo, so each shared object
   costs one slow read and later entries reference it at full speed.
4. CPython keeps one 8-byte slot per memo index and doubles the array past its end; the array is
   sized once from the indices per byte seen so far, so it does not overshoot by up to 2x.

Batch mode (protocol 4, the NATS single file, whose MEMOIZE indices are implicit): SETITEMS hands
over up to 1,000 entries at once, and the memo is replaced per batch by the head, the globals and
short names; a reference to anything else stops with an ``InputError`` that names the cause.
"""
from __future__ import annotations

import io
import pickle
import secrets
import struct
import sys
from typing import IO, Any, Callable

from generators.common import InputError
from generators.common.unpickle import NumpyDType, RestrictedUnpickler

from .entry_resolver import EntryResolver
from .entry_stream import Edit
from .pickle_head import HeadInfo
from .release import RELEASE_GLOBALS

#: CPython's picklers write dict items in SETITEMS batches of this size.
PICKLER_BATCH = 1000
#: Markers between two estimates of the memo array's final size.
PRESIZE_EVERY = 1000
#: Longest string batch mode keeps across batches (names, not per-epoch keys like 'x-valid@199').
_BATCH_KEPT_STRING = 32

_PACK_I = struct.Struct("<I").pack
_PACK_i = struct.Struct("<i").pack


class BoundaryMismatch(Exception):
    """A marker did not validate: read the stream again in batch mode."""


class Tombstone:
    """Stands in a freed memo slot. Anything built from it holds it; any call, mutation or state
    given to it is counted in ``hits``, so a value that used a freed object is always found."""

    __slots__ = ("hits",)

    def __init__(self):
        self.hits = 0

    def _hit(self, *args, **kwargs):
        self.hits += 1
        return self

    __call__ = __setitem__ = __setstate__ = append = extend = add = _hit


def _counting_tombstones(function: Callable, tombstone: Tombstone) -> Callable:
    """``function`` (a release global's stand-in) that passes a tombstone argument through as its result."""
    def stand_in(*args):
        if tombstone in args:
            tombstone.hits += 1
            return tombstone
        return function(*args)
    return stand_in


class StreamingDict(dict):
    """Stands in for ``arch2infos``: hands each item to ``on_item`` and keeps nothing."""

    def __init__(self, on_item: Callable[[Any, Any], None]):
        super().__init__()
        self.on_item = on_item

    def __setitem__(self, key, value) -> None:
        self.on_item(key, value)


def memo_proxy(entries: dict[int, Any]):
    """An unpickler memo holding exactly ``entries``, to assign to ``Unpickler.memo``.

    Assigning a dict to ``Unpickler.memo`` loses the entries in CPython 3.11 (it fills the old
    memo, then swaps in an empty one), so a scratch unpickler loads a tiny pickle that fetches
    each object through ``persistent_load`` and stores it at its index; assigning that
    unpickler's memo proxy copies it over (and keeps the unpickler's count for MEMOIZE).
    """
    objects = list(entries.values())
    program = bytearray(b"\x80\x02")
    for position, index in enumerate(entries):
        program += b"J" + _PACK_i(position) + b"Q" + b"r" + _PACK_I(index) + b"0"
    program += b"N."
    scratch = pickle.Unpickler(io.BytesIO(bytes(program)))
    scratch.persistent_load = objects.__getitem__
    scratch.load()
    return scratch.memo


def _puts(indices: range) -> bytes:
    """LONG_BINPUT of the stack top into every index of ``indices`` (built with slice copies, not a loop)."""
    data = bytearray(5 * len(indices))
    data[0::5] = b"r" * len(indices)
    packed = struct.pack(f"<{len(indices)}I", *indices)
    for byte in range(4):
        data[1 + byte::5] = packed[byte::4]
    return bytes(data)


class StreamingUnpickler(RestrictedUnpickler):
    """The restricted C unpickler with the private globals behind ``arch2infos``, the markers and the
    tombstones (see the module docstring).

    ``on_item(key, value)`` receives every validated entry; ``resolver`` re-reads entries from the
    file (marker mode); ``stream_end`` (file offset where the pickle ends, when known) sizes the memo
    array once.
    """

    def __init__(self, file: IO[bytes], source: str, head: HeadInfo, on_item: Callable[[Any, Any], None],
                 resolver: EntryResolver | None = None, stream_end: int | None = None):
        super().__init__(file, RELEASE_GLOBALS, source)
        self.head = head
        self.token = f"nasbenchmark_{secrets.token_hex(8)}"
        self.arch2infos = StreamingDict(self._on_item)
        self.on_item = on_item
        self.on_meta: Callable[[Any], None] | None = None
        self.resolver = resolver
        self.stream_end = stream_end
        self.tombstone = Tombstone()
        self.allowed = {key: _counting_tombstones(value, self.tombstone) for key, value in self.allowed.items()}
        self.tombstone_refs = sys.getrefcount(self.tombstone)
        self.tombstoned = 0                     # memo slots holding the tombstone
        self.hits_seen = 0
        self.memo_target = 0                    # memo array size asked for (indices)
        self.presized = False
        self.marker_offsets: list[int] = []     # stream offset of each marker's entry
        self.marker_keys: list[int] = []        # key announced by each marker
        self.marker_memo: list[int] = []        # memo index of each marker's entry value
        self.markers_run = 0
        self.slow_reads = 0
        self.pending: list[tuple[Any, Any]] = []
        self.restoring: list[Any] | None = None
        self.batch_kept: dict[int, Any] | None = None
        self.items = 0

    # -- bytes spliced into the stream --------------------------------------------------------
    def _call(self, name: str, *ints: int) -> bytes:
        """Opcodes calling our private global ``name`` with int arguments; leaves its result on the stack."""
        args = b"".join(b"J" + _PACK_i(value) for value in ints)
        tuple_op = {0: b")", 1: b"\x85", 2: b"\x86"}[len(ints)]
        return f"c{self.token}\n{name}\n".encode() + args + tuple_op + b"R"

    def injection(self) -> bytes:
        """Replaces arch2infos's EMPTY_DICT."""
        return self._call("arch2infos")

    def marker(self, offset: int, key: int, memo_index: int) -> Edit:
        """The edit before each arch2infos entry at stream ``offset`` (made by ``EntryFinder``):
        ``memo_index`` is where the entry's value is memoized (memo indices grow with the stream)."""
        serial = len(self.marker_keys)
        if memo_index > offset:
            raise InputError(f"{self.source}: memo index {memo_index:,} at byte {offset:,} is impossible "
                             "(at most one per byte); the file is damaged, download it again")
        self.marker_offsets.append(offset)
        self.marker_keys.append(key)
        self.marker_memo.append(memo_index)
        if self.resolver:
            self.resolver.add_entry(offset, memo_index)
        handover = b"u(" + self._call("boundary", serial, key) + b"0"
        return offset, 0, (handover, lambda: self._after_boundary(serial, offset, memo_index))

    def _after_boundary(self, serial: int, offset: int, memo_index: int) -> bytes:
        """Runs when the unpickler reaches the bytes after marker ``serial``: tombstone the slots of the
        entry just handed over, put learned objects back, grow the memo array once in a while."""
        data = bytearray()
        if serial % PRESIZE_EVERY == 0 and serial:
            target = self._memo_estimate(offset, memo_index)
            if target > self.memo_target:
                # CPython sizes the array to twice an index it passes: this put at half the estimate
                # sizes it once; the slot is overwritten by the stream's own put later.
                self.memo_target, self.presized = target, True
                data += b"N" + b"r" + _PACK_I(target // 2) + b"0"
        if serial:
            # The finished entry's slots; objects a later entry turns out to need come back (below).
            freed = range(self.marker_memo[serial - 1], memo_index)
            data += self._call("tombstone") + _puts(freed) + b"0"
            self.tombstoned += len(freed)
        if self.resolver and self.resolver.learned:
            indices, objects = zip(*self.resolver.take_learned())
            data += self._call("restore") + b"0"
            data += b"".join(b"J" + _PACK_i(position) + b"Q" + b"r" + _PACK_I(index) + b"0"
                             for position, index in enumerate(indices))
            data += self._call("restored") + b"0"
            self.restoring = list(objects)
            self.tombstoned -= len(indices)
        return bytes(data)

    # -- private globals ----------------------------------------------------------------------
    def find_class(self, module: str, name: str):
        if module == self.token:
            handler = {"arch2infos": self._start_arch2infos, "boundary": self._boundary,
                       "tombstone": lambda: self.tombstone, "restore": self._restore,
                       "restored": self._restored}.get(name)
            if handler:
                return handler
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if self.restoring is not None and type(pid) is int and 0 <= pid < len(self.restoring):
            return self.restoring[pid]
        return super().persistent_load(pid)

    def _restore(self) -> None:
        if self.restoring is None:
            raise BoundaryMismatch("restore without objects")

    def _restored(self) -> None:
        self.restoring = None

    def _start_arch2infos(self) -> StreamingDict:
        """Runs exactly where arch2infos starts: the head (meta_archs) is complete and small."""
        head = self.memo.copy()
        if self.resolver:
            self.resolver.kept.update(head)
        if self.on_meta:
            self.on_meta(head.get(self.head.meta_archs_memo) if self.head.meta_archs_memo is not None else None)
        return self.arch2infos

    def _on_item(self, key, value) -> None:
        if not self.marker_keys:
            # Batch mode: SETITEMS hands over up to 1,000 entries at once.
            if self.items % PICKLER_BATCH == 0:
                self._prune_batch()
            self.items += 1
            self.on_item(key, value)
            return
        self.pending.append((key, value))
        if len(self.pending) > 1:
            raise BoundaryMismatch(f"two entries ({self.pending[0][0]}, {key}) between markers")

    def _boundary(self, serial: int, key: int) -> None:
        if serial != self.markers_run or serial >= len(self.marker_keys) or self.marker_keys[serial] != key:
            raise BoundaryMismatch(f"marker {serial} (key {key}) out of order")
        self.finish_entry(expect=serial > 0)
        self.markers_run += 1

    def finish_entry(self, expect: bool = True) -> None:
        """Validate and hand over the entry since the previous marker (called at each marker and at the end)."""
        pending, self.pending = self.pending, []
        if not expect:
            if pending:
                raise BoundaryMismatch("entries before the first marker")
            return
        serial = self.markers_run - 1
        if len(pending) != 1 or pending[0][0] != self.marker_keys[serial]:
            raise BoundaryMismatch(f"expected entry {self.marker_keys[serial]}, got {[k for k, _ in pending]}")
        key, value = pending[0]
        if self._used_a_tombstone():
            del pending, value
            key, value = self.resolver.read_entry(serial)
            self.slow_reads += 1
        self.on_item(key, value)

    def _used_a_tombstone(self) -> bool:
        # References beyond the memo slots and this unpickler's own (counted at creation) are data.
        extra = sys.getrefcount(self.tombstone) - self.tombstone_refs - self.tombstoned
        hit = self.tombstone.hits != self.hits_seen
        self.hits_seen = self.tombstone.hits
        return extra > 0 or hit

    def check_markers_done(self) -> None:
        """After load(): every marker ran and the last entry is handed over."""
        if self.marker_keys:
            if self.markers_run != len(self.marker_keys):
                raise BoundaryMismatch(f"{len(self.marker_keys) - self.markers_run} markers never ran")
            self.finish_entry()

    # -- batch mode ---------------------------------------------------------------------------
    def _prune_batch(self) -> None:
        """Replace the memo with what later batches may reference: the head, globals and short names."""
        if self.batch_kept is None:
            snapshot = self.memo.copy()
            globals_ = set(map(id, self.allowed.values()))
            self.batch_kept = {index: obj for index, obj in snapshot.items()
                               if index <= self.head.last_head_memo + 1 or id(obj) in globals_
                               or isinstance(obj, NumpyDType)
                               or (type(obj) is str and len(obj) <= _BATCH_KEPT_STRING and "@" not in obj)}
        self.memo = memo_proxy(self.batch_kept)

    def _memo_estimate(self, offset: int, memo_index: int) -> int:
        """Memo indices the whole stream needs, extrapolated from the entries so far (+10%)."""
        first_offset, first_index = self.marker_offsets[0], self.marker_memo[0]
        if not self.stream_end or offset <= first_offset:
            return 0
        per_byte = (memo_index - first_index) / (offset - first_offset)
        return int((memo_index + per_byte * max(0, self.stream_end - offset)) * 1.1) + (1 << 16)
