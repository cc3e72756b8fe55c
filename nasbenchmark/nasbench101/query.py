"""Query NAS-Bench-101 results: ``query_nb101_computed_stats`` (NNI: ``query_nb101_trial_stats``).

A model is found through ``nb101arch``'s hash index: any spelling of a cell is pruned, checked and hashed
first (``graph_util.canonical_hash``), so isomorphic and unpruned spellings find the model NNI's query
misses. One SQL statement per call, plus one for all per-epoch rows when asked.
"""
from __future__ import annotations

from typing import Any, Iterator

from .constants import AVAILABLE_OPS, BUDGETS, MAX_VERTICES, NUM_MODELS
from .graph_util import checked_spec, architecture_to_nasbench_format, canonical_hash
from ..computed_stats import RunShape, computed_stats, is_mean
from .schema import DATABASE, INTERMEDIATE_COLUMNS, STATS_COLUMNS
from .storage import cell_code

_CONFIG_COLUMNS = ["id", "arch", "num_vertices", "hash", "num_epochs", "arch_id"]
_ARCH_HELP = ("arch must be NNI's dict {'op1': ..., 'input1': [0], ...}, a (matrix, ops) pair, a module hash "
              f"(32 hex digits), an arch_id (1..{NUM_MODELS}) or None")


def _stored_spelling(arch: Any) -> tuple[int, int] | None:
    """``(num_vertices, cell code)`` of a spelling exactly as given, or None when the release cannot store it
    (too big, unknown ops, dangling vertices...): then no model has it. ValueError for a malformed spelling."""
    matrix, ops = architecture_to_nasbench_format(arch) if isinstance(arch, dict) else checked_spec(*arch)
    if len(matrix) > MAX_VERTICES or any(op not in AVAILABLE_OPS for op in ops[1:-1]):
        return None
    return len(matrix), cell_code(matrix, ops)


def _arch_condition(arch: Any, isomorphism: bool) -> tuple[str, list] | None:
    """The SQL condition on ``nb101arch a`` for ``arch`` (None: every model)."""
    if arch is None:
        return None
    if isinstance(arch, bool) or not isinstance(arch, (int, str, dict, list, tuple)):
        raise ValueError(f"{_ARCH_HELP}; got {type(arch).__name__}")
    if isinstance(arch, int):
        if not 1 <= arch <= NUM_MODELS:
            raise ValueError(f"arch_id {arch} out of range; expected 1..{NUM_MODELS}")
        return "a.arch_id = ?", [arch]
    if isinstance(arch, str) or isomorphism:
        return "a.hash = ?", [canonical_hash(arch)]
    if not isinstance(arch, dict) and len(arch) != 2:
        raise ValueError(f"{_ARCH_HELP}; got a {type(arch).__name__} of {len(arch)} items")
    spelling = _stored_spelling(arch)
    return ("a.num_vertices = ? and a.cell = ?", list(spelling)) if spelling else ("0", [])


def _where(arch: Any, num_epochs: int | None, isomorphism: bool) -> tuple[str, list]:
    conditions, params = [], []
    arch_condition = _arch_condition(arch, isomorphism)
    if arch_condition:
        conditions.append(arch_condition[0])
        params += arch_condition[1]
    if num_epochs is not None:
        if isinstance(num_epochs, bool) or num_epochs not in BUDGETS:
            raise ValueError(f"unsupported num_epochs {num_epochs!r}; expected one of {list(BUDGETS)} or None")
        conditions.append("c.num_epochs = ?")
        params.append(num_epochs)
    return (" where " + " and ".join(conditions)) if conditions else "", params


# A model's configs are ids 4 * arch_id - 3 .. 4 * arch_id (NNI's numbering): one range of the table. Both
# directions are spelled out so that SQLite can use a key either way: from a model (found by its hash) to its
# configs' id range, and from each config (a scan of every model at one budget) to its model's key. With the
# range alone, a wildcard query compared every config with every model (423,624 squared: minutes, not 2 s).
_FROM = ("from nb101arch a join nb101trialconfig c on c.id between 4 * a.arch_id - 3 and 4 * a.arch_id "
         "and a.arch_id = (c.id + 3) / 4 join nb101trialstats s on s.config_id = c.id")


_SHAPE = RunShape(_CONFIG_COLUMNS, STATS_COLUMNS, "repeat", "nb101intermediatestats", INTERMEDIATE_COLUMNS, ("arch",))


def query_nb101_computed_stats(arch, num_epochs, isomorphism=True, reduction=None, include_intermediates=False
                               ) -> Iterator[dict]:
    """Query NAS-Bench-101 results, one dict per training run (or per config with ``reduction='mean'``).

    Parameters
    ----------
    arch : dict, (matrix, ops), str, int or None
        The cell as NNI's dict (``{'op1': 'conv3x3-bn-relu', ..., 'input1': [0], ...}``), nasbench's
        ``(matrix, ops)`` (nested lists or a numpy array), a module hash (32 hex digits) or an ``arch_id``.
        ``None`` matches every model.
    num_epochs : int or None
        Training budget: ``4``, ``12``, ``36`` or ``108``. ``None`` matches all.
    isomorphism : bool
        ``True``: the cell is pruned (vertices on no input-to-output path dropped), checked and hashed, so
        any isomorphic or unpruned spelling finds the model. ``False``: only the spelling the release stores
        matches (NNI's ``arch == ...``).
    reduction : str or None
        ``None`` or ``'none'``: one dict per run. ``'mean'``: one dict per config, every value averaged over
        its runs (``id`` is None, no ``repeat``).
    include_intermediates : bool
        Add ``'intermediates'``: the halfway and final evaluations (``current_epoch`` ``num_epochs / 2`` and
        ``num_epochs``); per-epoch means with ``'mean'``.

    Returns
    -------
    generator of dict
        ``{'id', 'config': {'id', 'arch', 'num_vertices', 'hash', 'num_epochs', 'arch_id'}, 'repeat',
        'train_acc', 'valid_acc', 'test_acc', 'parameters', 'training_time'}``, as NNI returns (``repeat`` and
        ``arch_id`` are ours). Accuracies are percent, ``parameters`` millions, ``training_time`` seconds
        (NNI's DB has it 60 times too large).

    Raises
    ------
    ValueError
        For a spelling that is not a NAS-Bench-101 cell (naming every problem) or an unsupported value.

    Example
    -------
    >>> arch = {'op1': 'conv3x3-bn-relu', 'op2': 'maxpool3x3', 'op3': 'conv3x3-bn-relu', 'op4': 'conv3x3-bn-relu',
    ...         'op5': 'conv1x1-bn-relu', 'input1': [0], 'input2': [1], 'input3': [2], 'input4': [0],
    ...         'input5': [0, 3, 4], 'input6': [2, 5]}
    >>> for run in query_nb101_computed_stats(arch, 108):
    ...     print(run['repeat'], run['test_acc'], run['training_time'])
    """
    mean = is_mean(reduction)
    where, params = _where(arch, num_epochs, isomorphism)
    yield from computed_stats(DATABASE.connection(), _SHAPE, _FROM, where, params, mean, include_intermediates)


#: NNI's released name.
query_nb101_trial_stats = query_nb101_computed_stats
