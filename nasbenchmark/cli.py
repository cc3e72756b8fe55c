"""The ``nasbenchmark`` command: a thin click layer, each command mirroring one API call.

Benchmarks plug in through ``<benchmark package>.cli``, which defines ``generate`` and ``query``
click commands named after the benchmark key (``nb201``, ``nbgraph``).
"""
from __future__ import annotations

import importlib
import json
import sqlite3
import sys

try:
    import click
except ImportError:  # pragma: no cover - the helper itself only needs peewee
    sys.exit("the nasbenchmark command needs click: pip install 'nasbenchmark[cli]'")

from . import database, registry


class _Group(click.Group):
    """Prints known failures (bad input, missing DB, wrong value) as one line and exits 1."""

    def invoke(self, ctx):
        from generators.common.errors import InputError

        try:
            return super().invoke(ctx)
        except (InputError, ValueError, database.DatabaseNotFoundError, sqlite3.DatabaseError) as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Group)
@click.version_option(package_name="nasbenchmark")
def main():
    """NAS benchmarks as SQLite: generate, query, serve and publish them."""


@main.group()
def generate():
    """Convert a benchmark's original release files to SQLite."""


@main.group()
def query():
    """Query a generated benchmark DB; prints one JSON object per line."""


def _register_benchmark_commands() -> None:
    for key, package in registry.BENCHMARK_PACKAGES.items():
        try:
            module = importlib.import_module(package + ".cli")
        except ModuleNotFoundError:
            continue
        generate.add_command(module.generate, key)
        query.add_command(module.query, key)


_register_benchmark_commands()


def _register_optional_commands() -> None:
    """``serve``, ``up`` and ``build-site`` need the serve/site extras; without them they are absent."""
    from .serving.cli import serve

    main.add_command(serve)
    try:
        from site_builder.cli import build_site
    except ImportError:  # site_builder ships with the source tree, not with every install
        return
    from .up import up

    main.add_command(build_site)
    main.add_command(up)


_register_optional_commands()


def print_json_lines(rows) -> None:
    for row in rows:
        click.echo(json.dumps(row))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per DB instead of text.")
def info(as_json):
    """Which DBs exist in NASBENCHMARK_DIR, their size, row counts, and whether they are real or synthetic."""
    for cat in registry.catalogs():
        path = database.database_path(cat.db_filename)
        entry = {"benchmark": cat.key, "path": str(path), "exists": path.is_file()}
        if path.is_file():
            meta = database.read_metadata(path)
            missing = cat.missing_tables(path)
            with database.connect_readonly(path) as conn:
                counts = {t.name: conn.execute(f'select count(*) from "{t.name}"').fetchone()[0]
                          for t in cat.tables if t.name not in missing}
            entry.update(size_bytes=path.stat().st_size, synthetic=meta.get("synthetic") == "true",
                         rows=counts, created=meta.get("created"), missing_tables=missing)
        if as_json:
            click.echo(json.dumps(entry))
        elif not entry["exists"]:
            click.echo(f"{cat.key:8} missing  {path}  (generate: {cat.generate_command})")
        else:
            kind = "SYNTHETIC SAMPLE" if entry["synthetic"] else "real"
            rows = ", ".join(f"{k}={v:,}" for k, v in entry["rows"].items())
            click.echo(f"{cat.key:8} {kind:16} {entry['size_bytes'] / 1e6:9.1f} MB  {path}\n         {rows}")
            if entry["missing_tables"]:
                click.echo(f"         OUTDATED: no {', '.join(entry['missing_tables'])} "
                           f"(written by an older nasbenchmark); regenerate: {cat.generate_command}")


if __name__ == "__main__":  # pragma: no cover
    main()
