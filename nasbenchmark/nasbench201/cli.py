"""``nasbenchmark generate nb201`` and ``nasbenchmark query nb201``."""
from __future__ import annotations

import json

import click

from .. import database
from .constants import DATASETS, DB_FILENAME, NUM_EPOCHS


def _parse_arch(value: str | None):
    """--arch accepts an index, an arch string or a JSON dict."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    if value.startswith("{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--arch") from None
    return value


@click.command()
@click.option("--input", "input_path", required=True, type=click.Path(exists=True),
              help="NAS-Bench-201 .pth (v1_0/v1_1), a NATS-tss '-simple' folder or the single NATS-tss .pickle.pbz2.")
@click.option("--output", type=click.Path(dir_okay=False),
              help=f"Output DB (default: $NASBENCHMARK_DIR/{DB_FILENAME}).")
@click.option("--sample", is_flag=True, help="Mark the DB as a synthetic sample (for fixture inputs).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def generate(input_path, output, sample, quiet):
    """Convert NAS-Bench-201 / NATS-Bench topology release files to SQLite."""
    from generators.nasbench201 import convert

    output = output or database.database_path(DB_FILENAME)
    summary = convert(input_path, output, progress=not quiet, synthetic=sample)
    click.echo(f"wrote {output}: {summary}")


@click.command()
@click.option("--arch", help="Official index, original arch string, or 6-edge JSON dict. Default: all.")
@click.option("--epochs", "num_epochs", type=click.Choice([str(e) for e in NUM_EPOCHS]), help="12 or 200.")
@click.option("--dataset", type=click.Choice(DATASETS, case_sensitive=False))
@click.option("--reduction", type=click.Choice(["none", "mean"]), default="none", show_default=True)
@click.option("--intermediates", is_flag=True, help="Include per-epoch rows.")
@click.option("--limit", type=click.IntRange(min=1), help="Print at most this many results.")
@click.option("--db", type=click.Path(exists=True, dir_okay=False), help="Use this DB file.")
def query(arch, num_epochs, dataset, reduction, intermediates, limit, db):
    """Print query_nb201_computed_stats(...) as JSON lines."""
    from itertools import islice

    from . import schema
    from .query import query_nb201_computed_stats

    if db:
        schema.bind(db)
    rows = query_nb201_computed_stats(_parse_arch(arch), int(num_epochs) if num_epochs else None, dataset,
                                      reduction=reduction, include_intermediates=intermediates)
    for row in islice(rows, limit):
        click.echo(json.dumps(row))
