"""NAS-Bench-Graph converter: the release's ``light/*.bench`` pickles -> ``nasbenchgraph.db``.

>>> from generators.nasbenchgraph import convert
>>> convert(None, "nasbenchgraph.db")  # None: the installed nas-bench-graph package
"""
from .convert import convert, convert_installed

__all__ = ["convert", "convert_installed"]
