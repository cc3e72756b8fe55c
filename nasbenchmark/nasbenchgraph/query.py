"""Query NAS-Bench-Graph results: ``query_nbgraph_computed_stats``, ``list_datasets``, ``iter_archs``.

Every result is a dict shaped like the other benchmarks' (NNI's ``{'id', 'config', <stats>}``)::

    {'id': 61237,                      # the architecture key; with 'dataset' it identifies the row
     'config': {'key': 61237, 'arch_str': '[0,1,1,2] gcn-gin-cheb-fc', 'link_index': 6,
                'link': [0, 1, 1, 2], 'ops': ['gcn', 'gin', 'cheb', 'fc']},
     'dataset': 'cora',
     'valid_perf': 0.79,               # fraction of 1 (accuracy; proteins: presumably ROC-AUC, unverified)
     'test_perf': 0.8046666666666668,  # fraction of 1
     'latency': 0.003651857376098633,  # seconds
     'parameters': 0.765191}           # millions
"""
from __future__ import annotations

import json
from typing import Any, Iterator

from .constants import DATASET_OPS, DATASETS
from .graph_util import arch_key, decode_key, is_canonical_key, parse_arch_str, shown, validate_arch
from .schema import DATABASE

_ARCH_COLUMNS = ["key", "arch_str", "link_index", "link", "op_1", "op_2", "op_3", "op_4"]
_RESULT_COLUMNS = ["dataset", "valid_perf", "test_perf", "latency", "parameters"]
_ARCH_HELP = ("arch must be a key (int), an arch string like '[0,1,2,1] gcn-gin-fc-cheb', "
              "a (link, ops) pair like ([0, 1, 2, 1], ['gcn', 'gin', 'fc', 'cheb']), or None")


def resolve_key(arch: Any) -> int:
    """The stored key of any accepted spelling of an architecture (see ``query_nbgraph_computed_stats``)."""
    if isinstance(arch, bool):
        raise ValueError(f"{_ARCH_HELP}; got {arch!r}")
    if isinstance(arch, int):
        decode_key(arch)  # raises for undecodable keys
        if not is_canonical_key(arch):
            raise ValueError(f"{arch} is not a stored key: the release stores that architecture as "
                             f"{arch_key(*decode_key(arch))}")
        return arch
    if isinstance(arch, str):
        return arch_key(*parse_arch_str(arch))
    if isinstance(arch, (tuple, list)) and len(arch) == 2:
        return arch_key(*validate_arch(*arch))
    raise ValueError(f"{_ARCH_HELP}; got {type(arch).__name__} {shown(arch)}")


def _check_dataset(dataset: Any) -> str | None:
    if dataset is None:
        return None
    if not isinstance(dataset, str) or dataset.lower() not in DATASETS:
        raise ValueError(f"unsupported dataset {shown(dataset)}; expected one of {DATASETS} or None")
    return dataset.lower()


def _config(row: tuple) -> dict:
    values = dict(zip(_ARCH_COLUMNS, row))
    return {"key": values["key"], "arch_str": values["arch_str"], "link_index": values["link_index"],
            "link": json.loads(values["link"]), "ops": [values[f"op_{n}"] for n in range(1, 5)]}


def query_nbgraph_computed_stats(arch: Any = None, dataset: str | None = None) -> Iterator[dict]:
    """NAS-Bench-Graph results, one dict per (architecture, dataset), ordered by dataset then key.

    Parameters
    ----------
    arch : int, str, (link, ops) or None
        The stored key (``61237``), an arch string in any spelling (``'[0,1,2,1] gcn-gin-fc-cheb'``),
        or a ``(link, ops)`` pair in any spelling (``([0, 1, 2, 1], ['gcn', 'gin', 'fc', 'cheb'])``):
        spellings are mapped to the stored key as the original ``Arch.valid_hash()`` does.
        ``None`` matches every architecture.
    dataset : str or None
        One of ``DATASETS`` (``'cora'`` ... ``'proteins'``); ``None`` matches all.
        proteins has only the 2,021 architectures built from ``PROTEINS_OPS``; asking it for an
        architecture with another op raises ``ValueError``.

    Returns
    -------
    generator of dict
        See the module docstring for the shape and units.

    Example
    -------
    >>> row = next(query_nbgraph_computed_stats(([0, 1, 2, 1], ['gcn', 'gin', 'fc', 'cheb']), 'cora'))
    >>> row['test_perf'], row['config']['key']
    (0.8046666666666668, 61237)
    """
    conditions, params = [], []
    dataset = _check_dataset(dataset)
    if arch is not None:
        key = resolve_key(arch)
        if dataset is not None:
            missing = sorted(set(decode_key(key).ops) - set(DATASET_OPS[dataset]))
            if missing:
                raise ValueError(f"{dataset} was benchmarked only with ops {DATASET_OPS[dataset]}; "
                                 f"architecture {key} uses {missing}")
        conditions.append("r.key = ?")
        params.append(key)
    if dataset is not None:
        conditions.append("r.dataset = ?")
        params.append(dataset)
    where = (" where " + " and ".join(conditions)) if conditions else ""
    columns = ", ".join([f"a.{c}" for c in _ARCH_COLUMNS] + [f"r.{c}" for c in _RESULT_COLUMNS])
    cursor = DATABASE.connection().execute_sql(
        f"select {columns} from nbgraphresult r join nbgrapharch a on a.key = r.key{where} "
        "order by r.dataset, r.key", params)
    width = len(_ARCH_COLUMNS)
    for row in cursor:
        config = _config(row[:width])
        yield {"id": config["key"], "config": config, **dict(zip(_RESULT_COLUMNS, row[width:]))}


def list_datasets() -> list[dict]:
    """The converted datasets in the paper's order: ``{'dataset', 'num_archs', 'num_ops', 'ops', 'metric'}``."""
    rows = DATABASE.connection().execute_sql(
        "select dataset, num_archs, num_ops, ops, metric from nbgraphdataset").fetchall()
    found = {row[0]: {"dataset": row[0], "num_archs": row[1], "num_ops": row[2], "ops": json.loads(row[3]),
                      "metric": row[4]} for row in rows}
    return [found[dataset] for dataset in DATASETS if dataset in found]


def iter_archs(dataset: str | None = None) -> Iterator[dict]:
    """Every stored architecture (as the ``config`` dicts above) by key; only ``dataset``'s when given."""
    dataset = _check_dataset(dataset)
    columns = ", ".join(f"a.{c}" for c in _ARCH_COLUMNS)
    if dataset is None:
        cursor = DATABASE.connection().execute_sql(f"select {columns} from nbgrapharch a order by a.key")
    else:
        cursor = DATABASE.connection().execute_sql(
            f"select {columns} from nbgraphresult r join nbgrapharch a on a.key = r.key "
            "where r.dataset = ? order by r.key", [dataset])
    for row in cursor:
        yield _config(row)
