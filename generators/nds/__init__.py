"""NDS converter: the release's 34 JSON files (``data.zip`` or extracted) -> ``nds.db``.

The reader streams the files with bounds, the row builder turns each job record into rows, the writer
numbers and inserts them, ``convert`` puts the pieces together.

>>> from generators.nds import convert
>>> convert("data.zip", "nds.db")
"""
from .convert import ConvertSummary, convert
from .reader import JobRecord, Limits, Release, open_release
from .rows import ConfigRow, JobRows, TrialRow, build_rows

__all__ = ["convert", "ConvertSummary", "JobRecord", "Limits", "Release", "open_release", "ConfigRow", "JobRows",
           "TrialRow", "build_rows"]
