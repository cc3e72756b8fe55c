"""The byte stream the C unpickler reads: the release file with bytes spliced in at ``arch2infos`` entries.

``EntryFinder`` scans the bytes of a protocol-2 stream ahead of the unpickler for where an
``arch2infos`` entry starts (key opcode, then the value dict: EMPTY_DICT, LONG_BINPUT, MARK, then
a key string or memo get) and reports ``(offset, key, memo index of the value dict)``. The
pattern can also occur inside data; the unpickler validates every marker it executes, so a
false match is detected, never used.

``SplicedStream`` serves the file with edits ``(offset, bytes removed, parts inserted)``; a part
is bytes or a callable that makes the bytes when the unpickler reaches it. It is a file object
for ``pickle.Unpickler`` (``read``, ``readinto``, ``peek``, ``readline``) whose ``peek`` never
returns bytes past the current part: the C unpickler asks for more only after executing every
opcode it was given, so a callable part runs after everything before it has run.
"""
from __future__ import annotations

import bisect
import re
from typing import IO, Callable, Union

from generators.common import InputError

_CHUNK = 1 << 20
#: Longest single read the unpickler may ask for: one object's bytes. A release's largest object is a
#: few KB; a hostile length (a 2 GB string in a 1 KB bz2 stream) stops here instead of being decompressed.
MAX_READ = 64 << 20
#: Bytes kept between chunks so an entry start across them is not missed (longest: 4 before, 8 after).
_OVERLAP = 16
#: An entry's value dict: EMPTY_DICT, LONG_BINPUT <index>, MARK, then a key string or memo get. The
#: key opcode before it (BININT1 / BININT2) and the byte before that (SETITEMS or MARK) are checked
#: in Python: a pattern starting with a literal lets ``re`` scan at memchr speed.
_VALUE_START = re.compile(rb"\}r(....)\((?=[Xhj])", re.S)
_ENTRY_END = b"u("

Part = Union[bytes, Callable[[], bytes]]
Edit = tuple[int, int, tuple[Part, ...]]


class EntryFinder:
    """Finds arch2infos entries after stream offset ``after`` and calls ``found(offset, key, memo_index)``.

    Only entries with increasing keys below ``num_archs()`` and increasing memo indices, each right
    after the previous entry's SETITEMS or a batch's MARK, are reported: the byte pattern alone also
    occurs inside data (e.g. a memo index whose second byte is ``M``).
    """

    def __init__(self, after: int, num_archs: Callable[[], int], found: Callable[[int, int, int], Edit]):
        self.after = after
        self.num_archs = num_archs
        self.found = found
        self.last_memo_index = -1
        self.last_key = -1

    def __call__(self, data: bytes, base: int, first: int, limit: int) -> list[Edit]:
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
            memo_index = int.from_bytes(match.group(1), "little")
            # Memo indices grow through a pickle: a smaller one cannot be an entry start.
            if offset <= self.after or key <= self.last_key or key >= self.num_archs() \
                    or memo_index <= self.last_memo_index:
                continue
            self.last_memo_index, self.last_key = memo_index, key
            edits.append(self.found(offset, key, memo_index))
        return edits


class SplicedStream:
    """The bytes of ``file`` (named ``source`` in errors) from stream offset ``start`` with ``edits`` applied
    and ``finder`` edits added."""

    def __init__(self, file: IO[bytes], start: int, edits: list[Edit] | None = None,
                 finder: Callable[[bytes, int, int, int], list[Edit]] | None = None, source: str = "the pickle"):
        self.file = file
        self.source = source
        self.pos = start                # stream offset of ahead[ahead_at]
        self.ahead = b""
        self.ahead_at = 0
        self.eof = False
        self.edits = sorted(edits or [], key=_edit_order)
        self.finder = finder
        self.scanned = start            # stream offset up to which the finder has looked
        self.parts: list[Part] = []     # inserted parts still to serve, first one current
        self.current = b""
        self.current_at = 0

    # -- the raw file with look-ahead ---------------------------------------------------------
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
        # A few bytes before the window too: a pattern looks behind.
        begin = max(0, self.scanned - self.pos - 4)
        window = self.ahead[begin:] if self.eof else self.ahead[begin:end - self.pos + _OVERLAP]
        for edit in self.finder(window, self.pos + begin, self.scanned, end):
            bisect.insort(self.edits, edit, key=_edit_order)
        self.scanned = end

    def _next_segment(self) -> bytes:
        """The next run of bytes: an inserted part, or file bytes up to the next edit."""
        if self.parts:
            part = self.parts.pop(0)
            return part() if callable(part) else part
        self._fill(_OVERLAP + 8)
        if self.edits and self.edits[0][0] == self.pos:
            _, removed, inserted = self.edits.pop(0)
            self._fill(removed)
            removed = min(removed, self._available())
            self.ahead_at += removed
            self.pos += removed
            self.parts = list(inserted)
            return self._next_segment()
        limit = self._available()
        if self.finder and not self.eof:
            limit = min(limit, self.scanned - self.pos)    # never pass bytes the finder has not seen
        if self.edits:
            limit = min(limit, self.edits[0][0] - self.pos)
        data = self.ahead[self.ahead_at:self.ahead_at + limit]
        self.ahead_at += limit
        self.pos += limit
        return data

    def _current(self) -> bool:
        """Make sure the current segment has bytes; False at the end of the stream."""
        while self.current_at >= len(self.current):
            self._fill(_OVERLAP + 8)
            at_edit = bool(self.edits) and self.edits[0][0] == self.pos
            if not self.parts and not at_edit and not self._available():
                return False
            self.current, self.current_at = self._next_segment(), 0
        return True

    # -- the file interface pickle.Unpickler uses ---------------------------------------------
    def peek(self, size: int = 0) -> bytes:
        if not self._current():
            return b""
        return self.current[self.current_at:]

    def read(self, size: int = -1) -> bytes:
        if size > MAX_READ:
            raise InputError(f"{self.source}: one object of {size:,} bytes, more than any release holds "
                             f"({MAX_READ >> 20} MB); not an original release file")
        pieces = []
        while size != 0 and self._current():
            end = len(self.current) if size < 0 else min(len(self.current), self.current_at + size)
            pieces.append(self.current[self.current_at:end])
            if size > 0:
                size -= end - self.current_at
            self.current_at = end
        return b"".join(pieces)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def readline(self, size: int = -1) -> bytes:
        pieces = []
        while self._current():
            newline = self.current.find(b"\n", self.current_at)
            end = len(self.current) if newline < 0 else newline + 1
            pieces.append(self.current[self.current_at:end])
            self.current_at = end
            if newline >= 0:
                break
        return b"".join(pieces)


def _edit_order(edit: Edit) -> int:
    return edit[0]
