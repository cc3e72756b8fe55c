"""``nasbenchmark query nbgraph``: ``query_nbgraph_computed_stats`` as JSON lines."""
from __future__ import annotations

import click

from ..query_cli import bind_db, common_options, parse_arch, print_rows
from .constants import DATASETS


@click.command()
@click.option("--arch", help="Key (61237), arch string ('[0,1,2,1] gcn-gin-fc-cheb', any spelling) or JSON "
                             "[link, ops] ('[[0,1,2,1],[\"gcn\",\"gin\",\"fc\",\"cheb\"]]'). Default: all.")
@click.option("--dataset", type=click.Choice(DATASETS, case_sensitive=False), help="Default: all.")
@common_options
def query(arch, dataset, limit, db):
    """Print query_nbgraph_computed_stats(...) as JSON lines."""
    from . import schema
    from .query import query_nbgraph_computed_stats

    bind_db("nbgraph", schema.bind, db)
    print_rows("nbgraph", query_nbgraph_computed_stats(parse_arch(arch, "[["), dataset), limit, arch is not None)
