"""The shape every benchmark's ``query_<bench>_computed_stats`` returns, built from one selection.

NNI's query functions return one dict per training run, ``{'id', 'config': {...}, <run key>, <metrics>}``,
or one per config with ``reduction='mean'`` (``id`` None, metrics averaged over runs), optionally with
``'intermediates'``: the per-epoch rows, per-epoch means with ``'mean'``. A benchmark's ``query`` module
turns its arguments into a selection (``FROM`` with the aliases ``c`` for the config table and ``s`` for the
run table, a ``WHERE`` and its parameters); ``computed_stats`` runs it: one statement for the runs and one
for all their per-epoch rows, never one per run as NNI does.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterator, Sequence

from .errors import shown

REDUCTIONS = (None, "none", "mean")


@dataclass(frozen=True)
class RunShape:
    """One benchmark's result dicts: the config's columns, the run's, and its per-epoch table."""

    config_columns: Sequence[str]
    stats_columns: Sequence[str]
    #: The run's number within its config, as NNI names it ("seed", "repeat").
    run_key: str
    intermediate_table: str
    intermediate_columns: Sequence[str]
    #: Config columns stored as JSON text (the arch, specs), decoded in ``'config'``.
    json_columns: Sequence[str]
    #: Columns a ``'mean'`` averages (default: ``stats_columns``; text columns cannot be averaged).
    mean_columns: Sequence[str] | None = None


def is_mean(reduction) -> bool:
    """True for ``'mean'``; ValueError for anything but the accepted reductions."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"Unsupported reduction: {shown(reduction)}; expected None, 'none' or 'mean'")
    return reduction == "mean"


def computed_stats(db, shape: RunShape, from_sql: str, where: str, params: list, mean: bool,
                   include_intermediates: bool) -> Iterator[dict]:
    """The result dicts of the runs ``from_sql`` + ``where`` select, in config then run order."""
    config_sql = ", ".join(f"c.{column}" for column in shape.config_columns)
    if mean:
        averaged = shape.mean_columns if shape.mean_columns is not None else shape.stats_columns
        stats_sql = ", ".join(f"avg(s.{column})" for column in averaged)
        rows = db.execute_sql(f"select {config_sql}, {stats_sql} {from_sql}{where} group by c.id order by c.id",
                              params).fetchall()
    else:
        stats_sql = ", ".join(f"s.{column}" for column in shape.stats_columns)
        rows = db.execute_sql(f"select {config_sql}, s.id, s.{shape.run_key}, {stats_sql} {from_sql}{where} "
                              "order by c.id, s.id", params).fetchall()
    intermediates = _intermediates(db, shape, from_sql, where, params, mean) if include_intermediates else None
    width = len(shape.config_columns)
    for row in rows:
        config = dict(zip(shape.config_columns, row[:width]))
        for name in shape.json_columns:
            config[name] = json.loads(config[name])
        if mean:
            result = {"id": None, "config": config, **dict(zip(averaged, row[width:]))}
            key = config["id"]
        else:
            result = {"id": row[width], "config": config, shape.run_key: row[width + 1],
                      **dict(zip(shape.stats_columns, row[width + 2:]))}
            key = result["id"]
        if intermediates is not None:
            result["intermediates"] = intermediates.get(key, [])
        yield result


def _intermediates(db, shape: RunShape, from_sql: str, where: str, params: list, mean: bool) -> dict[int, list[dict]]:
    """All per-epoch rows of the selected runs in one query, grouped by run (by config when ``mean``)."""
    joined = f"{from_sql} join {shape.intermediate_table} i on i.trial_id = s.id{where}"
    if mean:
        values = ", ".join(f"avg(i.{column})" for column in shape.intermediate_columns)
        sql = (f"select c.id, i.current_epoch, {values} {joined} "
               "group by c.id, i.current_epoch order by c.id, i.current_epoch")
        names = ["current_epoch", *shape.intermediate_columns]
    else:
        values = ", ".join(f"i.{column}" for column in shape.intermediate_columns)
        sql = f"select s.id, i.id, i.current_epoch, {values} {joined} order by s.id, i.current_epoch"
        names = ["id", "current_epoch", *shape.intermediate_columns]
    grouped: dict[int, list[dict]] = {}
    for row in db.execute_sql(sql, params):
        grouped.setdefault(row[0], []).append(dict(zip(names, row[1:])))
    return grouped
