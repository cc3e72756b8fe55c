"""NAS-Bench-201 / NATS-Bench topology (tss) converter.

>>> from generators.nasbench201 import convert
>>> print(convert("NAS-Bench-201-v1_1-096897.pth", "nasbench201.db"))

Modules: ``convert`` (the entry point), ``detect`` (the input format, from the file's bytes),
``release`` (the reader interface), ``nats_simple`` (the ``-simple`` folder), ``stream_release`` (one
big pickle: the .pth files and the NATS single file, read in a child process) with ``pickle_head``,
``entry_stream``, ``stream_unpickler`` and ``entry_resolver``, ``rows`` (the row builder and its value
checks), ``dbwriter`` (the tables). Synthetic release files: ``generators.fixtures.nb201``.
"""
from .convert import ConvertSummary, convert
from .detect import detect_format

__all__ = ["convert", "ConvertSummary", "detect_format"]
