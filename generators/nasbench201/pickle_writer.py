"""A streaming pickler for fixtures: one memo over the whole object, like ``torch.save``'s pickler.

``pickle.Pickler`` keeps every memoized object alive until the end, so pickling the full
NB201 object (tens of GB as Python objects) in one ``dump`` does not fit in memory. This writer
emits the same opcodes CPython's C pickler emits (protocol 2: BINPUT after every str, dict, list
and tuple, SETITEMS/APPENDS in batches of 1,000; protocol 4: MEMOIZE, SHORT_BINUNICODE,
STACK_GLOBAL), but lets the caller stream one dict's items (``arch2infos``) from an iterator and
forget each item's objects once written. Objects that outlive an item (the head, globals, numpy
dtypes, and strings in ``SHARED_STRINGS``) stay memoized, so later items reference them with
BINGET exactly as a single pickler does. Supported types: None, bool, int, float, str, bytes,
tuple, list, set, dict, OrderedDict and ``NumpyFloat64``.

Index growth is faithful too: memo indices increase over the whole stream (to ~1.7e8 for the
full .pth), which is what a reader's memo must cope with.
"""
from __future__ import annotations

import array
import struct
from collections import OrderedDict
from typing import IO, Any, Iterable

from .numpy_pickle import NumpyFloat64
from .stream import PICKLER_BATCH, SHARED_STRINGS

_PACK_I = struct.Struct("<I").pack
_PACK_i = struct.Struct("<i").pack
_PACK_H = struct.Struct("<H").pack
_PACK_D = struct.Struct(">d").pack
_G = [b"G"]
_DTYPE_STATE = (3, "<", None, None, None, -1, -1, 0)
#: The C pickler starts a new frame once the current one reaches this size (protocol 4).
FRAME_TARGET = 64 * 1024


def _int_opcode(value: int) -> bytes:
    if 0 <= value <= 0xFF:
        return b"K" + bytes([value])
    if 0 <= value <= 0xFFFF:
        return b"M" + _PACK_H(value)
    if -0x80000000 <= value <= 0x7FFFFFFF:
        return b"J" + _PACK_i(value)
    data = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(data)]) + data


class StreamingPickler:
    """Emits one pickle to ``out``; ``dump_streaming`` pickles a dict with one streamed value."""

    def __init__(self, out: IO[bytes], protocol: int = 2):
        if protocol not in (2, 4):
            raise ValueError("protocol must be 2 or 4")
        self.out = out
        self.protocol = protocol
        self.count = 0                          # memo indices handed out so far
        self.kept: dict[int, tuple[int, Any]] = {}    # id -> (index, obj), alive for the whole stream
        self.local: dict[int, tuple[int, Any]] = {}   # id -> (index, obj), dropped after each item
        self.keep_all = True                    # the head: everything stays memoized
        self.buffer: list[bytes] = []
        self.size = 0
        self.bytes_written = 0
        self._str_heads: dict[str, bytes] = {}
        self._packers: dict[tuple, tuple[struct.Struct, list[bytes]]] = {}

    # -- output -----------------------------------------------------------------------------------
    def _emit(self, data: bytes) -> None:
        self.buffer.append(data)
        self.size += len(data)

    def _boundary(self) -> None:
        """Opcode boundary: flush the buffer (as a frame in protocol 4) once it is big enough."""
        if self.size >= FRAME_TARGET:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        data = b"".join(self.buffer)
        if self.protocol >= 4:
            data = b"\x95" + struct.pack("<Q", len(data)) + data
        self.out.write(data)
        self.bytes_written += len(data)
        self.buffer, self.size = [], 0

    # -- memo -------------------------------------------------------------------------------------
    def _put_opcode(self, index: int) -> bytes:
        if self.protocol >= 4:
            return b"\x94"
        return b"q" + bytes([index]) if index < 256 else b"r" + _PACK_I(index)

    @staticmethod
    def _get_opcode(index: int) -> bytes:
        return b"h" + bytes([index]) if index < 256 else b"j" + _PACK_I(index)

    def _memoize(self, obj: Any, shared: bool = False) -> bytes:
        index = self.count
        self.count += 1
        (self.kept if shared or self.keep_all else self.local)[id(obj)] = (index, obj)
        return self._put_opcode(index)

    def _memo_get(self, obj: Any) -> bytes | None:
        entry = self.kept.get(id(obj)) or self.local.get(id(obj))
        return None if entry is None else self._get_opcode(entry[0])

    # -- objects ----------------------------------------------------------------------------------
    def save(self, obj: Any) -> None:
        kind = type(obj)
        if obj is None:
            self._emit(b"N")
        elif kind is bool:
            self._emit(b"\x88" if obj else b"\x89")
        elif kind is int:
            self._emit(_int_opcode(obj))
        elif kind is float:
            self._emit(b"G" + _PACK_D(obj))
        else:
            get = self._memo_get(obj)
            if get is not None:
                self._emit(get)
            elif kind is str:
                self._emit(self._str(obj))
            elif kind is dict:
                self._save_dict(obj)
            elif kind is list:
                self._save_list(obj)
            elif kind is tuple:
                self._save_tuple(obj)
            elif kind is OrderedDict:
                self._save_ordered_dict(obj)
            elif kind is NumpyFloat64:
                self._save_numpy_float64(obj)
            elif kind is bytes:
                self._save_bytes(obj)
            elif kind is set:
                self._save_set(obj)
            else:
                raise TypeError(f"StreamingPickler cannot pickle {kind.__name__}")
        self._boundary()

    def _str(self, text: str) -> bytes:
        return self._str_head(text) + self._memoize(text, shared=text in SHARED_STRINGS)

    def _save_global(self, module: str, name: str, key: Any) -> None:
        """A module-level global, memoized under ``key`` (any long-lived object)."""
        get = self._memo_get(key)
        if get is not None:
            self._emit(get)
            return
        if self.protocol >= 4:
            for part in (module, name):
                self.save(part)
            self._emit(b"\x93" + self._memoize(key, shared=True))
        else:
            self._emit(f"c{module}\n{name}\n".encode() + self._memoize(key, shared=True))

    def _save_items(self, items: Iterable, exact: bool, setitem: bytes = b"s", setitems: bytes = b"u") -> None:
        """Dict items in CPython's batches: exact dicts and OrderedDict iterators differ at the edges."""
        items = list(items)
        if not items:
            return
        if len(items) == 1:
            self._save_pair(*items[0])
            self._emit(setitem)
            return
        start = 0
        while True:
            batch = items[start:start + PICKLER_BATCH]
            if not exact and len(batch) == 1:
                self._save_pair(*batch[0])
                self._emit(setitem)
                return
            if batch or exact:
                self._emit(b"(")
                self._save_flat(batch)
                self._emit(setitems)
            start += PICKLER_BATCH
            if len(batch) < PICKLER_BATCH or (not exact and start >= len(items)):
                return

    def _save_pair(self, key, value) -> None:
        self.save(key)
        self.save(value)

    def _save_flat(self, pairs: list) -> None:
        """Dict items; the hot case (every value a float, keys all small ints or all fresh strings)
        becomes one ``struct.pack`` with a format cached per key sequence, the rest goes item by item."""
        keys = [pair[0] for pair in pairs]
        values = [pair[1] for pair in pairs]
        key_types = set(map(type, keys))
        if set(map(type, values)) == {float}:
            if key_types == {int} and 0 <= min(keys) and max(keys) <= 0xFF:
                packer, heads = self._flat_packer(tuple(keys), memoized=False)
                args = [None] * (2 * len(keys))
                args[0::2], args[1::2] = heads, values
                self._emit(packer.pack(*args))
                return
            if key_types == {str} and self._all_fresh(keys):
                packer, heads = self._flat_packer(tuple(keys), memoized=True)
                start = self._memoize_block(keys)
                if self.protocol >= 4:
                    args = [None] * (2 * len(keys))
                    args[0::2], args[1::2] = heads, values
                else:
                    # Big-endian format (for the floats), so the little-endian memo indices go in byte-swapped.
                    indices = array.array("I", range(start, start + len(keys)))
                    indices.byteswap()
                    args = [None] * (4 * len(keys))
                    args[0::4], args[1::4], args[2::4], args[3::4] = heads, indices.tolist(), _G * len(keys), values
                self._emit(packer.pack(*args))
                return
        for key, value in pairs:
            self._save_pair(key, value)

    def _flat_packer(self, keys: tuple, memoized: bool) -> tuple[struct.Struct, list[bytes]]:
        """A struct format for "key [put] BINFLOAT" repeated, and its constant per-key parts."""
        cached = self._packers.get(keys)
        if cached is not None:
            return cached
        if not memoized:
            heads = [b"K" + bytes([key]) + b"G" for key in keys]
            layout = "".join(f"{len(head)}sd" for head in heads)
        elif self.protocol >= 4:
            heads = [self._str_head(key) + b"\x94G" for key in keys]
            layout = "".join(f"{len(head)}sd" for head in heads)
        else:
            heads = [self._str_head(key) + b"r" for key in keys]
            layout = "".join(f"{len(head)}sIcd" for head in heads)
        cached = (struct.Struct(">" + layout), heads)
        if len(self._packers) < 10_000:
            self._packers[keys] = cached
        return cached

    def _memoize_block(self, objects: list) -> int:
        """Memoize ``objects`` under consecutive indices; returns the first index."""
        start = self.count
        self.count += len(objects)
        memo = self.kept if self.keep_all else self.local
        memo.update(zip(map(id, objects), zip(range(start, self.count), objects)))
        return start

    def _all_fresh(self, keys: list[str]) -> bool:
        """True when no key is memoized or shared yet (then each gets a new memo entry)."""
        ids = list(map(id, keys))
        return (len(set(ids)) == len(ids) and SHARED_STRINGS.isdisjoint(keys)
                and self.kept.keys().isdisjoint(ids) and self.local.keys().isdisjoint(ids))

    def _str_head(self, text: str) -> bytes:
        """Opcode and data of a string, without the memo put (cached by value: keys repeat a lot)."""
        head = self._str_heads.get(text)
        if head is None:
            data = text.encode("utf-8", "surrogatepass")
            prefix = b"\x8c" + bytes([len(data)]) if self.protocol >= 4 and len(data) < 256 else b"X" + _PACK_I(len(data))
            head = prefix + data
            if len(self._str_heads) < 100_000:
                self._str_heads[text] = head
        return head

    def _save_dict(self, obj: dict) -> None:
        self._emit(b"}" + self._memoize(obj))
        self._save_items(obj.items(), exact=True)

    def _save_ordered_dict(self, obj: OrderedDict) -> None:
        self._save_global("collections", "OrderedDict", OrderedDict)
        self._emit(b")R" + self._memoize(obj))
        self._save_items(obj.items(), exact=False)

    def _save_list(self, obj: list) -> None:
        self._emit(b"]" + self._memoize(obj))
        if len(obj) == 1:
            self.save(obj[0])
            self._emit(b"a")
            return
        for start in range(0, len(obj), PICKLER_BATCH):
            self._emit(b"(")
            for item in obj[start:start + PICKLER_BATCH]:
                self.save(item)
            self._emit(b"e")

    def _save_set(self, obj: set) -> None:
        if self.protocol < 4:
            raise TypeError("sets are only written with protocol 4 here")
        self._emit(b"\x8f" + self._memoize(obj))
        items = list(obj)
        # CPython's do-while: a trailing empty batch when the size is a multiple of 1,000.
        for start in range(0, len(items) + 1, PICKLER_BATCH) if items else ():
            self._emit(b"(")
            for item in items[start:start + PICKLER_BATCH]:
                self.save(item)
            self._emit(b"\x90")

    def _save_tuple(self, obj: tuple) -> None:
        if not obj:
            self._emit(b")")
            return
        if len(obj) <= 3:
            for item in obj:
                self.save(item)
            self._emit(b"\x85\x86\x87"[len(obj) - 1:len(obj)] + self._memoize(obj))
            return
        self._emit(b"(")
        for item in obj:
            self.save(item)
        self._emit(b"t" + self._memoize(obj))

    def _save_bytes(self, data: bytes) -> None:
        if self.protocol >= 4:
            head = b"C" + bytes([len(data)]) if len(data) < 256 else b"B" + _PACK_I(len(data))
            self._emit(head + data + self._memoize(data))
            return
        # Protocol 2 has no bytes opcode: CPython writes _codecs.encode(<latin-1 text>, 'latin1').
        self._save_global("_codecs", "encode", _CODECS_ENCODE)
        self.save(data.decode("latin-1"))
        self.save(_LATIN1)
        self._emit(b"\x86" + self._memoize((data, "args")) + b"R" + self._memoize(data))

    def _save_numpy_float64(self, value: NumpyFloat64) -> None:
        self._save_global("numpy.core.multiarray", "scalar", _NUMPY_SCALAR)
        get = self._memo_get(_FLOAT64_DTYPE)
        if get is not None:
            self._emit(get)
        else:
            self._save_global("numpy", "dtype", _NUMPY_DTYPE)
            self.save(_F8)
            self._emit(b"\x89\x88\x87" + self._memoize(_DTYPE_ARGS, shared=True) + b"R"
                       + self._memoize(_FLOAT64_DTYPE, shared=True))
            self.save(_DTYPE_STATE)
            self._emit(b"b")
        self.save(struct.pack("<d", value))
        self._emit(b"\x86" + self._memoize((value, "args")) + b"R" + self._memoize(value))

    # -- whole pickles ----------------------------------------------------------------------------
    def dump_streaming(self, top: dict, streamed_key: str, items: Iterable[tuple[Any, Any]]) -> None:
        """Pickle ``top`` with ``top[streamed_key]`` replaced by a dict of ``items`` (an iterator)."""
        # PROTO precedes the first frame.
        self.out.write(b"\x80" + bytes([self.protocol]))
        self.bytes_written += 2
        self._emit(b"}" + self._memoize(top))
        pairs = list(top.items())
        self._emit(b"(")
        for key, value in pairs:
            self.save(key)
            if key != streamed_key:
                self.save(value)
                continue
            self._emit(b"}" + self._memoize(("streamed", streamed_key)))
            self.keep_all = False
            self._stream_items(items)
            self.keep_all = True
        self._emit(b"u.")
        self.flush()

    def _stream_items(self, items: Iterable[tuple[Any, Any]]) -> None:
        items = iter(items)
        first = next(items, None)
        if first is None:
            return
        second = next(items, None)
        if second is None:
            self._save_item(first)
            self._emit(b"s")
            return
        self._emit(b"(")
        self._save_item(first)
        batch = 1
        pending = second
        while pending is not None:
            if batch == PICKLER_BATCH:
                self._emit(b"u(")
                batch = 0
            self._save_item(pending)
            batch += 1
            pending = next(items, None)
        # An exact dict ends with an empty batch when its size is a multiple of 1,000.
        self._emit(b"u(u" if batch == PICKLER_BATCH else b"u")

    def _save_item(self, item: tuple[Any, Any]) -> None:
        self._save_pair(*item)
        self.local.clear()
        self.flush()


_CODECS_ENCODE = object()
_NUMPY_SCALAR = object()
_NUMPY_DTYPE = object()
_FLOAT64_DTYPE = object()
_LATIN1 = "latin1"
_F8 = "f8"
_DTYPE_ARGS = object()
