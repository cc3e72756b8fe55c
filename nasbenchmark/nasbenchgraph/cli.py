"""``nasbenchmark generate nbgraph`` and ``nasbenchmark query nbgraph``."""
from __future__ import annotations

import json

import click

from .. import database
from .constants import DATASETS, DB_FILENAME


def _parse_arch(value: str | None):
    """--arch accepts a key, an arch string or a JSON ``[link, ops]`` pair."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    if value.startswith("[["):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--arch") from None
    return value


@click.command()
@click.option("--input", "inputs", multiple=True, type=click.Path(exists=True),
              help="A <dataset>.bench file or a folder of them (or with a light/ subfolder); repeatable. "
                   "Default: the installed nas-bench-graph package.")
@click.option("--output", type=click.Path(dir_okay=False),
              help=f"Output DB (default: $NASBENCHMARK_DIR/{DB_FILENAME}).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def generate(inputs, output, quiet):
    """Convert NAS-Bench-Graph light .bench files to SQLite."""
    from generators.nasbenchgraph import convert

    output = output or database.database_path(DB_FILENAME)
    summary = convert(list(inputs) or None, output, progress=not quiet)
    click.echo(f"wrote {output}: {json.dumps(summary)}")


@click.command()
@click.option("--arch", help="Key (61237), arch string ('[0,1,2,1] gcn-gin-fc-cheb', any spelling) or JSON "
                             "[link, ops] ('[[0,1,2,1],[\"gcn\",\"gin\",\"fc\",\"cheb\"]]'). Default: all.")
@click.option("--dataset", type=click.Choice(DATASETS, case_sensitive=False), help="Default: all.")
@click.option("--limit", type=click.IntRange(min=1), help="Print at most this many results.")
@click.option("--db", type=click.Path(exists=True, dir_okay=False), help="Use this DB file.")
def query(arch, dataset, limit, db):
    """Print query_nbgraph_computed_stats(...) as JSON lines."""
    from itertools import islice

    from . import schema
    from .query import query_nbgraph_computed_stats

    if db:
        schema.bind(db)
    for row in islice(query_nbgraph_computed_stats(_parse_arch(arch), dataset), limit):
        click.echo(json.dumps(row))
