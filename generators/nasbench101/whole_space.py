"""The whole-space answers the converter stores, computed from ``nb101meanstats``: each budget's Pareto fronts
(``nb101paretofront``) and the rank correlations between budgets (``nb101rankcorrelation``).

Over 423,624 models per budget a query needs 1.6 s for a Pareto front and 5 s for a rank correlation (over
Datasette's time limit); here all of them take one sort per budget and cost or accuracy, and one budget's
columns are in memory at a time (plus the accuracies, for the correlations).
"""
from __future__ import annotations

import math
import operator
import sqlite3
from itertools import accumulate, groupby
from typing import NamedTuple

from nasbenchmark.nasbench101.constants import BUDGETS
from nasbenchmark.nasbench101.descriptor import ACCURACIES, COSTS, PARETO_TABLE, RANK_TABLE

_VALUES = (*ACCURACIES, *COSTS)


class Budget:
    """The mean values of one budget's models, in arch_id order: ``arch_ids`` and a tuple per column (NULL is
    None)."""

    def __init__(self, conn: sqlite3.Connection, epochs: int):
        rows = conn.execute(f"SELECT arch_id, {', '.join(_VALUES)} FROM nb101meanstats WHERE num_epochs = ? "
                            "ORDER BY arch_id", (epochs,)).fetchall()
        self.arch_ids, *columns = zip(*rows) if rows else [()] * (len(_VALUES) + 1)
        self.columns = dict(zip(_VALUES, columns))

    def held(self, *names: str) -> list[int]:
        """Positions of the models with values of every column ``names``."""
        columns = [self.columns[name] for name in names]
        if all(None not in column for column in columns):
            return list(range(len(self.arch_ids)))
        return [p for p in range(len(self.arch_ids)) if all(column[p] is not None for column in columns)]


def pareto_front(costs, accuracies, arch_ids, by_cost: list[int]) -> list[int]:
    """The positions (``by_cost``: sorted by cost, stable) no other beats on both (lower cost, higher accuracy),
    by increasing cost; of exact ties the lowest arch_id, as ``order by cost, accuracy desc, arch_id`` finds them.

    A point can be on the front only if it is more accurate than every point before it (a running maximum,
    computed in C): then its cost's best point is, and no other of that cost."""
    ordered = [accuracies[p] for p in by_cost]
    candidates = [index for index, accuracy, best in zip(range(len(ordered)), ordered,
                                                         accumulate(ordered, max, initial=-math.inf))
                  if accuracy > best]
    front = []
    for cost, same in groupby(candidates, key=lambda index: costs[by_cost[index]]):
        first = last = next(same)
        while first > 0 and costs[by_cost[first - 1]] == cost:
            first -= 1
        while last + 1 < len(by_cost) and costs[by_cost[last + 1]] == cost:
            last += 1
        front.append(min(by_cost[first:last + 1], key=lambda p: (-accuracies[p], arch_ids[p])))
    return front


def average_ranks(values) -> list[float]:
    """Each value's rank, 1-based; tied values share the mean of their ranks. Ranks are places in sorted order
    first; then each run of equal values (few: means of float32 values) gets its mean place."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    for place, position in enumerate(order, 1):
        ranks[position] = place
    ordered = [values[p] for p in order]
    tied = [index for index, (value, following) in enumerate(zip(ordered, ordered[1:])) if value == following]
    for _, run in groupby(enumerate(tied), key=lambda pair: pair[1] - pair[0]):  # consecutive indexes
        indexes = [index for _, index in run]
        first, last = indexes[0], indexes[-1] + 1
        for position in order[first:last + 1]:
            ranks[position] = (first + last) / 2 + 1
    return ranks


class CentredRanks(NamedTuple):
    """Average ranks minus their mean (n + 1) / 2, and the sum of their squares. They are multiples of 1/2
    below 2**18, so products and their sums are exact in doubles."""

    values: list[float]
    squares: float

    @classmethod
    def of(cls, values) -> CentredRanks:
        ranks = average_ranks(values)
        mean = (len(ranks) + 1) / 2
        centred = [rank - mean for rank in ranks]
        return cls(centred, sum(map(operator.mul, centred, centred)))


def rank_correlation(first: CentredRanks, second: CentredRanks) -> float | None:
    """Spearman's rho of the values two centred rank lists of the same models come from (None for fewer than
    2 models or a constant value)."""
    if len(first.values) < 2 or not first.squares > 0 < second.squares:
        return None
    return sum(map(operator.mul, first.values, second.values)) / math.sqrt(first.squares * second.squares)


def _fronts(epochs: int, budget: Budget) -> list[tuple]:
    rows = []
    for cost in COSTS:
        costs = budget.columns[cost]
        by_cost = sorted(budget.held(cost, *ACCURACIES), key=costs.__getitem__)
        for metric in ACCURACIES:
            accuracies = budget.columns[metric]
            rows += [(epochs, metric, cost, costs[p], accuracies[p], budget.arch_ids[p])
                     for p in pareto_front(costs, accuracies, budget.arch_ids, by_cost)]
    return rows


def _correlations(budgets: dict[int, Budget]) -> list[tuple]:
    rows = []
    for metric in ACCURACIES:
        held = {epochs: budget.held(metric) for epochs, budget in budgets.items()}
        archs = {epochs: [budget.arch_ids[p] for p in held[epochs]] for epochs, budget in budgets.items()}
        ranks: dict[int, CentredRanks] = {}  # of all a budget's models: reused for pairs that hold the same ones
        for short in BUDGETS[:-1]:
            for long in BUDGETS[1:]:
                if short not in budgets or long not in budgets:
                    continue
                if archs[short] == archs[long]:
                    for epochs in (short, long):
                        if epochs not in ranks:
                            values = budgets[epochs].columns[metric]
                            ranks[epochs] = CentredRanks.of([values[p] for p in held[epochs]])
                    pair = ranks[short], ranks[long]
                else:
                    common = set(archs[short]) & set(archs[long])
                    pair = tuple(CentredRanks.of([budgets[e].columns[metric][p] for p in held[e]
                                                  if budgets[e].arch_ids[p] in common]) for e in (short, long))
                if pair[0].values:
                    rows.append((metric, short, long, len(pair[0].values), rank_correlation(*pair)))
    return rows


def fill_whole_space(conn: sqlite3.Connection) -> None:
    """Insert the Pareto fronts and the rank correlations of the models in ``nb101meanstats``."""
    budgets = {}
    for epochs in BUDGETS:
        budget = Budget(conn, epochs)
        if budget.arch_ids:
            conn.executemany(f"INSERT INTO {PARETO_TABLE.name} (num_epochs, metric, cost, cost_value, mean_acc, "
                             "arch_id) VALUES (?, ?, ?, ?, ?, ?)", _fronts(epochs, budget))
            for cost in COSTS:  # the correlations need the accuracies only
                del budget.columns[cost]
            budgets[epochs] = budget
    conn.executemany(f"INSERT INTO {RANK_TABLE.name} VALUES (?, ?, ?, ?, ?)", _correlations(budgets))
