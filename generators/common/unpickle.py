"""Restricted unpickling of benchmark releases, with no numpy or torch needed.

Only globals a converter names are resolved; anything else raises ``InputError`` naming the
file and the global. numpy scalars and dtypes are decoded with ``struct`` into plain Python
numbers, so ``np.float64(0.5)`` in a pickle becomes ``0.5``.

Two unpicklers: ``PyRestrictedUnpickler`` (pure Python) keeps its memo in a dict, so a tiny
hostile pickle that stores at memo index 2**28 costs one entry; the C ``RestrictedUnpickler``
(about 12x faster) allocates 8 bytes per index up to the highest one, so callers use it only
where memory is bounded otherwise (a reader process with a memory limit, ``limit_memory``).

Hashing a tuple nested 100,000 deep overflows the C stack (a segfault, not an exception), and a
pickle makes one in a few hundred KB as a dict key or set item: the pure-Python unpickler refuses keys
nested deeper than ``MAX_KEY_DEPTH`` before hashing them. The C unpickler cannot be guarded this way:
it runs only in reader processes, whose crash the converter reports as one line.

Even a pickle of plain objects can build ~70 times its size (``(}}}...l``: one 64-byte dict per
byte), so ``restricted_load`` takes a ``max_memory`` budget: beyond it the load fails with a
one-line error instead of growing the process by gigabytes.
"""
from __future__ import annotations

import contextlib
import pickle
import resource
import struct
from collections import OrderedDict
from typing import IO, Any, Callable, Iterable, Iterator

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


def ordered_dict(*args) -> OrderedDict:
    """Stand-in for ``collections.OrderedDict`` as pickles call it: without arguments (SETITEMS fills it,
    through the key checks of ``PyRestrictedUnpickler``)."""
    if args:
        raise pickle.UnpicklingError("OrderedDict called with arguments; a pickled OrderedDict is filled item by item")
    return OrderedDict()


def latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """Protocol-2 pickles spell ``bytes`` as ``_codecs.encode(text, 'latin1')``; allow only that."""
    if encoding != "latin1":
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r} is not allowed")
    return text.encode("latin1")


#: Globals that appear in NAS benchmark pickles, mapped to safe stand-ins.
KNOWN_GLOBALS: dict[tuple[str, str], Callable[..., Any]] = {
    ("collections", "OrderedDict"): ordered_dict,
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


#: Deepest nesting of tuples / frozensets in a dict key or set item (a release's deepest is 1: ('cifar10', 777)).
MAX_KEY_DEPTH = 32


class PyRestrictedUnpickler(_Restrictions, pickle._Unpickler):
    """The pure-Python unpickler with the restrictions (memo in a dict: bounded by the input's size) and
    the key depth check before every opcode that hashes what the stream built."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def _check_keys(self, keys: Iterable[Any]) -> None:
        """InputError when a key nests tuples or frozensets deeper than ``MAX_KEY_DEPTH`` (hashing it could
        overflow the C stack). Each level is deduplicated, so a key sharing sub-tuples costs what it holds."""
        level = {id(key): key for key in keys if type(key) in (tuple, frozenset)}
        for _ in range(MAX_KEY_DEPTH):
            if not level:
                return
            level = {id(item): item for parent in level.values() for item in parent
                     if type(item) in (tuple, frozenset)}
        if level:
            raise InputError(f"{self.source}: a dict key or set item nested more than {MAX_KEY_DEPTH} levels deep; "
                             "not an original release file")

    def load_setitem(self):
        self._check_keys(self.stack[-2:-1])
        super().load_setitem()
    dispatch[pickle.SETITEM[0]] = load_setitem

    def load_setitems(self):
        self._check_keys(self.stack[0::2])
        super().load_setitems()
    dispatch[pickle.SETITEMS[0]] = load_setitems

    def load_dict(self):
        self._check_keys(self.stack[0::2])
        super().load_dict()
    dispatch[pickle.DICT[0]] = load_dict

    def load_additems(self):
        self._check_keys(self.stack)
        super().load_additems()
    dispatch[pickle.ADDITEMS[0]] = load_additems

    def load_frozenset(self):
        self._check_keys(self.stack)
        super().load_frozenset()
    dispatch[pickle.FROZENSET[0]] = load_frozenset


def _data_bytes() -> int:
    """This process's data segment now (VmData: what RLIMIT_DATA counts), 0 where /proc is not there."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def limit_memory(budget: int) -> int | None:
    """Let this process allocate at most ``budget`` more bytes of data (a MemoryError beyond); returns the
    soft limit it replaced, or None where the data segment cannot be measured (no limit set)."""
    current = _data_bytes()
    if not current:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    limit = current + budget
    for bound in (soft, hard):
        if bound != resource.RLIM_INFINITY:
            limit = min(limit, bound)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    return soft


@contextlib.contextmanager
def memory_budget(budget: int | None) -> Iterator[None]:
    """``limit_memory(budget)`` inside the block only (None: no limit)."""
    previous = limit_memory(budget) if budget is not None else None
    try:
        yield
    finally:
        if previous is not None:
            resource.setrlimit(resource.RLIMIT_DATA, (previous, resource.getrlimit(resource.RLIMIT_DATA)[1]))


def restricted_load(file: IO[bytes], allowed: Iterable[tuple[str, str]], source: str, fast: bool = False,
                    max_memory: int | None = None) -> Any:
    """Unpickle one object from ``file``, turning every low-level failure into a one-line ``InputError``.

    ``fast`` uses the C unpickler: only in a process whose memory is limited (see the class docstrings).
    ``max_memory``: bytes the load may allocate (the built object included); None: no limit of its own.
    """
    unpickler = RestrictedUnpickler if fast else PyRestrictedUnpickler
    try:
        with memory_budget(max_memory):
            return unpickler(file, allowed, source).load()
    except MemoryError:
        raise InputError(f"{source}: unpickling needs more memory than a release file of its size can "
                         "(a damaged or hostile pickle); download the file again") from None
    except InputError:
        raise
    except EOFError:
        raise InputError(f"{source}: truncated pickle (ended early); download the file again") from None
    except (pickle.UnpicklingError, ValueError, TypeError, KeyError, IndexError, AttributeError,
            struct.error, UnicodeDecodeError, OverflowError, RecursionError) as exc:
        detail = " ".join(str(exc).split())[:200]     # the unpickler may quote the damaged bytes, newlines too
        raise InputError(f"{source}: not a valid pickle ({type(exc).__name__}: {detail}); "
                         "check that this is the original release file") from None
