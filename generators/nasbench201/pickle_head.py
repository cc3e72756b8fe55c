"""Find ``arch2infos`` in the head of a release pickle without unpickling anything big.

``pickletools.genops`` walks the opcodes of the top-level dict and ``meta_archs`` (~1.5 MB)
while a tiny stack simulation (values only for strings) tracks which top-level key comes next.
"""
from __future__ import annotations

import pickletools
from dataclasses import dataclass
from typing import IO, Any

from generators.common import InputError

#: How far into the pickle ``arch2infos`` must start (the head holds ``meta_archs``: ~1.5 MB).
HEAD_LIMIT = 64 << 20
_MARK = object()
_ROOT = object()
_PUT_OPS = {"PUT", "BINPUT", "LONG_BINPUT"}
_GET_OPS = {"GET", "BINGET", "LONG_BINGET"}
_STRING_OPS = {"BINUNICODE", "SHORT_BINUNICODE", "UNICODE", "BINUNICODE8"}


@dataclass
class HeadInfo:
    """Where ``arch2infos`` starts and what the head memoized."""

    protocol: int
    arch2infos_offset: int           # file offset (``file.tell()``) of its EMPTY_DICT opcode
    frame: tuple[int, int] | None    # (offset of the enclosing FRAME opcode, its length), protocol >= 4
    meta_archs_memo: int | None      # memo index of the meta_archs list
    last_head_memo: int              # highest memo index used before arch2infos


class _BoundedReads:
    """``file`` for ``pickletools.genops``, refusing an opcode argument longer than ``HEAD_LIMIT``.

    genops reads a string's declared length in one call: a 1 KB bz2 file declaring a 2 GB string would
    be decompressed and held in full before the position check below could stop it.
    """

    def __init__(self, file: IO[bytes], source: str):
        self.file, self.source = file, source
        self.tell = file.tell

    def read(self, size: int) -> bytes:
        if size > HEAD_LIMIT:
            raise InputError(f"{self.source}: an object of {size:,} bytes in the pickle's head, where a release "
                             f"holds only short arch strings; not a NAS-Bench-201 / NATS-tss release file")
        return self.file.read(size)

    def readline(self) -> bytes:
        return self.file.readline(HEAD_LIMIT)


def scan_head(file: IO[bytes], source: str) -> HeadInfo:
    """Find ``arch2infos`` in the top-level dict without building anything big.

    ``file`` must be positioned at the start of the pickle; it is left at an unspecified position.
    """
    stack: list[Any] = []
    marks: list[int] = []
    memo_count = 0
    last_memo = -1
    protocol = 0
    frame = None
    meta_list_pending = False
    meta_archs_memo = None
    memo_strings: dict[int, str] = {}
    start = file.tell()
    try:
        for opcode, arg, pos in pickletools.genops(_BoundedReads(file, source)):
            name = opcode.name
            if pos - start > HEAD_LIMIT:
                break
            if name == "PROTO":
                protocol = arg
                continue
            if name == "FRAME":
                frame = (pos, arg)
                continue
            if name == "STOP":
                break
            if name == "MEMOIZE" or name in _PUT_OPS:
                index = memo_count if name == "MEMOIZE" else arg
                memo_count += name == "MEMOIZE"
                last_memo = max(last_memo, index)
                if stack and type(stack[-1]) is str:
                    memo_strings[index] = stack[-1]
                if meta_list_pending:
                    meta_archs_memo, meta_list_pending = index, False
                continue
            key = _top_level_key(stack, marks)
            if key == "arch2infos":
                if name == "EMPTY_DICT":
                    in_frame = frame if frame and pos < frame[0] + 9 + frame[1] else None
                    return HeadInfo(protocol, pos, in_frame, meta_archs_memo, last_memo)
                if name == "NONE":
                    raise InputError(f"{source}: 'arch2infos' is None: this is the meta.pickle.pbz2 of a NATS "
                                     "'-simple' folder; pass the whole folder")
                raise InputError(f"{source}: 'arch2infos' is not a plain dict ({name}); not a NAS-Bench-201 / "
                                 "NATS-tss release file")
            if name == "EMPTY_LIST" and key == "meta_archs":
                meta_list_pending = True
            value = arg if name in _STRING_OPS else memo_strings.get(arg) if name in _GET_OPS else None
            _simulate(stack, marks, opcode, value, not stack and name == "EMPTY_DICT")
            if stack[0] is not _ROOT:   # a release pickle starts with its top-level dict: stop at once
                break
    except (ValueError, IndexError) as exc:
        raise InputError(f"{source}: not a valid pickle ({exc}); check that this is the original release file") from None
    if not stack or stack[0] is not _ROOT:
        raise InputError(f"{source}: the pickled object is not the release's top-level dict; not a NAS-Bench-201 "
                         "/ NATS-tss release file (one architecture's .pickle.pbz2? pass its '-simple' folder)")
    raise InputError(f"{source}: no 'arch2infos' dict in the first {HEAD_LIMIT >> 20} MB of the pickle; "
                     "not a NAS-Bench-201 / NATS-tss release file")


def _top_level_key(stack: list, marks: list[int]) -> Any:
    """The key whose value comes next in the top-level dict, if the stack is at that point."""
    if not stack or stack[0] is not _ROOT:
        return None
    if marks == [1] and len(stack) % 2 == 1 and len(stack) >= 3:
        return stack[-1]
    if not marks and len(stack) == 2:
        return stack[-1]
    return None


def _simulate(stack: list, marks: list[int], opcode, value: Any, is_root: bool) -> None:
    """Track stack depth and MARKs (values only for strings) using pickletools' stack effects."""
    before = opcode.stack_before
    if pickletools.markobject in before:
        if not marks:
            raise ValueError(f"{opcode.name} without MARK")
        extra = before.index(pickletools.markobject)
        del stack[marks.pop():]
        del stack[len(stack) - extra:]
    elif before:
        if len(stack) < len(before):
            raise ValueError(f"{opcode.name} on a short stack")
        del stack[len(stack) - len(before):]
    for item in opcode.stack_after:
        if item is pickletools.markobject:
            marks.append(len(stack))
            stack.append(_MARK)
        else:
            stack.append(_ROOT if is_root else value)
