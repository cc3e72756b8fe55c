"""``nasbenchmark query nb201``: ``query_nb201_computed_stats`` as JSON lines."""
from __future__ import annotations

import click

from ..query_cli import bind_db, common_options, parse_arch, print_rows
from .constants import DATASETS, NUM_EPOCHS


@click.command()
@click.option("--arch", help="Official index, original arch string, or 6-edge JSON dict. Default: all.")
@click.option("--epochs", "num_epochs", type=click.Choice([str(e) for e in NUM_EPOCHS]), help="12 or 200.")
@click.option("--dataset", type=click.Choice(DATASETS, case_sensitive=False))
@click.option("--reduction", type=click.Choice(["none", "mean"]), default="none", show_default=True)
@click.option("--intermediates", is_flag=True, help="Include per-epoch rows.")
@common_options
def query(arch, num_epochs, dataset, reduction, intermediates, limit, db):
    """Print query_nb201_computed_stats(...) as JSON lines."""
    from . import schema
    from .query import query_nb201_computed_stats

    bind_db("nb201", schema.bind, db)
    rows = query_nb201_computed_stats(parse_arch(arch, "{"), int(num_epochs) if num_epochs else None, dataset,
                                      reduction=reduction, include_intermediates=intermediates)
    print_rows("nb201", rows, limit, arch is not None)
