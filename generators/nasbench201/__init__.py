"""NAS-Bench-201 / NATS-Bench topology (tss) converter, fixture writer and sample DB.

>>> from generators.nasbench201 import convert
>>> print(convert("NAS-Bench-201-v1_1-096897.pth", "nasbench201.db"))
"""
from .convert import ConvertSummary, convert
from .detect import detect_format
from .fixtures import FORMATS, build_full_scale_db, write_fixture
from .sample import build_sample_db

__all__ = ["convert", "ConvertSummary", "detect_format", "FORMATS", "write_fixture", "build_sample_db",
           "build_full_scale_db"]
