"""Write ``numpy.float64`` values into pickles without numpy.

``NumpyFloat64(x)`` pickles as numpy itself does: ``numpy.core.multiarray.scalar(
numpy.dtype('f8', False, True) + state, <8 little-endian bytes>)``. The pickler insists that a
global it writes can be imported, so the stand-ins live in placeholder modules whose names have
the same length as numpy's (``NUMPY``, ``NUMPY.CORE.MULTIARRAY``), registered only while
``numpy_globals()`` is active; ``real_numpy_names(data)`` then renames them in the pickled bytes.
Same-length names keep protocol-4 frame lengths valid.
"""
from __future__ import annotations

import contextlib
import struct
import sys
import types
from typing import Iterator

_PLACEHOLDERS = {"NUMPY.CORE.MULTIARRAY": "numpy.core.multiarray", "NUMPY": "numpy"}


class NumpyFloat64(float):
    """A float that pickles as ``numpy.float64`` (inside ``numpy_globals()``)."""

    def __reduce__(self):
        return _scalar, (_FLOAT64, struct.pack("<d", self))


class _DType:
    def __reduce__(self):
        return _dtype, ("f8", False, True), (3, "<", None, None, None, -1, -1, 0)


def _stand_in(module: str, name: str):
    def stand_in(*args):  # pragma: no cover - only ever pickled, never called
        raise RuntimeError(f"{module}.{name} is a pickling placeholder")
    stand_in.__module__, stand_in.__qualname__, stand_in.__name__ = module, name, name
    return stand_in


_scalar = _stand_in("NUMPY.CORE.MULTIARRAY", "scalar")
_dtype = _stand_in("NUMPY", "dtype")
_FLOAT64 = _DType()


@contextlib.contextmanager
def numpy_globals() -> Iterator[None]:
    """Make the placeholder modules importable for the pickler while writing."""
    modules = {"NUMPY.CORE.MULTIARRAY": types.ModuleType("NUMPY.CORE.MULTIARRAY"), "NUMPY": types.ModuleType("NUMPY")}
    modules["NUMPY.CORE.MULTIARRAY"].scalar = _scalar
    modules["NUMPY"].dtype = _dtype
    saved = {name: sys.modules.get(name) for name in modules}
    sys.modules.update(modules)
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


# Each placeholder as the pickler writes it: protocol <= 3 GLOBAL text, protocol 4 SHORT_BINUNICODE.
_RENAMES = []
for _placeholder, _real in _PLACEHOLDERS.items():
    _RENAMES.append((f"c{_placeholder}\n".encode(), f"c{_real}\n".encode()))
    _RENAMES.append((b"\x8c" + bytes([len(_placeholder)]) + _placeholder.encode() + b"\x94",
                     b"\x8c" + bytes([len(_real)]) + _real.encode() + b"\x94"))


def real_numpy_names(data: bytes) -> bytes:
    """Rename the placeholder modules to numpy's in pickled bytes (lengths are unchanged)."""
    for placeholder, real in _RENAMES:
        if placeholder in data:
            data = data.replace(placeholder, real)
    return data
