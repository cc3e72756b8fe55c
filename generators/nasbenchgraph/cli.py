"""``nasbenchmark generate nbgraph``: ``convert`` as a command."""
from __future__ import annotations

import click

from nasbenchmark import database
from nasbenchmark.nasbenchgraph.constants import DB_FILENAME


@click.command()
@click.option("--input", "inputs", multiple=True, type=click.Path(),
              help="A <dataset>.bench file or a folder of them (or with a light/ subfolder); repeatable. "
                   "Default: the installed nas-bench-graph package.")
@click.option("--output", type=click.Path(dir_okay=False),
              help=f"Output DB (default: $NASBENCHMARK_DIR/{DB_FILENAME}).")
@click.option("--force", is_flag=True, help="Convert a known release file whose checksum differs (marked in the "
              "DB's metadata) instead of refusing it.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def generate(inputs, output, force, quiet):
    """Convert NAS-Bench-Graph light .bench files to SQLite."""
    from . import convert

    output = output or database.database_path(DB_FILENAME)
    summary = convert(list(inputs) or None, output, progress=not quiet, force=force)
    datasets = ", ".join(f"{name} {count:,}" for name, count in summary["datasets"].items())
    click.echo(f"wrote {output}: {summary['architectures']:,} architectures, {summary['results']:,} results "
               f"({datasets}) in {summary['seconds']} s")
