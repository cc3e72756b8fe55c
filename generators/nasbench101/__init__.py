"""NAS-Bench-101 converter: ``nasbench_full.tfrecord`` / ``nasbench_only108.tfrecord`` -> ``nasbench101.db``.

>>> from generators.nasbench101 import convert
>>> convert("nasbench_full.tfrecord", "nasbench101.db")

The pieces: ``iter_tfrecords`` (framing, both CRC-32C checks), ``read_records`` (each record decoded and
checked) and ``Completeness`` (numbering, repeats, what a partial file lacks).
"""
from .convert import ConvertSummary, convert
from .records import FULL, ONLY108, Cell, Completeness, Evaluation, Record, decode_record, read_records
from .tfrecord import iter_tfrecords, masked_crc32c

__all__ = ["convert", "ConvertSummary", "read_records", "decode_record", "Record", "Cell", "Evaluation",
           "Completeness", "FULL", "ONLY108", "iter_tfrecords", "masked_crc32c"]
