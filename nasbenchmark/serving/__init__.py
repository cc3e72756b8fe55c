"""Datasette serving of the generated benchmark DBs, configured from the benchmark descriptors.

>>> from nasbenchmark import serving
>>> with serving.start() as server:      # every DB in $NASBENCHMARK_DIR, on a free loopback port
...     print(server.url + "nasbench201/top_architectures.json?dataset=cifar100")

The ``nasbenchmark serve`` command (``serving.cli.serve``) mirrors ``start``.
"""
from .metadata import SETTINGS, build_config, build_metadata, database_name
from .server import (CACHE_DIRNAME, Server, ServeError, ServeFiles, available_databases, datasette_command,
                     start, write_config)

__all__ = [
    "SETTINGS", "build_config", "build_metadata", "database_name",
    "CACHE_DIRNAME", "Server", "ServeError", "ServeFiles", "available_databases", "datasette_command",
    "start", "write_config",
]
