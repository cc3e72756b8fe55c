"""Read single ``arch2infos`` entries again from the file, resolving references to earlier entries.

The fast reader frees each entry's memo slots once it is handed over (``stream_unpickler``). When
a later entry turns out to reference one of those objects, that entry is read again here with the
pure-Python unpickler, whose memo is a dict: a missing index is found in the entry that defined it
(entries' memo indices grow with the stream, so a bisect over each entry's first index names it),
and that entry is read the same way. Dependencies are followed with an explicit stack (no
recursion, whatever the chain), every re-read entry's memo is cached (a few entries), and each
object found this way is *kept*: the fast reader puts it back into its memo, so an object shared
between entries costs one slow read.
"""
from __future__ import annotations

import bisect
import io
import pickle
from collections import OrderedDict
from typing import Any, Callable, Iterable

from generators.common import InputError
from generators.common.unpickle import PyRestrictedUnpickler

#: Re-read entries whose memo stays cached (an entry's memo is a few MB).
_CACHED_ENTRIES = 8
_READ_CHUNK = 1 << 20


class _NeedEntry(Exception):
    """The entry being read references entry ``serial``, which must be read first."""

    def __init__(self, serial: int):
        super().__init__(serial)
        self.serial = serial


class _EntryDone(Exception):
    """The entry's key and value are complete."""

    def __init__(self, items: list):
        super().__init__()
        self.items = items


class _ResolvingMemo(dict):
    """The memo of one re-read entry: indices it does not define come from the resolver."""

    def __init__(self, resolver: EntryResolver, serial: int):
        super().__init__()
        self.resolver, self.serial = resolver, serial

    def __missing__(self, index: int) -> Any:
        return self.resolver.lookup(index, self.serial)


class _EntryUnpickler(PyRestrictedUnpickler):
    """Reads ``MARK <one entry> ...`` and stops when the entry is complete (the MARK is popped)."""

    def pop_mark(self):
        if len(self.metastack) == 1:
            raise _EntryDone(self.stack)
        return super().pop_mark()


class _EntryBytes(io.RawIOBase):
    """``prefix``, the file's bytes from ``offset`` to ``end`` (or its end), then ``suffix``; read
    through ``read_at(offset, size)``."""

    def __init__(self, read_at: Callable[[int, int], bytes], offset: int, end: int | None, prefix: bytes,
                 suffix: bytes):
        self.read_at, self.offset, self.end = read_at, offset, end
        self.pending, self.suffix = prefix, suffix

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if not self.pending:
            size = _READ_CHUNK if self.end is None else min(_READ_CHUNK, self.end - self.offset)
            self.pending = self.read_at(self.offset, size) if size > 0 else b""
            self.offset += len(self.pending)
            if not self.pending:
                self.pending, self.suffix = self.suffix, b""
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n


class EntryResolver:
    """Entries of one stream by serial (marker order): where each starts and its first memo index."""

    def __init__(self, read_at: Callable[[int, int], bytes], source: str, allowed: Iterable[tuple[str, str]]):
        self.read_at = read_at
        self.source = source
        self.allowed = list(allowed)
        self.starts: list[int] = []
        self.first_memo: list[int] = []
        self.kept: dict[int, Any] = {}            # objects any entry may use: the head and learned ones
        self.learned: list[tuple[int, Any]] = []  # kept since the fast reader last took them
        self.cache: OrderedDict[int, dict] = OrderedDict()

    def add_entry(self, offset: int, memo_index: int) -> None:
        self.starts.append(offset)
        self.first_memo.append(memo_index)

    def take_learned(self) -> list[tuple[int, Any]]:
        learned, self.learned = self.learned, []
        return learned

    def read_entry(self, serial: int) -> tuple[Any, Any]:
        """Key and value of entry ``serial``, every reference to an earlier entry resolved."""
        wanted = [serial]
        while True:
            current = wanted[-1]
            try:
                key, value, memo = self._read(current)
            except _NeedEntry as need:
                if need.serial in wanted:
                    raise InputError(f"{self.source}: entries reference each other in a cycle; "
                                     "the file is damaged, download it again") from None
                wanted.append(need.serial)
                continue
            self.cache[current] = memo
            self.cache.move_to_end(current)
            while len(self.cache) > _CACHED_ENTRIES:
                self.cache.popitem(last=False)
            wanted.pop()
            if not wanted:
                return key, value

    def lookup(self, index: int, reader: int) -> Any:
        """The object at memo ``index`` for entry ``reader``, from the kept objects or the defining entry."""
        if index in self.kept:
            return self.kept[index]
        serial = bisect.bisect_right(self.first_memo, index) - 1
        if not 0 <= serial < reader:
            raise KeyError(index)      # the unpickler reports "Memo value not found"
        memo = self.cache.get(serial)
        if memo is None:
            raise _NeedEntry(serial)
        if not dict.__contains__(memo, index):
            raise KeyError(index)
        value = dict.__getitem__(memo, index)
        self.kept[index] = value
        self.learned.append((index, value))
        return value

    def _end(self, serial: int) -> int | None:
        """Where entry ``serial`` ends: where the next one starts, less a SETITEMS-MARK between batches."""
        if serial + 1 >= len(self.starts):
            return None      # the last entry: the reader stops at the batch's SETITEMS after it
        following = self.starts[serial + 1]
        return following - 2 if self.read_at(following - 1, 1) == b"(" else following

    def _read(self, serial: int) -> tuple[Any, Any, dict]:
        # MARK, the entry, SETITEMS: the unpickler stops when SETITEMS pops the MARK.
        data = _EntryBytes(self.read_at, self.starts[serial], self._end(serial), b"\x80\x02(", b"u")
        unpickler = _EntryUnpickler(io.BufferedReader(data), self.allowed, self.source)
        unpickler.memo = _ResolvingMemo(self, serial)
        try:
            unpickler.load()
        except _EntryDone as done:
            if len(done.items) == 2:
                return done.items[0], done.items[1], unpickler.memo
        except (InputError, _NeedEntry):
            raise
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError,
                MemoryError, RecursionError) as exc:
            raise InputError(f"{self.source}: architecture entry at byte {self.starts[serial]:,} does not read "
                             f"on its own ({type(exc).__name__}: {str(exc)[:100]}); the file is damaged, "
                             "download it again") from None
        raise InputError(f"{self.source}: architecture entry at byte {self.starts[serial]:,} is not one key "
                         "and one value; the file is damaged, download it again")
