"""Stream ``arch2infos`` out of one huge release pickle with the C unpickler, one architecture at a time.

A plain ``pickle.load`` of the 4.7 GB NB201 .pth builds every architecture before returning
(tens of GB). Instead:

1. ``pickle_head.scan_head`` finds the ``EMPTY_DICT`` opcode that creates ``arch2infos``; the
   reader replaces it with ``GLOBAL <private token>; EMPTY_TUPLE; REDUCE``, which builds a
   ``StreamingDict``. The C unpickler's SETITEMS calls ``PyObject_SetItem``, i.e. our
   ``__setitem__``, for every (arch index, results) pair: we convert it and keep nothing.
2. CPython's picklers write dict items in SETITEMS batches of 1,000, so on its own that keeps a
   batch (~1.9 GB) alive. For protocol-2 streams (.pth), ``spliced.ArchBoundaryFinder`` finds
   where each entry starts and inserts a *marker*: ``SETITEMS; MARK`` (hand over the entry just
   finished) and a call ``boundary(serial, key)``. Markers are validated as they execute: serials
   in order, each marker preceded by exactly the one entry the previous marker announced. A
   marker found inside other data cannot pass that check, and an entry is converted only after
   it has passed. On any mismatch the stream is read again in batch mode (``BoundaryMismatch``).
3. The memo references every memoized object. In batch mode it is replaced, every batch, by the
   entries a later architecture may legitimately reference (``SHARED_STRINGS``, globals, numpy
   dtypes and the head, e.g. ``meta_archs``); in marker mode every ``PRUNE_EVERY`` markers a
   marker also clears the memo and re-stores those entries at their indices, and in between each
   converted entry's dicts and lists are emptied (a later entry reusing one is detected). A
   reference to a dropped entry raises "Memo value not found", reported as an ``InputError`` -
   never a wrong DB.
4. CPython keeps one 8-byte slot per memo index and doubles the array past its end. In marker
   mode the array is sized once for the whole stream (memo indices per byte so far x stream
   size), so it does not overshoot by up to 2x.
"""
from __future__ import annotations

import io
import pickle
from collections import OrderedDict
from itertools import compress
import secrets
import struct
from typing import IO, Any, Callable

from generators.common import InputError
from generators.common.unpickle import NumpyDType, RestrictedUnpickler

from .pickle_head import HeadInfo
from .release import RELEASE_GLOBALS

#: CPython's picklers write dict items in SETITEMS batches of this size.
PICKLER_BATCH = 1000
#: Markers between memo prunes in marker mode. A prune costs O(memo array) (~0.6 s at 1.2 GB);
#: between prunes the memo holds the converted entries' strings (their containers are emptied).
PRUNE_EVERY = 1000
#: Marker from which the memo's keep set and size are decided (enough architectures seen).
DECIDE_AT_MARKER = 20

#: Strings the release's objects share across architectures: dict keys and names.
SHARED_STRINGS = frozenset({
    "meta_archs", "total_archs", "arch2infos", "evaluated_indexes", "basestr", "less", "full", "12", "200",
    "arch_index", "arch_str", "all_results", "dataset_seed", "clear_net_done",
    "name", "train_acc1es", "train_acc5es", "train_losses", "train_times", "arch_config", "params", "flop",
    "seed", "epochs", "latency", "eval_names", "eval_acc1es", "eval_times", "eval_losses", "net_state_dict",
    "channel", "num_cells", "class_num", "cifar10-valid", "cifar10", "cifar100", "ImageNet16-120",
    "x-valid", "x-test", "ori-test", "latin1", "f8", "<",
})

_PACK_I = struct.Struct("<I").pack
_PACK_i = struct.Struct("<i").pack


class BoundaryMismatch(Exception):
    """A marker did not validate: read the stream again in batch mode."""


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
    unpickler's memo proxy copies it over.
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


class StreamingUnpickler(RestrictedUnpickler):
    """The restricted C unpickler, with the private globals behind the ``arch2infos`` stand-in,
    the markers and the in-stream memo prunes (see the module docstring).

    ``on_item(key, value)`` receives every validated entry; ``stream_size`` (bytes of the
    pickle, when known) lets marker mode size the memo array once.
    """

    def __init__(self, file: IO[bytes], source: str, head: HeadInfo, on_item: Callable[[Any, Any], None],
                 stream_size: int | None = None):
        super().__init__(file, RELEASE_GLOBALS, source)
        self.head = head
        self.token = f"nasbenchmark_{secrets.token_hex(8)}"
        self.arch2infos = StreamingDict(self._on_item)
        self.on_item = on_item
        self.on_meta: Callable[[Any], None] | None = None
        self.stream_size = stream_size
        self.kept: dict[int, Any] | None = None
        self.kept_objects: list[Any] = []
        self.memo_target = 0                  # memo array size asked for (indices)
        self.presized = False
        self.rescan = False
        self.items = 0
        self.marker_keys: list[int] = []      # key announced by each marker made so far
        self.first_marker = (0, 0)            # (offset, memo index) of the first entry
        self.markers_run = 0
        self.pending: list[tuple[Any, Any]] = []
        self.released: set[int] = set()       # ids of containers emptied since the last prune

    # -- bytes the reader splices into the stream -------------------------------------------------
    def _call(self, name: str, *ints: int) -> bytes:
        """Opcodes calling our private global ``name`` with int arguments; leaves its result on the stack."""
        args = b"".join(b"J" + _PACK_i(value) for value in ints)
        tuple_op = {0: b")", 1: b"\x85", 2: b"\x86"}[len(ints)]
        return f"c{self.token}\n{name}\n".encode() + args + tuple_op + b"R"

    def injection(self) -> bytes:
        """Replaces arch2infos's EMPTY_DICT."""
        return self._call("arch2infos")

    def marker(self, offset: int, key: int, memo_index: int) -> bytes:
        """Inserted at stream ``offset``, before each arch2infos entry, by ``spliced.ArchBoundaryFinder``;
        ``memo_index`` is where the entry's value is memoized (memo indices grow with the stream)."""
        serial = len(self.marker_keys)
        self.marker_keys.append(key)
        if serial == 0:
            self.first_marker = (offset, memo_index)
        data = b"u(" + self._call("boundary", serial, key) + b"0"
        if self.kept is not None and serial % PRUNE_EVERY == 0:
            target = self._memo_estimate(offset, memo_index)
            if target > self.memo_target:
                # Grow the memo array to its estimated final size now (CPython would size it to
                # twice the index it passes); the put is wiped by the clear just after.
                self.memo_target = target
                self.presized = True
                data += b"N" + b"r" + _PACK_I(target // 2) + b"0"
            data += self._call("clear_memo") + b"0"
            data += b"".join(self._call("kept", position) + b"r" + _PACK_I(index) + b"0"
                             for position, index in enumerate(self.kept))
        return data

    # -- private globals --------------------------------------------------------------------------
    def find_class(self, module: str, name: str):
        if module == self.token:
            handler = {"arch2infos": self._start_arch2infos, "boundary": self._boundary,
                       "clear_memo": self._clear_memo, "kept": self.kept_objects.__getitem__}.get(name)
            if handler:
                return handler
        self.rescan = True
        return super().find_class(module, name)

    def _start_arch2infos(self) -> StreamingDict:
        """Runs exactly where arch2infos starts: the head (meta_archs) is complete."""
        meta_archs = None
        if self.head.meta_archs_memo is not None:
            meta_archs = self.memo.copy().get(self.head.meta_archs_memo)
        if self.on_meta:
            self.on_meta(meta_archs)
        return self.arch2infos

    def _on_item(self, key, value) -> None:
        if not self.marker_keys:
            # Batch mode: SETITEMS hands over up to 1,000 entries at once.
            if self.items % PICKLER_BATCH == 0:
                self.prune()
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
        if self.markers_run == DECIDE_AT_MARKER:
            self._decide_memo()

    def finish_entry(self, expect: bool = True) -> None:
        """Validate and hand over the entry since the previous marker (called at each marker and at the end)."""
        pending, self.pending = self.pending, []
        if not expect:
            if pending:
                raise BoundaryMismatch("entries before the first marker")
            return
        if len(pending) != 1 or pending[0][0] != self.marker_keys[self.markers_run - 1]:
            raise BoundaryMismatch(f"expected entry {self.marker_keys[self.markers_run - 1]}, "
                                   f"got {[k for k, _ in pending]}")
        key, value = pending[0]
        containers = _containers(value)
        if not self.released.isdisjoint(map(id, containers)):
            raise BoundaryMismatch(f"entry {key} shares a container with an earlier entry")
        self.on_item(key, value)
        # The memo keeps every memoized object until the next prune; emptying the entry's
        # containers frees its numbers now. A later entry reusing one of them is caught above.
        for container in containers:
            if not isinstance(container, tuple):
                container.clear()
        self.released.update(map(id, containers))

    def check_markers_done(self) -> None:
        """After load(): every marker ran and the last entry is handed over."""
        if self.marker_keys:
            if self.markers_run != len(self.marker_keys):
                raise BoundaryMismatch(f"{len(self.marker_keys) - self.markers_run} markers never ran")
            self.finish_entry()

    def _clear_memo(self) -> None:
        self.memo.clear()    # frees every entry; CPython keeps the array size
        self.released.clear()

    # -- memo -------------------------------------------------------------------------------------
    def _keep_set(self, snapshot: dict[int, Any]) -> dict[int, Any]:
        shared = {id(obj) for obj in self.allowed.values()}
        return {index: obj for index, obj in snapshot.items()
                if index <= self.head.last_head_memo + 1 or id(obj) in shared
                or isinstance(obj, NumpyDType) or (type(obj) is str and obj in SHARED_STRINGS)}

    def _decide_memo(self) -> None:
        kept = self._keep_set(self.memo.copy())
        self.kept_objects = list(kept.values())
        self.kept = kept

    def _memo_estimate(self, offset: int, memo_index: int) -> int:
        """Memo indices the whole stream needs, extrapolated from the entries so far (+10%)."""
        first_offset, first_index = self.first_marker
        if not self.stream_size or offset <= first_offset:
            return 0
        per_byte = (memo_index - first_index) / (offset - first_offset)
        return int((memo_index + per_byte * max(0, self.stream_size - offset)) * 1.1) + (1 << 16)

    def prune(self) -> None:
        """Batch mode: replace the memo with the entries later architectures may reference."""
        if self.kept is None or self.rescan:
            self.kept = self._keep_set(self.memo.copy())
            self.rescan = False
        self.memo = memo_proxy(self.kept)


#: Dicts bigger than this are per-epoch metrics: their values must be numbers (``records`` checks
#: every one), so they are emptied but not searched for nested containers.
_LEAF_DICT = 32


def _containers(value: Any) -> list:
    """Every dict, list and tuple reachable from ``value`` (itself included)."""
    found, stack = [], [value]
    while stack:
        item = stack.pop()
        found.append(item)
        if len(item) > _LEAF_DICT:
            continue
        children = item.values() if isinstance(item, dict) else item
        stack += compress(children, map(_is_container_type, map(type, children)))
        if isinstance(item, dict):
            stack += [key for key in item if type(key) is tuple]
    return found


_is_container_type = frozenset({dict, list, tuple, OrderedDict}).__contains__


def memo_reference_error(exc: Exception, source: str) -> InputError | None:
    """The InputError for a reference to a pruned memo entry, or None for other errors."""
    if isinstance(exc, pickle.UnpicklingError) and "Memo value not found" in str(exc):
        return InputError(f"{source}: an architecture references an object pickled with an earlier one "
                          f"({exc}); the streaming reader does not keep those (see generators/nasbench201/"
                          "stream.py); please report this file")
    return None


def describe_load_error(exc: BaseException, source: str) -> InputError:
    """One-line InputError for whatever went wrong while unpickling ``source``."""
    import zipfile

    if isinstance(exc, InputError):
        return exc
    memo_error = memo_reference_error(exc, source)
    if memo_error:
        return memo_error
    if isinstance(exc, EOFError) or (isinstance(exc, pickle.UnpicklingError) and "truncated" in str(exc)):
        return InputError(f"{source}: truncated (the pickle ends early); download the file again")
    if isinstance(exc, zipfile.BadZipFile) or (isinstance(exc, OSError) and "Invalid data stream" in str(exc)):
        return InputError(f"{source}: corrupt compressed data ({exc}); download the file again")
    detail = " ".join(str(exc).split())[:200]
    return InputError(f"{source}: not a valid release pickle ({type(exc).__name__}: {detail}); "
                      "check that this is the original release file")
