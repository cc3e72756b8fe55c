"""Query NDS results: ``query_nds_computed_stats`` (NNI: ``query_nds_trial_stats``).

Each query is a single SQL statement (plus one for all per-epoch rows when asked), built from bound
parameters, instead of NNI's one query per trial.
"""
from __future__ import annotations

import json
from typing import Any, Iterator

from .constants import DATASETS, GENERATORS, MODEL_FAMILIES, PROPOSERS
from .descriptor import CELL_PREFIX
from ..computed_stats import RunShape, computed_stats, is_mean
from .schema import CONFIG_COLUMNS, DATABASE, INTERMEDIATE_COLUMNS, STATS_COLUMNS

_CHOICES = {"model_family": MODEL_FAMILIES, "proposer": PROPOSERS, "generator": GENERATORS, "dataset": DATASETS}
#: Columns a 'mean' reduction averages: every number (the text columns say where a single run came from).
_MEAN_COLUMNS = [name for name in STATS_COLUMNS if name not in ("job_id", "sweep", "rerun_group")]


def spec_json(spec: dict) -> str:
    """A spec as the DB stores it: JSON with sorted keys and no spaces, so key order never matters."""
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


def _selection(filters: dict[str, Any]) -> tuple[str, str, list]:
    """(the configuration table as the FROM clause names it, the WHERE clause, its parameters)."""
    source = "ndstrialconfig c"
    conditions, params = [], []
    for name, value in filters.items():
        if value is None:
            continue
        column = f"c.{name}"
        if name in _CHOICES:
            if not isinstance(value, str) or value.lower() not in _CHOICES[name]:
                raise ValueError(f"unsupported {name} {value!r}; expected one of {_CHOICES[name]} or None")
            value = value.lower()
        elif name in ("model_spec", "cell_spec"):
            if not isinstance(value, dict):
                raise ValueError(f"{name} must be a dict (cell_spec={{}} for families without cells) or None, "
                                 f"got {type(value).__name__}")
            if name == "cell_spec" and value:
                # A cell: through the index on the text's first characters (the whole text has none). SQLite's
                # statistics average over the 70 % of configurations without cells, so it would prefer
                # model_spec, which thousands of NAS-cell configurations share: hence the hint. The unary +
                # keeps SQLite from substituting the value into substr(), which would hide the index.
                source += " indexed by ndstrialconfig_cell_spec_prefix"
                conditions.append(f"substr(c.cell_spec, 1, {CELL_PREFIX}) = ?")
                params.append(spec_json(value)[:CELL_PREFIX])
                column = "+c.cell_spec"
            value = spec_json(value)
        elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"unsupported num_epochs {value!r}; expected a positive number of epochs "
                             "(100 on cifar10; ImageNet runs are shorter) or None")
        conditions.append(f"{column} = ?")
        params.append(value)
    return source, (" where " + " and ".join(conditions)) if conditions else "", params


_SHAPE = RunShape(CONFIG_COLUMNS, STATS_COLUMNS, "seed", "ndsintermediatestats", INTERMEDIATE_COLUMNS,
                  ("model_spec", "cell_spec", "optim"), mean_columns=_MEAN_COLUMNS)


def query_nds_computed_stats(model_family, proposer, generator, model_spec, cell_spec, dataset, num_epochs=None,
                             reduction=None, include_intermediates=False) -> Iterator[dict]:
    """Query NDS results, one dict per training run (or per configuration with ``reduction='mean'``).

    Every filter is an equality on the configuration; ``None`` matches all.

    Parameters
    ----------
    model_family : str or None
        ``'nas_cell'``, ``'residual_bottleneck'``, ``'residual_basic'`` or ``'vanilla'``.
    proposer : str or None
        The design space: ``'amoeba'``, ``'darts'``, ``'enas'``, ``'nasnet'``, ``'pnas'``, ``'resnext-a'``,
        ``'resnext-b'``, ``'resnet-b'``, ``'resnet'`` or ``'vanilla'``.
    generator : str or None
        How configurations were sampled: ``'random'``, ``'fix_w_d'`` or ``'tune_lr_wd'``.
    model_spec : dict or None
        The network, as stored (any key order): ``{'ds': [...], 'ws': [...], 'ss': [...]}`` (plus
        ``'bot_muls'`` and ``'num_gs'`` for bottleneck blocks), or for NAS cells ``{'num_nodes_normal',
        'num_nodes_reduce', 'depth', 'width', 'aux', 'drop_prob'}``.
    cell_spec : dict or None
        The NAS cells (``'normal_0_op_x'``, ``'normal_0_input_x'``, ..., ``'reduce_concat'``); ``{}`` selects
        the families without cells exactly.
    dataset : str or None
        ``'cifar10'`` or ``'imagenet'``.
    num_epochs : int or None
        Training epochs.
    reduction : str or None
        ``None`` or ``'none'``: one dict per run. ``'mean'``: one dict per configuration, every number
        averaged over its runs (``id`` is None, no ``seed`` and no per-run labels).
    include_intermediates : bool
        Add ``'intermediates'``: the per-epoch rows (``current_epoch`` 1-based). With ``'mean'`` they are
        per-epoch means over the runs.

    Returns
    -------
    generator of dict
        ``{'id', 'config': {'id', 'model_family', 'model_spec', 'cell_spec', 'dataset', 'generator', 'proposer',
        'base_lr', 'weight_decay', 'num_epochs', 'optim'}, 'seed', 'final_train_acc', 'final_train_loss',
        'final_test_acc', 'best_train_acc', 'best_train_loss', 'best_test_acc', 'parameters', 'flops',
        'iter_time', ...}``: NNI's keys first, then the fields NNI drops. Accuracies are percent,
        ``parameters`` millions, ``flops`` MFLOPs.

    Example
    -------
    >>> spec = {'ds': [1, 12, 12, 12], 'ss': [1, 1, 2, 2], 'ws': [16, 24, 24, 40]}
    >>> for run in query_nds_computed_stats('residual_basic', 'resnet', 'random', spec, {}, 'cifar10'):
    ...     print(run['seed'], run['final_test_acc'])
    """
    mean = is_mean(reduction)
    source, where, params = _selection({"model_family": model_family, "proposer": proposer, "generator": generator,
                                        "model_spec": model_spec, "cell_spec": cell_spec, "dataset": dataset,
                                        "num_epochs": num_epochs})
    from_sql = f"from {source} join ndstrialstats s on s.config_id = c.id"
    yield from computed_stats(DATABASE.connection(), _SHAPE, from_sql, where, params, mean, include_intermediates)


#: NNI's released name.
query_nds_trial_stats = query_nds_computed_stats
