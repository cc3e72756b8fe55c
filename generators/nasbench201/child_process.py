"""Reader processes that die with the converter, stay quiet on Ctrl-C and cannot exhaust memory.

Used by the ``.pth`` reader child and the NATS pool workers, in the process itself, first thing:
the kernel kills it when its parent dies (``PR_SET_PDEATHSIG``, Linux), Ctrl-C is left to the
parent (which stops its children: one line, no traceback per process), SIGTERM ends it, and a memory limit turns a
hostile pickle's giant allocation (a memo index of 2**28 in the C unpickler) into a MemoryError.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys

from generators.common.unpickle import limit_memory

_PR_SET_PDEATHSIG = 1


def become_reader(parent_pid: int, memory_budget: int) -> None:
    """Die with ``parent_pid``, ignore SIGINT, and allow ``memory_budget`` more bytes of data."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:       # the parent died before the line above
            os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)     # not the parent's handler, inherited by fork
    limit_memory(memory_budget)
