"""The static website: pages from ``templates/`` and in-browser SQLite DBs read over HTTP Range.

``build(out_dir, db_dir=None) -> BuildReport`` writes the site; ``site_builder.server.serve(site_dir)``
previews it with a server that answers Range requests (see there for host requirements).
"""
from .build import BuildReport, build

__all__ = ["BuildReport", "build"]
