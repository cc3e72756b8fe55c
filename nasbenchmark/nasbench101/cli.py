"""``nasbenchmark query nb101``: ``query_nb101_computed_stats`` as JSON lines."""
from __future__ import annotations

import click

from ..query_cli import bind_db, common_options, parse_arch, print_rows
from .constants import BUDGETS


@click.command()
@click.option("--arch", help="Module hash, arch_id, NNI's JSON dict ('{\"op1\": ..., \"input1\": [0], ...}') or a JSON "
                             "[matrix, ops] pair, any isomorphic or unpruned spelling. Default: all.")
@click.option("--epochs", "num_epochs", type=click.Choice([str(b) for b in BUDGETS]), help="4, 12, 36 or 108.")
@click.option("--exact-spelling", is_flag=True, help="Match only the spelling the release stores (NNI's "
                                                     "isomorphism=False).")
@click.option("--reduction", type=click.Choice(["none", "mean"]), default="none", show_default=True)
@click.option("--intermediates", is_flag=True, help="Include the halfway and final evaluations.")
@common_options
def query(arch, num_epochs, exact_spelling, reduction, intermediates, limit, db):
    """Print query_nb101_computed_stats(...) as JSON lines."""
    from . import schema
    from .query import query_nb101_computed_stats

    bind_db("nb101", schema.bind, db)
    if arch is not None and len(arch.strip()) == 32:
        spelling = arch.strip()  # a hash, even one of decimal digits only
    else:
        spelling = parse_arch(arch, "[" if arch and arch.lstrip().startswith("[") else "{")
    rows = query_nb101_computed_stats(spelling, int(num_epochs) if num_epochs else None,
                                      isomorphism=not exact_spelling, reduction=reduction,
                                      include_intermediates=intermediates)
    print_rows("nb101", rows, limit, arch is not None)
