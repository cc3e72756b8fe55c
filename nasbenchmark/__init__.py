"""nasbenchmark: NAS benchmarks as SQLite, with NNI-compatible peewee models and queries.

Each benchmark lives in its own subpackage (``nasbenchmark.nasbench201``,
``nasbenchmark.nasbenchgraph``, ...) with the same few modules: ``constants``,
``schema``, ``query``, ``graph_util`` and ``catalog`` (canned queries and column docs).
"""

__version__ = "0.1.0"
