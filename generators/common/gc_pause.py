"""Pause Python's cyclic garbage collector around bulk work that creates no reference cycles.

Building or unpickling millions of containers triggers full collections that re-traverse every live
object and find nothing to free; pausing them more than halves unpickling time (measured on the NB201
release) and saves 10-15 % of NDS's JSON decoding.
"""
from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
