"""Bad input, and how a message shows the value that was wrong.

``InputError`` is the one error type for bad input (a file, a record, an argument): its message names
what is wrong and how to fix it, on one line. The converters raise it; the CLI prints it and exits 1.
``shown`` describes any value in a message, however large or deep it is.
"""
from __future__ import annotations

import reprlib
from typing import Any


class InputError(Exception):
    """Bad input: the message names the file/record/argument and says how to fix it."""


class _BoundedRepr(reprlib.Repr):
    """``reprlib`` limits (depth, items, string length) for every type a hostile value can have.

    reprlib falls back to the full ``repr`` for types it does not know, which for a 100k-deep
    OrderedDict recurses past the limit and for a 5,000-digit int raises ValueError (Python caps
    decimal conversion at 4,300 digits): both are spelled here instead.
    """

    def __init__(self):
        super().__init__()
        self.maxlevel, self.maxstring, self.maxother = 2, 40, 40

    def repr_OrderedDict(self, value, level):
        return self.repr_dict(value, level)

    def repr_int(self, value, level):
        if value.bit_length() > 64:
            return f"<int of {value.bit_length():,} bits>"
        return super().repr_int(value, level)

    def repr_bytes(self, value, level):
        return repr(value[:self.maxstring]) + ("..." if len(value) > self.maxstring else "")


_bounded_repr = _BoundedRepr()


def shown(value: Any) -> str:
    """A short repr of any value for an error message (deep, long or huge values are cut or described)."""
    try:
        return _bounded_repr.repr(value)
    except (ValueError, RecursionError):
        return f"<a {type(value).__name__}>"


def describe(value: Any) -> str:
    """``shown(value)`` with its type: ``list [[[...]]]``, ``str '777'``."""
    return f"{type(value).__name__} {shown(value)}"
