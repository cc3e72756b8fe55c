"""``nasbenchmark generate nds``: ``convert`` as a command."""
from __future__ import annotations

import click

from nasbenchmark import database
from nasbenchmark.nds.constants import DB_FILENAME


@click.command()
@click.option("--input", "input_path", required=True, type=click.Path(),
              help="The NDS data.zip, the folder of its 34 JSON files, or a folder holding either.")
@click.option("--output", type=click.Path(dir_okay=False),
              help=f"Output DB (default: $NASBENCHMARK_DIR/{DB_FILENAME}).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def generate(input_path, output, quiet):
    """Convert the NDS release (data.zip of facebookresearch/nds) to SQLite."""
    from .convert import convert

    output = output or database.database_path(DB_FILENAME)
    click.echo(f"wrote {output}: {convert(input_path, output, progress=not quiet)}")
