"""Query NAS-Bench-201 results: ``query_nb201_computed_stats`` (NNI: ``query_nb201_trial_stats``).

Each query is a single SQL statement (plus one for all per-epoch rows when asked), built from
bound parameters, instead of NNI's one query per trial.
"""
from __future__ import annotations

from typing import Any, Iterator

from .constants import DATASETS, NUM_ARCHS, NUM_EPOCHS
from .graph_util import arch_json, arch_str_to_dict, shown
from ..computed_stats import RunShape, computed_stats, is_mean
from .schema import DATABASE, INTERMEDIATE_COLUMNS, STATS_COLUMNS

_CONFIG_COLUMNS = ["id", "arch", "num_epochs", "num_channels", "num_cells", "dataset", "arch_index"]


def _arch_condition(arch: Any) -> tuple[str, Any] | None:
    """Turn any accepted spelling of ``arch`` into one SQL condition on the config table."""
    if arch is None:
        return None
    if isinstance(arch, bool):
        raise ValueError(f"arch must be a 6-edge dict, an arch string or an index in 0..{NUM_ARCHS - 1}, got {arch!r}")
    if isinstance(arch, int):
        if not 0 <= arch < NUM_ARCHS:
            raise ValueError(f"arch index {shown(arch)} out of range; expected 0..{NUM_ARCHS - 1}")
        return "c.arch_index = ?", arch
    if isinstance(arch, str):
        return "c.arch = ?", arch_json(arch_str_to_dict(arch))
    if isinstance(arch, dict):
        return "c.arch = ?", arch_json(arch)
    raise ValueError(f"arch must be a 6-edge dict, an arch string or an index in 0..{NUM_ARCHS - 1}, "
                     f"got {type(arch).__name__}")


def _where(arch: Any, num_epochs: int | None, dataset: str | None) -> tuple[str, list]:
    conditions, params = [], []
    arch_condition = _arch_condition(arch)
    if arch_condition:
        conditions.append(arch_condition[0])
        params.append(arch_condition[1])
    if num_epochs is not None:
        if num_epochs not in NUM_EPOCHS or isinstance(num_epochs, bool):
            raise ValueError(f"unsupported num_epochs {shown(num_epochs)}; expected one of {NUM_EPOCHS} or None")
        conditions.append("c.num_epochs = ?")
        params.append(num_epochs)
    if dataset is not None:
        if not isinstance(dataset, str) or dataset.lower() not in DATASETS:
            raise ValueError(f"unsupported dataset {shown(dataset)}; expected one of {DATASETS} or None")
        conditions.append("c.dataset = ?")
        params.append(dataset.lower())
    return (" where " + " and ".join(conditions)) if conditions else "", params


_SHAPE = RunShape(_CONFIG_COLUMNS, STATS_COLUMNS, "seed", "nb201intermediatestats", INTERMEDIATE_COLUMNS, ("arch",))
_FROM = "from nb201trialstats s join nb201trialconfig c on s.config_id = c.id"


def query_nb201_computed_stats(arch, num_epochs, dataset, reduction=None, include_intermediates=False
                               ) -> Iterator[dict]:
    """Query NAS-Bench-201 results, one dict per training run (or per config with ``reduction='mean'``).

    Parameters
    ----------
    arch : dict, str, int or None
        The cell as NNI's 6-edge dict (``{'0_1': 'conv_3x3', ...}``, any key order), the original
        arch string (``'|nor_conv_3x3~0|+|...|'``) or the official index (0..15624). ``None`` matches all.
    num_epochs : int or None
        Training budget: ``12`` or ``200``. ``None`` matches both.
    dataset : str or None
        ``'cifar10-valid'``, ``'cifar10'``, ``'cifar100'`` or ``'imagenet16-120'``. ``None`` matches all.
    reduction : str or None
        ``None`` or ``'none'``: one dict per seed. ``'mean'``: one dict per config, every metric
        averaged over seeds (``id`` is None, no ``seed``).
    include_intermediates : bool
        Add ``'intermediates'``: the per-epoch rows (``current_epoch`` 1-based). With ``'mean'``
        they are per-epoch means over seeds. Epochs the original files do not record are absent.

    Returns
    -------
    generator of dict
        ``{'id', 'config': {'id', 'arch', 'num_epochs', 'num_channels', 'num_cells', 'dataset',
        'arch_index'}, 'seed', 'train_acc', ..., 'ori_test_evaluation_time'}``, as NNI returns.

    Example
    -------
    >>> arch = '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|'
    >>> for run in query_nb201_computed_stats(arch, 200, 'cifar100'):
    ...     print(run['seed'], run['test_acc'])
    """
    mean = is_mean(reduction)
    where, params = _where(arch, num_epochs, dataset)
    yield from computed_stats(DATABASE.connection(), _SHAPE, _FROM, where, params, mean, include_intermediates)


#: NNI's released name.
query_nb201_trial_stats = query_nb201_computed_stats
