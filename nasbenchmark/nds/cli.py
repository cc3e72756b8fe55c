"""``nasbenchmark query nds``: ``query_nds_computed_stats`` as JSON lines."""
from __future__ import annotations

import json

import click

from ..query_cli import bind_db, common_options, print_rows
from .constants import DATASETS, GENERATORS, MODEL_FAMILIES, PROPOSERS


def _spec(option: str, value: str | None):
    """A --model-spec / --cell-spec value: a JSON object, or None when not given."""
    if value is None:
        return None
    try:
        spec = json.loads(value)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint=option) from None
    if not isinstance(spec, dict):
        raise click.BadParameter(f"must be a JSON object, got {type(spec).__name__}", param_hint=option)
    return spec


@click.command()
@click.option("--family", "model_family", type=click.Choice(MODEL_FAMILIES), help="Default: all.")
@click.option("--proposer", type=click.Choice(PROPOSERS), help="The design space. Default: all.")
@click.option("--generator", type=click.Choice(GENERATORS), help="Default: all.")
@click.option("--model-spec", help='JSON object, e.g. \'{"ds": [1,12,12,12], "ss": [1,1,2,2], "ws": [16,24,24,40]}\'.')
@click.option("--cell-spec", help="JSON object; '{}' selects the families without cells.")
@click.option("--dataset", type=click.Choice(DATASETS), help="Default: all.")
@click.option("--epochs", "num_epochs", type=click.IntRange(min=1), help="Default: all.")
@click.option("--reduction", type=click.Choice(["none", "mean"]), default="none", show_default=True)
@click.option("--intermediates", is_flag=True, help="Include per-epoch rows.")
@common_options
def query(model_family, proposer, generator, model_spec, cell_spec, dataset, num_epochs, reduction, intermediates,
          limit, db):
    """Print query_nds_computed_stats(...) as JSON lines."""
    from . import schema
    from .query import query_nds_computed_stats

    model_spec, cell_spec = _spec("--model-spec", model_spec), _spec("--cell-spec", cell_spec)
    bind_db("nds", schema.bind, db)
    rows = query_nds_computed_stats(model_family, proposer, generator, model_spec, cell_spec, dataset, num_epochs,
                                    reduction=reduction, include_intermediates=intermediates)
    print_rows("nds", rows, limit, model_spec is not None or cell_spec is not None)
