"""What every ``nasbenchmark query <benchmark>`` command shares: the ``--db``/``--limit`` options, the
``--arch`` spelling, printing JSON lines, and saying why nothing matched."""
from __future__ import annotations

import json
from itertools import islice
from typing import Callable, Iterable

import click

from . import database, registry
from .provenance import read_provenance


def common_options(command: Callable) -> Callable:
    command = click.option("--db", type=click.Path(dir_okay=False),
                           help="Use this DB file (default: the benchmark's DB in $NASBENCHMARK_DIR).")(command)
    return click.option("--limit", type=click.IntRange(min=1), help="Print at most this many results.")(command)


def parse_arch(value: str | None, json_start: str):
    """``--arch``: an integer, JSON (when it starts with ``json_start``) or any other text, passed on."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    if value.startswith(json_start):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--arch") from None
    return value


def bind_db(key: str, bind: Callable, path: str | None) -> None:
    """Bind the benchmark's models to ``--db``, refusing a file that is not this benchmark's DB."""
    bench = registry.benchmark(key)
    if path is None:
        path = str(database.database_path(bench.db_filename))
        if not database.database_path(bench.db_filename).is_file():
            raise database.DatabaseNotFoundError(f"no {bench.title} DB at {path}; generate it: {bench.generate_command}")
    try:
        with database.connect_readonly(path) as conn:
            tables = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
    except database.sqlite3.DatabaseError as exc:
        raise click.ClickException(f"--db {path}: not an SQLite database ({exc}); pass a DB made by "
                                   f"{bench.generate_command}") from None
    needed = [t.name for t in bench.tables if t.model and t.name not in tables]
    if needed:
        found = read_provenance(path).get("benchmark") or "no nasbenchmark metadata"
        raise click.ClickException(f"--db {path}: not a {bench.title} DB (no {', '.join(needed)}; it is {found}); "
                                   f"pass a DB made by {bench.generate_command}")
    bind(path)


def print_rows(key: str, rows: Iterable[dict], limit: int | None, arch_given: bool) -> None:
    """Print JSON lines; when an architecture matched nothing, say what this DB holds (exit 1)."""
    printed = 0
    for row in islice(rows, limit):
        click.echo(json.dumps(row))
        printed += 1
    if printed == 0:
        bench = registry.benchmark(key)
        provenance = read_provenance(_bound_path(key))
        held = provenance.evaluated_archs
        facts = [] if held is None else [f"it holds {held:,} of the {bench.space.size:,} architectures"
                                          if bench.space.size else f"it holds {held:,} architectures"]
        facts += [f"it has no {name} {', '.join(map(str, values))}" for name, values in provenance.absent.items()
                  if name not in ("columns", "tables")]
        what = "this architecture with these filters" if arch_given else "these filters"
        raise click.ClickException(f"no results for {what} in this DB ({provenance.label}"
                                   + "".join(f"; {fact}" for fact in facts) + ")")


def _bound_path(key: str):
    import importlib

    schema = importlib.import_module(registry.BENCHMARK_PACKAGES[key] + ".schema")
    schema.DATABASE.connection()
    return schema.DATABASE.path
