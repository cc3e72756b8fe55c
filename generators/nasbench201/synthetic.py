"""Synthetic ``ArchResults`` state dicts with the real release layout (values are made up).

Layout facts reproduced (formats.md §2.4): int seeds in the ``all_results`` keys but a 4-digit
string seed inside; ``train_times`` an OrderedDict; ``params`` and ``latency`` numpy float64;
hp 12 on all four datasets (cifar10-valid seeds 111 and 777, others 111); hp 200 with 1, 2 or
3 seeds in the real proportions; and the sparse per-epoch coverage of hp 200 (ori-test only at
the last epoch on cifar10-valid, x-valid/x-test only at the last epoch on cifar100/ImageNet16-120).

Values depend only on (seed, arch index), and a better cell (more convolutions, fewer ``none``
edges) gets higher accuracy, so a sample DB makes a meaningful demo.
"""
from __future__ import annotations

import functools
import math
import random
from collections import OrderedDict

from .numpy_pickle import NumpyFloat64

#: Real counts of archs by number of 200-epoch seeds in NB201 v1_1 (formats.md §2.1).
SEED_COUNT_SHARES = {1: 2225, 2: 5439, 3: 7961}
#: Order of the (dataset, seed) keys in real hp-200 ArchResults: all datasets for 999, then 777, 888.
SEEDS_200_ORDER = (999, 777, 888)
SEEDS_200 = {1: (777,), 2: (777, 888), 3: (777, 888, 999)}
RESULTS_12 = (("cifar10-valid", 777), ("cifar10-valid", 111), ("cifar10", 111), ("cifar100", 111),
              ("ImageNet16-120", 111))
DATASETS = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
EVAL_NAMES = {"cifar10-valid": ("x-valid", "ori-test"), "cifar10": ("ori-test",),
              "cifar100": ("ori-test", "x-valid", "x-test"), "ImageNet16-120": ("ori-test", "x-valid", "x-test")}
CLASS_NUM = {"cifar10-valid": 10, "cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}
#: (worst, best) final test accuracy per dataset, roughly the real range.
ACCURACY_RANGE = {"cifar10-valid": (40.0, 91.5), "cifar10": (45.0, 94.4), "cifar100": (15.0, 73.5),
                  "ImageNet16-120": (8.0, 47.3)}
_OP_QUALITY = {"none": 0.0, "avg_pool_3x3": 0.35, "skip_connect": 0.45, "nor_conv_1x1": 0.75,
               "nor_conv_3x3": 1.0}
_NOISE_TABLE = 1 << 16
_OP_PARAMS = {"none": 0.0, "avg_pool_3x3": 0.0, "skip_connect": 0.0, "nor_conv_1x1": 0.0242, "nor_conv_3x3": 0.0713}


def seed_counts(num_archs: int, seed: int) -> list[int]:
    """Number of 200-epoch seeds per arch, in the real proportions, shuffled deterministically."""
    total = sum(SEED_COUNT_SHARES.values())
    counts = []
    for n, share in SEED_COUNT_SHARES.items():
        counts += [n] * round(num_archs * share / total)
    counts = (counts + [3] * num_archs)[:num_archs]
    random.Random(seed).shuffle(counts)
    return counts


def _quality(arch_str: str) -> float:
    ops = [token.split("~")[0] for token in arch_str.strip("|").replace("|+|", "|").split("|")]
    return sum(_OP_QUALITY[op] for op in ops) / len(ops)


@functools.lru_cache(maxsize=None)
def _decay(epochs: int) -> tuple[float, ...]:
    return tuple(math.exp(-5.0 * (e + 1) / epochs) for e in range(epochs))


@functools.lru_cache(maxsize=4)
def _noise_table(seed: int) -> tuple[float, ...]:
    table_rng = random.Random(seed)
    return tuple(table_rng.random() - 0.5 for _ in range(_NOISE_TABLE))


def _curve(final: float, start: float, epochs: int, rng: random.Random, noise: float, seed: int) -> list[float]:
    """A saturating learning curve from ``start`` to ``final`` with per-epoch noise."""
    offset = rng.randrange(_NOISE_TABLE - epochs)
    span = final - start
    return [final - span * d + noise * n
            for d, n in zip(_decay(epochs), _noise_table(seed)[offset:offset + epochs])]


def _results_count(dataset: str, seed: int, epochs: int, arch_str: str, quality: float,
                   rng: random.Random) -> dict:
    sparse = epochs == 200
    low, high = ACCURACY_RANGE[dataset]
    final = low + (high - low) * quality ** 1.5 - (8.0 if epochs == 12 else 0.0) + rng.gauss(0, 0.6)
    train_final = min(99.9, final + (25.0 if epochs == 200 else 4.0) * (0.4 + quality))
    epoch_keys = range(epochs)
    train_time = 7.2 + 10 * quality + rng.random()
    params = sum(_OP_PARAMS[token.split("~")[0]] for token in arch_str.split("|") if "~" in token) * 3.3 + 0.07
    result = {
        "name": dataset,
        "train_acc1es": dict(zip(epoch_keys, _curve(train_final, 10.0, epochs, rng, 1.0, seed))),
        "train_acc5es": None if sparse else dict(zip(epoch_keys, _curve(min(99.99, train_final + 20), 40.0,
                                                                        epochs, rng, 1.0, seed))),
        "train_losses": dict(zip(epoch_keys, _curve(0.05 + (1 - quality), 2.3, epochs, rng, 0.05, seed))),
        "train_times": OrderedDict(zip(epoch_keys, [train_time] * epochs)),
        "arch_config": {"channel": 16, "num_cells": 5, "arch_str": arch_str, "class_num": CLASS_NUM[dataset]},
        "params": NumpyFloat64(round(params + CLASS_NUM[dataset] * 0.00064, 6)),
        "flop": round(params * 115 + 2.0 * (3.0 if dataset == "ImageNet16-120" else 1.0), 5),
        "seed": f"{seed:04d}",
        "epochs": epochs,
        "latency": [NumpyFloat64(0.009 + 0.01 * quality + 0.002 * rng.random())],
        "eval_names": list(EVAL_NAMES[dataset]),
    }
    acc, losses, times = {}, {}, {}
    eval_time = 0.4 + rng.random()
    for eval_set in EVAL_NAMES[dataset]:
        offset = rng.gauss(0, 0.3)
        accuracy = _curve(final + offset, 10.0, epochs, rng, 2.0, seed)
        loss = _curve(0.3 + 1.5 * (1 - quality), 2.3, epochs, rng, 0.1, seed)
        # Real hp-200 files keep only the last epoch of the held-out splits (formats.md §2.4).
        only_last = sparse and (eval_set != "ori-test" if dataset != "cifar10-valid" else eval_set == "ori-test")
        kept = [epochs - 1] if only_last else epoch_keys
        acc.update((f"{eval_set}@{e}", accuracy[e]) for e in kept)
        losses.update((f"{eval_set}@{e}", loss[e]) for e in kept)
        times.update((f"{eval_set}@{e}", eval_time) for e in epoch_keys)
    result.update(eval_acc1es=acc, eval_times=times, eval_losses=losses, net_state_dict=None)
    return result


def arch_results(arch_index: int, arch_str: str, hp: str, num_seeds_200: int, seed: int) -> dict:
    """The ``ArchResults`` state dict of one arch for hp ``'12'``/``'less'`` or ``'200'``/``'full'``."""
    epochs = 12 if hp in ("12", "less") else 200
    rng = random.Random(seed * 1_000_003 + arch_index * 2 + (epochs == 200))
    quality = _quality(arch_str) * 0.9 + 0.1 * random.Random(seed + arch_index).random()
    if epochs == 12:
        # Fresh key tuples per arch, as in real files (each arch's results were built separately).
        keys = [(dataset, seed_) for dataset, seed_ in RESULTS_12]
    else:
        seeds = SEEDS_200[num_seeds_200]
        keys = [(d, s) for s in SEEDS_200_ORDER if s in seeds for d in DATASETS]
    all_results = {key: _results_count(key[0], key[1], epochs, arch_str, quality, rng) for key in keys}
    dataset_seed = {d: sorted(s for dd, s in keys if dd == d) for d in DATASETS}
    return {"arch_index": arch_index, "arch_str": arch_str, "all_results": all_results,
            "dataset_seed": dataset_seed, "clear_net_done": True}
