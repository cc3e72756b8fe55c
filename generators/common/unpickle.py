"""Restricted unpickling of benchmark releases, with no numpy or torch needed.

Only globals a converter names are resolved; anything else raises ``InputError`` naming the
file and the global. numpy scalars and dtypes are decoded with ``struct`` into plain Python
numbers, so ``np.float64(0.5)`` in a pickle becomes ``0.5``.

Two unpicklers: ``PyRestrictedUnpickler`` (pure Python) keeps its memo in a dict, so a tiny
hostile pickle that stores at memo index 2**28 costs one entry; the C ``RestrictedUnpickler``
(about 12x faster) allocates 8 bytes per index up to the highest one, so callers use it only
where memory is bounded otherwise (a reader process with a memory limit).
"""
from __future__ import annotations

import pickle
import struct
from collections import OrderedDict
from typing import IO, Any, Callable, Iterable

from .errors import InputError

_NUMPY_FORMATS = {"f8": "d", "f4": "f", "f2": "e", "i8": "q", "i4": "i", "i2": "h", "i1": "b",
                  "u8": "Q", "u4": "I", "u2": "H", "u1": "B", "b1": "?"}


class NumpyDType:
    """Stand-in for ``numpy.dtype`` as pickled: ``dtype('f8', False, True)`` + state ``(3, '<', ...)``."""

    def __init__(self, spec: str, align: bool = False, copy: bool = True):
        if spec not in _NUMPY_FORMATS:
            raise pickle.UnpicklingError(f"unsupported numpy dtype {spec!r}")
        self.spec = spec
        self.byteorder = "<"

    def __setstate__(self, state: tuple) -> None:
        if len(state) > 1 and state[1] in ("<", ">", "|", "="):
            self.byteorder = state[1]


def numpy_scalar(dtype: NumpyDType, data: bytes) -> float | int | bool:
    """Stand-in for ``numpy.core.multiarray.scalar``: decode the raw bytes into a Python number."""
    order = ">" if dtype.byteorder == ">" else "<"
    (value,) = struct.unpack(order + _NUMPY_FORMATS[dtype.spec], data)
    return value


def latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """Protocol-2 pickles spell ``bytes`` as ``_codecs.encode(text, 'latin1')``; allow only that."""
    if encoding != "latin1":
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r} is not allowed")
    return text.encode("latin1")


#: Globals that appear in NAS benchmark pickles, mapped to safe stand-ins.
KNOWN_GLOBALS: dict[tuple[str, str], Callable[..., Any]] = {
    ("collections", "OrderedDict"): OrderedDict,
    ("numpy.core.multiarray", "scalar"): numpy_scalar,
    ("numpy._core.multiarray", "scalar"): numpy_scalar,
    ("numpy", "dtype"): NumpyDType,
    ("_codecs", "encode"): latin1_encode,
}


class _Restrictions:
    """``find_class`` resolving only ``allowed`` globals (a subset of ``KNOWN_GLOBALS``), no persistent ids."""

    def __init__(self, file: IO[bytes], allowed: Iterable[tuple[str, str]], source: str):
        super().__init__(file)
        self.allowed = {key: KNOWN_GLOBALS[key] for key in allowed}
        self.source = source

    def find_class(self, module: str, name: str):
        try:
            return self.allowed[(module, name)]
        except KeyError:
            allowed = ", ".join(f"{m}.{n}" for m, n in sorted(self.allowed)) or "none"
            raise InputError(
                f"{self.source}: refusing to unpickle global {module}.{name} (allowed: {allowed}); "
                "this is not an original benchmark release file") from None

    def persistent_load(self, pid):
        raise InputError(f"{self.source}: contains tensor storage {pid!r}; use a release without weights "
                         "(the '-simple' NATS files, or the NAS-Bench-201 .pth)")


class RestrictedUnpickler(_Restrictions, pickle.Unpickler):
    """The C unpickler with the restrictions (fast; memory grows with the highest memo index)."""


class PyRestrictedUnpickler(_Restrictions, pickle._Unpickler):
    """The pure-Python unpickler with the restrictions (memo in a dict: bounded by the input's size)."""


def restricted_load(file: IO[bytes], allowed: Iterable[tuple[str, str]], source: str, fast: bool = False) -> Any:
    """Unpickle one object from ``file``, turning every low-level failure into a one-line ``InputError``.

    ``fast`` uses the C unpickler: only in a process whose memory is limited (see the class docstrings).
    """
    unpickler = RestrictedUnpickler if fast else PyRestrictedUnpickler
    try:
        return unpickler(file, allowed, source).load()
    except InputError:
        raise
    except EOFError:
        raise InputError(f"{source}: truncated pickle (ended early); download the file again") from None
    except (pickle.UnpicklingError, ValueError, TypeError, KeyError, IndexError, AttributeError,
            struct.error, UnicodeDecodeError, OverflowError, MemoryError, RecursionError) as exc:
        raise InputError(f"{source}: not a valid pickle ({type(exc).__name__}: {exc}); "
                         "check that this is the original release file") from None
