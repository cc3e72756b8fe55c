"""nasbenchmark: NAS benchmarks as SQLite, with NNI-compatible peewee models and queries.

Each benchmark lives in its own subpackage (``nasbenchmark.nasbench201``,
``nasbenchmark.nasbenchgraph``, ...) with the same few modules: ``constants``, ``descriptor``
(its tables, columns, canned queries and site views, declared once), ``schema`` (the peewee models
derived from it), ``query``, ``graph_util`` and ``cli``.
"""

__version__ = "0.1.0"
