"""``nasbenchmark generate nb101``: ``convert`` as a command."""
from __future__ import annotations

import click

from nasbenchmark import database
from nasbenchmark.nasbench101.constants import DB_FILENAME


@click.command()
@click.option("--input", "input_path", required=True, type=click.Path(),
              help="nasbench_full.tfrecord or nasbench_only108.tfrecord (the kind is read from the file).")
@click.option("--output", type=click.Path(dir_okay=False),
              help=f"Output DB (default: $NASBENCHMARK_DIR/{DB_FILENAME}).")
@click.option("--sample", is_flag=True, help="Mark the DB as a synthetic sample (for fixture inputs).")
@click.option("--force", is_flag=True, help="Convert a release file whose sha256 differs from the published one "
                                            "(the DB's metadata says so).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def generate(input_path, output, sample, force, quiet):
    """Convert the NAS-Bench-101 release (google-research/nasbench tfrecord) to SQLite, without TensorFlow."""
    from .convert import convert

    output = output or database.database_path(DB_FILENAME)
    click.echo(f"wrote {output}: {convert(input_path, output, progress=not quiet, synthetic=sample, force=force)}")
