"""The static website: pages from ``templates/`` and in-browser SQLite DBs read over HTTP Range.

``build(out_dir, db_dir=None) -> BuildReport`` writes the site; ``serve(site_dir)`` previews it
with a server that answers Range requests (see ``site_builder.server`` for host requirements).
"""
from .build import BuildReport, build
from .server import serve

__all__ = ["BuildReport", "build", "serve"]
