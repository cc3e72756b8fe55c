"""The 15,625 official NAS-Bench-201 arch strings in official index order.

The release builds them with ``CellStructure.gen_all`` (every op on every edge, node by node)
and shuffles the list with ``random.seed(88)``; regenerating them that way reproduces the real
``meta_archs`` list of ``NATS-tss-v1_0-3ffb9-simple/meta.pickle.pbz2`` exactly (checked in the tests).
"""
from __future__ import annotations

import functools
import itertools
import random

#: Op order of the release's search space; ``gen_all`` enumerates in this order.
SEARCH_SPACE = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")


def _node_inputs(node: int) -> list[tuple[str, ...]]:
    """Every assignment of ops to the ``node`` edges entering a node, first input varying slowest."""
    return list(itertools.product(SEARCH_SPACE, repeat=node))


@functools.lru_cache(maxsize=1)
def official_arch_strings() -> tuple[str, ...]:
    cells = [[ops] for ops in _node_inputs(1)]
    for node in (2, 3):
        cells = [cell + [ops] for cell in cells for ops in _node_inputs(node)]
    strings = ["|" + "|+|".join("|".join(f"{op}~{i}" for i, op in enumerate(ops)) for ops in cell) + "|"
               for cell in cells]
    # The release's own shuffle; its random stream is fixed by the seed.
    random.Random(88).shuffle(strings)
    return tuple(strings)
