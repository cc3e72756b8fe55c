"""The byte stream the unpickler reads: the file with edits spliced in, plus arch-boundary markers.

``SplicedReader`` is a raw stream over ``file`` (from offset ``start``) applying edits
``(offset, bytes removed, bytes inserted)``. ``ArchBoundaryFinder`` scans the bytes as they are
read for where an ``arch2infos`` entry of a protocol-2 stream starts (key opcode, then the value
dict: EMPTY_DICT, LONG_BINPUT, MARK, then a key string or memo get) and asks for a marker to
insert there. A match inside other data is possible in principle; the unpickler validates every
marker it executes (see ``stream.StreamingUnpickler``), so a false match is detected, never used.
"""
from __future__ import annotations

import bisect
import io
import re
from typing import IO, Callable

_CHUNK = 1 << 20
#: Bytes kept between chunks so an entry start across them is not missed (longest: 4 before, 8 after).
_OVERLAP = 16
#: An entry's value dict: EMPTY_DICT, LONG_BINPUT <index>, MARK, then a key string or memo get. The
#: key opcode before it (BININT1 / BININT2) and the byte before that (SETITEMS or MARK) are checked
#: in Python: a pattern starting with a literal lets ``re`` scan at memchr speed.
_VALUE_START = re.compile(rb"\}r(....)\((?=[Xhj])", re.S)
_ENTRY_END = b"u("


class ArchBoundaryFinder:
    """Finds arch2infos entries after stream offset ``after``; ``marker(offset, key, memo_index)`` makes each edit
    (``memo_index``: the memo index the entry's value dict is stored at).

    Only entries with consecutive keys (0, 1, 2, ... as the releases write them), each right after
    the previous entry's SETITEMS or a batch's MARK, are marked: the byte pattern alone also occurs
    inside data (e.g. a memo index whose second byte is ``M``). Other layouts get no markers and
    are read in batch mode.
    """

    def __init__(self, origin: int, after: int, num_archs: Callable[[], int], marker: Callable[[int, int, int], bytes]):
        self.origin = origin     # stream offset of the pickle's first byte: marker offsets are relative to it
        self.after = after
        self.num_archs = num_archs
        self.marker = marker
        self.last_memo_index = -1
        self.last_key = -1

    def __call__(self, data: bytes, base: int, first: int, limit: int) -> list[tuple[int, int, bytes]]:
        """Edits for entries starting in ``[first, limit)``; ``data`` starts at stream offset ``base``."""
        edits = []
        for match in _VALUE_START.finditer(data, max(3, first - base + 2)):
            at = match.start()
            if data[at - 2] == 0x4B and data[at - 3] in _ENTRY_END:                # K <key>
                key, entry = data[at - 1], at - 2
            elif at >= 4 and data[at - 3] == 0x4D and data[at - 4] in _ENTRY_END:  # M <key, 2 bytes>
                key, entry = data[at - 2] | data[at - 1] << 8, at - 3
            else:
                continue
            offset = base + entry
            if offset < first:
                continue
            if offset >= limit:
                break
            if offset <= self.after:
                continue
            memo_index = int.from_bytes(match.group(1), "little")
            # Memo indices grow through a pickle: a smaller one cannot be an entry start.
            if key != self.last_key + 1 or key >= self.num_archs() or memo_index <= self.last_memo_index:
                continue
            self.last_memo_index, self.last_key = memo_index, key
            edits.append((offset, 0, self.marker(offset - self.origin, key, memo_index)))
        return edits


class SplicedReader(io.RawIOBase):
    """A raw stream of ``file`` from ``start`` with ``edits`` applied and ``finder`` edits added."""

    def __init__(self, file: IO[bytes], start: int, edits: list[tuple[int, int, bytes]] | None = None,
                 finder: Callable[[bytes, int, int, int], list[tuple[int, int, bytes]]] | None = None):
        self.file = file
        self.pos = start                # stream offset of ahead[ahead_at]
        self.ahead = b""
        self.ahead_at = 0
        self.eof = False
        self.edits = sorted(edits or [])
        self.finder = finder
        self.scanned = start            # stream offset up to which the finder has looked
        self.pending = b""

    def readable(self) -> bool:
        return True

    def _available(self) -> int:
        return len(self.ahead) - self.ahead_at

    def _fill(self, need: int) -> None:
        if self._available() >= need or self.eof:
            return
        parts = [self.ahead[self.ahead_at:]]
        have = len(parts[0])
        while have < need and not self.eof:
            chunk = self.file.read(_CHUNK)
            if not chunk:
                self.eof = True
            parts.append(chunk)
            have += len(chunk)
        self.ahead, self.ahead_at = b"".join(parts), 0
        if self.finder:
            self._scan()

    def _scan(self) -> None:
        end = self.pos + len(self.ahead) - (0 if self.eof else _OVERLAP)
        if end <= self.scanned:
            return
        # One byte before the window too: a pattern may look behind.
        begin = max(0, self.scanned - self.pos - 1)
        window = self.ahead[begin:] if self.eof else self.ahead[begin:end - self.pos + _OVERLAP]
        for edit in self.finder(window, self.pos + begin, self.scanned, end):
            bisect.insort(self.edits, edit)
        self.scanned = end

    def readinto(self, buffer) -> int:
        if self.pending:
            n = min(len(buffer), len(self.pending))
            buffer[:n] = self.pending[:n]
            self.pending = self.pending[n:]
            return n
        self._fill(_OVERLAP + 8)
        if self.edits and self.edits[0][0] == self.pos:
            _, removed, inserted = self.edits.pop(0)
            self._fill(removed)
            removed = min(removed, self._available())
            self.ahead_at += removed
            self.pos += removed
            self.pending = inserted
            return self.readinto(buffer)
        limit = self._available()
        if self.finder and not self.eof:
            limit = min(limit, self.scanned - self.pos)    # never pass bytes the finder has not seen
        if self.edits:
            limit = min(limit, self.edits[0][0] - self.pos)
        n = min(len(buffer), limit)
        buffer[:n] = self.ahead[self.ahead_at:self.ahead_at + n]
        self.ahead_at += n
        self.pos += n
        return n
