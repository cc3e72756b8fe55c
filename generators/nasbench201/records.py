"""Turn one architecture's result dicts (``ArchResults`` state dicts) into DB rows.

Mirrors the release API's semantics (``get_more_info``) and NNI's column mapping, with two
deliberate differences: values the release does not hold are NULL instead of copied from
another split, and ids are computed from the data (so every input format and order gives the
same DB). All ids are deterministic:

* config id  = arch_index * 8 + epochs_slot * 4 + dataset_slot + 1  (NNI's numbering when all exist)
* trial id   = (config_id - 1) * MAX_SEEDS + rank of the seed among the config's seeds + 1
* per-epoch id = (trial_id - 1) * MAX_EPOCHS + current_epoch
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from array import array
from typing import Any, Iterator, Mapping

from generators.common import InputError
from nasbenchmark.nasbench201.constants import (DATASETS, NUM_CELLS, NUM_CHANNELS, NUM_EPOCHS,
                                                ORIGINAL_TO_DATASET)

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


def _per_epoch(values: Mapping | None, keys: tuple) -> list:
    """``values[key]`` for every key, MISSING where absent (per-epoch dicts are sparse)."""
    if not values:
        return [MISSING] * len(keys)
    try:
        return list(_getter(keys)(values))     # the common case: every epoch present
    except KeyError:
        return list(map(values.get, keys, repeat(MISSING)))


@functools.lru_cache(maxsize=None)
def _getter(keys: tuple):
    return itemgetter(*keys) if len(keys) > 1 else lambda values: (values[keys[0]],)


def _as_array(column: list) -> array:
    try:
        return array("d", column)
    except TypeError:
        # A None value inside a dict is missing too; anything else is not a number.
        return array("d", [MISSING if value is None else value for value in column])


def _scalar(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)


def _latency(latency: Any) -> float | None:
    """``latency[0]`` in seconds; the release writes -1 (or nothing) when it was not measured."""
    if not latency:
        return None
    value = _scalar(latency[0])
    return None if value is None or value < 0 else value


def _training_time(train_times: Mapping | None) -> float | None:
    if not train_times:
        return None
    return float(sum(train_times.values()))    # TypeError for anything but numbers


def _run_rows(trial_id: int, epochs: int, dataset_key: str, result: Mapping, rows: ArchRows) -> tuple:
    """Append the per-epoch block of one run and return its stats row (without id/config/seed)."""
    valid_set, test_set, ori_test_set = EVAL_SETS[dataset_key]
    if result["epochs"] != epochs:
        raise ValueError(f"'epochs' is {result['epochs']!r}, expected {epochs}")
    epoch_range = _epoch_keys(epochs)
    acc, loss, times = result["eval_acc1es"], result["eval_losses"], result["eval_times"] or {}
    eval_keys = [_eval_keys(eval_set, epochs) if eval_set else None for eval_set in (valid_set, test_set, ori_test_set)]
    missing = [MISSING] * epochs
    columns = [_per_epoch(result["train_acc1es"], epoch_range),
               *(_per_epoch(acc, keys) if keys else missing for keys in eval_keys),
               _per_epoch(result["train_losses"], epoch_range),
               *(_per_epoch(loss, keys) if keys else missing for keys in eval_keys)]
    last = epochs - 1
    stats = [None if column[last] is MISSING else column[last] for column in columns]
    if MISSING in columns[0] or MISSING in columns[4]:
        # Epochs without training values: keep only epochs with at least one value (as NNI does).
        kept = [e for e in epoch_range if any(column[e] is not MISSING for column in columns)]
        columns = [[column[e] for e in kept] for column in columns]
        epoch_numbers: range | list[int] = [e + 1 for e in kept]
    else:
        epoch_numbers = range(1, epochs + 1)
    arrays = [_as_array(column) for column in columns]
    rows.epoch_blocks.append((trial_id, epoch_numbers, arrays))
    stats += [_scalar(result["params"]), _latency(result["latency"]), _scalar(result["flop"]),
              _training_time(result["train_times"])]
    for keys in eval_keys:
        stats.append(_scalar(times.get(keys[last])) if keys else None)
    return tuple(stats)


def arch_rows(arch_index: int, arch_str: str, arch_json: str, hp_results: Mapping[str, Any], source: str
              ) -> ArchRows:
    """All rows of one architecture from ``{hp: ArchResults state dict}``.

    Raises ``InputError`` naming the file, architecture, hp, dataset and seed of a malformed record.
    """
    rows = ArchRows()
    where = f"{source}: arch {arch_index}"
    if not isinstance(hp_results, Mapping):
        raise InputError(f"{where}: expected a dict of hyper-parameter settings, got {type(hp_results).__name__}")
    for hp, arch_results in hp_results.items():
        if hp not in HP_EPOCHS:
            raise InputError(f"{where}: unknown hyper-parameter key {hp!r}; expected one of "
                             f"{sorted(HP_EPOCHS)} (is this a NATS-Bench size-space file?)")
        epochs = HP_EPOCHS[hp]
        try:
            if arch_results["arch_index"] != arch_index or arch_results["arch_str"] != arch_str:
                raise InputError(f"{where} hp {hp}: record is arch {arch_results['arch_index']!r} "
                                 f"{arch_results['arch_str']!r}, but the arch list has {arch_str!r} at {arch_index}")
            all_results = arch_results["all_results"]
            by_dataset: dict[str, list[int]] = {}
            for dataset_key, seed in all_results:
                by_dataset.setdefault(dataset_key, []).append(seed)
        except InputError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{where} hp {hp}: malformed ArchResults ({type(exc).__name__}: {exc})") from None
        for dataset_key, seeds in by_dataset.items():
            if dataset_key not in EVAL_SETS:
                raise InputError(f"{where} hp {hp}: unknown dataset {dataset_key!r}; expected one of "
                                 f"{sorted(EVAL_SETS)}")
            dataset = ORIGINAL_TO_DATASET[dataset_key]
            seeds = sorted(seeds)
            if len(seeds) > MAX_SEEDS or not all(type(s) is int for s in seeds):
                raise InputError(f"{where} hp {hp} {dataset_key}: expected at most {MAX_SEEDS} integer seeds, "
                                 f"got {seeds!r}")
            cid = config_id(arch_index, epochs, dataset)
            rows.configs.append((cid, arch_json, epochs, NUM_CHANNELS, NUM_CELLS, dataset, arch_index))
            for rank, seed in enumerate(seeds):
                trial_id = (cid - 1) * MAX_SEEDS + rank + 1
                try:
                    stats = _run_rows(trial_id, epochs, dataset_key, all_results[(dataset_key, seed)], rows)
                except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                    raise InputError(f"{where} hp {hp} {dataset_key} seed {seed}: malformed result "
                                     f"({type(exc).__name__}: {exc})") from None
                rows.trials.append((trial_id, cid, seed, *stats))
    return rows
