"""The row builder: one architecture's result dicts (``ArchResults`` state dicts) -> checked DB rows.

Mirrors the release API's semantics (``get_more_info``) and NNI's column mapping, with two
deliberate differences: values the release does not hold are NULL instead of copied from
another split, and ids are computed from the data (so every input format and order gives the
same DB). All ids are deterministic:

* config id  = arch_index * 8 + epochs_slot * 4 + dataset_slot + 1  (NNI's numbering when all exist)
* trial id   = (config_id - 1) * MAX_SEEDS + rank of the seed among the config's seeds + 1
* per-epoch id = (trial_id - 1) * MAX_EPOCHS + current_epoch

Every stored value is checked against its column's range, declared once in the descriptor
(``Column.valid``); an impossible one raises ``InputError`` naming the file, architecture, setting,
dataset, seed and column.
"""
from __future__ import annotations

import functools
import math
from array import array
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import Any, Iterator, Mapping

from generators.common import InputError
from nasbenchmark.errors import describe, shown
from nasbenchmark.nasbench201.constants import (DATASETS, NUM_CELLS, NUM_CHANNELS, NUM_EPOCHS,
                                                ORIGINAL_TO_DATASET)
from nasbenchmark.nasbench201.descriptor import STATS_TABLE

#: Release hyper-parameter keys -> epochs: NB201 .pth uses 'less'/'full', NATS-tss '12'/'200'.
HP_EPOCHS = {"less": 12, "full": 200, "12": 12, "200": 200}
MAX_SEEDS = 4
MAX_EPOCHS = max(NUM_EPOCHS)

#: Eval-set names per original dataset key: (valid, test, ori_test). cifar10 has no validation split.
EVAL_SETS = {
    "cifar10-valid": ("x-valid", "ori-test", "ori-test"),
    "cifar10": (None, "ori-test", "ori-test"),
    "cifar100": ("x-valid", "x-test", "ori-test"),
    "ImageNet16-120": ("x-valid", "x-test", "ori-test"),
}

#: The closed range of every stored number, from the descriptor's columns (``Column.valid``): one
#: declaration for every converter and the docs. Accuracies are percent, parameters millions, flops
#: MFLOPs, latency and times seconds, seeds the release's integers.
RANGES = {column.name: column.valid for column in STATS_TABLE.columns if column.valid}
#: A diverged run's loss is NaN in the release: kept (stored as NULL); NaN anywhere else is refused.
NAN_ALLOWED = frozenset({"train_loss", "valid_loss", "test_loss", "ori_test_loss"})
#: The per-epoch columns, in the order ``_run_rows`` builds them.
_EPOCH_NAMES = ("train_acc", "valid_acc", "test_acc", "ori_test_acc", "train_loss", "valid_loss", "test_loss",
                "ori_test_loss")
_NUMBER_OR_NONE = {float, int, type(None)}


class ValueProblem(ValueError):
    """A value outside its column's range; ``shown_as`` names where it was found."""

    def __init__(self, shown_as: str, problem: str):
        super().__init__(f"column {shown_as}: {problem}")


def check_number(value: Any, column: str, shown_as: str | None = None) -> float:
    """``value`` as a float when it is a real number within ``RANGES[column]``; ValueProblem (naming
    ``shown_as``, the release's field when it differs from the column) otherwise."""
    shown_as = shown_as or column
    if not isinstance(value, (float, int)) or isinstance(value, bool):
        raise ValueProblem(shown_as, f"expected a number, got {describe(value)}")
    low, high = RANGES[column]
    if value != value:
        if column in NAN_ALLOWED:
            return value
        raise ValueProblem(shown_as, "NaN where a measured value is required")
    if not low <= value <= high:
        raise ValueProblem(shown_as, f"{shown(value)} is outside the possible range {low:g}..{high:g}")
    return float(value)


def check_values(values: Mapping, column: str, shown_as: str) -> None:
    """Every value of a per-epoch dict is a number in ``RANGES[column]`` or None (missing); C-speed scans first."""
    items = list(values.values())
    if not set(map(type, items)) <= _NUMBER_OR_NONE:
        bad = next(v for v in items if type(v) not in _NUMBER_OR_NONE)
        raise ValueProblem(shown_as, f"expected numbers, got {describe(bad)}")
    try:
        numbers = array("d", items)
    except TypeError:       # None values: missing (v1_0 results)
        numbers = array("d", [v for v in items if v is not None])
    except OverflowError:
        raise ValueProblem(shown_as, "an integer too large for any measurement") from None
    low, high = RANGES[column]
    total = sum(numbers)
    if not math.isfinite(total):    # NaN or infinity somewhere: look at each value
        numbers = [v for v in numbers if v == v or column not in NAN_ALLOWED]
        if any(v != v for v in numbers):
            raise ValueProblem(shown_as, "NaN where a measured value is required")
    if numbers and not (low <= min(numbers) and max(numbers) <= high):
        bad = next(v for v in numbers if not low <= v <= high)
        raise ValueProblem(shown_as, f"{bad!r} is outside the possible range {low:g}..{high:g}")


@dataclass
class ArchRows:
    """Rows of one architecture (column order of SCHEMA_SQL).

    Per-epoch values travel as one block per run, ``(trial_id, epoch numbers, 8 columns as
    array('d'))``, which pickles as raw bytes between processes; ``epoch_rows`` expands them.
    Missing values are NaN in the arrays, which SQLite stores as NULL.
    """

    configs: list[tuple] = field(default_factory=list)
    trials: list[tuple] = field(default_factory=list)
    epoch_blocks: list[tuple[int, range | list[int], list[array]]] = field(default_factory=list)

    def epoch_count(self) -> int:
        return sum(len(epochs) for _, epochs, _ in self.epoch_blocks)


def epoch_rows(blocks: list[tuple[int, range | list[int], list[array]]]) -> Iterator[tuple]:
    """``(id, trial_id, current_epoch, 8 metrics)`` rows of the per-epoch blocks."""
    for trial_id, epochs, columns in blocks:
        base = (trial_id - 1) * MAX_EPOCHS
        yield from zip(map(base.__add__, epochs), repeat(trial_id), epochs, *columns)


def config_id(arch_index: int, num_epochs: int, dataset: str) -> int:
    return arch_index * 8 + NUM_EPOCHS.index(num_epochs) * 4 + DATASETS.index(dataset) + 1


@functools.lru_cache(maxsize=None)
def _epoch_keys(epochs: int) -> tuple[int, ...]:
    return tuple(range(epochs))


@functools.lru_cache(maxsize=None)
def _eval_keys(eval_set: str, epochs: int) -> tuple[str, ...]:
    return tuple(f"{eval_set}@{epoch}" for epoch in range(epochs))


#: Default for missing per-epoch values: one NaN object, so ``MISSING in column`` finds it by identity
#: (a NaN from the data is another object and counts as present, as in NNI; SQLite stores both as NULL).
MISSING = float("nan")


def _per_epoch(values: Mapping | None, keys: tuple, column: str) -> list:
    """``values[key]`` for every key, MISSING where absent (per-epoch dicts are sparse)."""
    if not values:
        return [MISSING] * len(keys)
    if not isinstance(values, Mapping):
        raise ValueProblem(column, f"expected a dict of per-epoch values, got {describe(values)}")
    try:
        return list(_getter(keys)(values))     # the common case: every epoch present
    except KeyError:
        return list(map(values.get, keys, repeat(MISSING)))


@functools.lru_cache(maxsize=None)
def _getter(keys: tuple):
    return itemgetter(*keys) if len(keys) > 1 else lambda values: (values[keys[0]],)


def _optional(value: Any, column: str) -> float | None:
    return None if value is None else check_number(value, column)


def _latency(latency: Any) -> float | None:
    """``latency[0]`` in seconds; the release writes -1 (or nothing) when it was not measured."""
    if latency is None or (isinstance(latency, (list, tuple)) and not latency):
        return None
    if not isinstance(latency, (list, tuple)):
        raise ValueProblem("latency", f"expected a list of seconds, got {describe(latency)}")
    if latency[0] == -1 and not isinstance(latency[0], bool):
        return None
    return check_number(latency[0], "latency")


def _training_time(train_times: Any) -> float | None:
    if not train_times:
        return None
    if not isinstance(train_times, Mapping):
        raise ValueProblem("training_time", f"expected a dict of per-epoch seconds, got {describe(train_times)}")
    check_values(train_times, "training_time", "training_time")
    return check_number(math.fsum(v for v in train_times.values() if v is not None), "training_time")


def _run_rows(trial_id: int, epochs: int, dataset_key: str, result: Mapping, rows: ArchRows) -> tuple:
    """Append the per-epoch block of one run and return its stats row (without id/config/seed)."""
    if not isinstance(result, Mapping):
        raise ValueProblem("(result)", f"expected a ResultsCount dict, got {describe(result)}")
    valid_set, test_set, ori_test_set = EVAL_SETS[dataset_key]
    if result["epochs"] != epochs or type(result["epochs"]) is not int:
        raise ValueProblem("epochs", f"is {describe(result['epochs'])}, expected {epochs}")
    epoch_range = _epoch_keys(epochs)
    acc, loss, times = result["eval_acc1es"], result["eval_losses"], result["eval_times"] or {}
    if not isinstance(times, Mapping):
        raise ValueProblem("eval_times", f"expected a dict, got {describe(times)}")
    eval_keys = [_eval_keys(eval_set, epochs) if eval_set else None for eval_set in (valid_set, test_set, ori_test_set)]
    missing = [MISSING] * epochs
    columns = [_per_epoch(result["train_acc1es"], epoch_range, "train_acc"),
               *(_per_epoch(acc, keys, "eval_acc1es") if keys else missing for keys in eval_keys),
               _per_epoch(result["train_losses"], epoch_range, "train_loss"),
               *(_per_epoch(loss, keys, "eval_losses") if keys else missing for keys in eval_keys)]
    # Per-epoch dicts of several eval sets share the range of the column their values become.
    for values, column, name in ((result["train_acc1es"], "train_acc", "train_acc"), (acc, "valid_acc", "eval_acc1es"),
                                 (result["train_losses"], "train_loss", "train_loss"),
                                 (loss, "valid_loss", "eval_losses"), (times, "valid_evaluation_time", "eval_times")):
        if values:
            check_values(values, column, name)
    for position, column in enumerate(columns):
        if None in column:
            # A None value inside a per-epoch dict is missing too (v1_0 results).
            columns[position] = [MISSING if value is None else value for value in column]
    last = epochs - 1
    stats = [None if column[last] is MISSING else column[last] for column in columns]
    for value, name in zip(stats, _EPOCH_NAMES):
        if value is not None and name not in NAN_ALLOWED and value != value:
            raise ValueProblem(name, "NaN at the last epoch, where a measured value is required")
    if MISSING in columns[0] or MISSING in columns[4]:
        # Epochs without training values: keep only epochs with at least one value (as NNI does).
        kept = [e for e in epoch_range if any(column[e] is not MISSING for column in columns)]
        columns = [[column[e] for e in kept] for column in columns]
        epoch_numbers: range | list[int] = [e + 1 for e in kept]
    else:
        epoch_numbers = range(1, epochs + 1)
    arrays = [array("d", column) for column in columns]
    rows.epoch_blocks.append((trial_id, epoch_numbers, arrays))
    stats += [_optional(result["params"], "parameters"), _latency(result["latency"]),
              _optional(result["flop"], "flops"), _training_time(result["train_times"])]
    for keys, name in zip(eval_keys, ("valid_evaluation_time", "test_evaluation_time", "ori_test_evaluation_time")):
        stats.append(_optional(times.get(keys[last]), name) if keys else None)
    return tuple(stats)


def _seeds(all_results: Any) -> dict[str, list[int]]:
    """Seeds per dataset key of ``all_results`` (keys ``(dataset, seed)``)."""
    if not isinstance(all_results, Mapping):
        raise TypeError(f"'all_results' is {describe(all_results)}, expected a dict")
    by_dataset: dict[str, list[int]] = {}
    for dataset_key, seed in all_results:
        by_dataset.setdefault(dataset_key, []).append(seed)
    return by_dataset


def arch_rows(arch_index: int, arch_str: str, arch_json: str, hp_results: Mapping[str, Any], source: str
              ) -> ArchRows:
    """All rows of one architecture from ``{hp: ArchResults state dict}``.

    Raises ``InputError`` naming the file, architecture, hp, dataset, seed and column of a malformed
    or impossible record.
    """
    rows = ArchRows()
    where = f"{source}: arch {arch_index}"
    if not isinstance(hp_results, Mapping):
        raise InputError(f"{where}: expected a dict of hyper-parameter settings, got {describe(hp_results)}")
    if not hp_results:
        raise InputError(f"{where}: no hyper-parameter settings (an empty record); the file is damaged, "
                         "download the release again")
    for hp, arch_results in hp_results.items():
        if hp not in HP_EPOCHS:
            raise InputError(f"{where}: unknown hyper-parameter key {describe(hp)}; expected one of "
                             f"{sorted(HP_EPOCHS)} (is this a NATS-Bench size-space file?)")
        epochs = HP_EPOCHS[hp]
        try:
            if arch_results["arch_index"] != arch_index or arch_results["arch_str"] != arch_str:
                raise InputError(f"{where} hp {hp}: record is arch {describe(arch_results['arch_index'])} "
                                 f"{describe(arch_results['arch_str'])}, but the arch list has {arch_str!r} "
                                 f"at {arch_index}")
            all_results = arch_results["all_results"]
            by_dataset = _seeds(all_results)
        except InputError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{where} hp {hp}: malformed ArchResults ({type(exc).__name__}: "
                             f"{describe(str(exc))})") from None
        for dataset_key, seeds in by_dataset.items():
            if dataset_key not in EVAL_SETS:
                raise InputError(f"{where} hp {hp}: unknown dataset {describe(dataset_key)}; expected one of "
                                 f"{sorted(EVAL_SETS)}")
            dataset = ORIGINAL_TO_DATASET[dataset_key]
            low, high = RANGES["seed"]
            if len(seeds) > MAX_SEEDS or not all(type(s) is int and low <= s <= high for s in seeds):
                raise InputError(f"{where} hp {hp} {dataset_key}: column seed: expected at most {MAX_SEEDS} "
                                 f"integer seeds in {low}..{high}, got {describe(seeds)}")
            seeds = sorted(seeds)
            cid = config_id(arch_index, epochs, dataset)
            rows.configs.append((cid, arch_json, epochs, NUM_CHANNELS, NUM_CELLS, dataset, arch_index))
            for rank, seed in enumerate(seeds):
                trial_id = (cid - 1) * MAX_SEEDS + rank + 1
                try:
                    stats = _run_rows(trial_id, epochs, dataset_key, all_results[(dataset_key, seed)], rows)
                except ValueProblem as exc:
                    raise InputError(f"{where} hp {hp} {dataset_key} seed {seed}: {exc}") from None
                except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
                    raise InputError(f"{where} hp {hp} {dataset_key} seed {seed}: malformed result "
                                     f"({type(exc).__name__}: {describe(str(exc))})") from None
                rows.trials.append((trial_id, cid, seed, *stats))
    return rows
