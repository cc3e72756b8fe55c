"""NAS-Bench-201: 15,625 cells x 4 datasets x {12, 200} epochs (Dong & Yang, ICLR 2020).

>>> from nasbenchmark.nasbench201 import query_nb201_computed_stats
>>> next(query_nb201_computed_stats(0, 200, 'cifar100', reduction='mean'))['test_acc']
"""
from .constants import (AVG_POOL_3X3, CONV_1X1, CONV_3X3, DATASETS, NONE, NUM_EPOCHS, PRIMITIVES,
                        SKIP_CONNECT)
from .graph_util import arch_str_to_dict, dict_to_arch_str
from .query import query_nb201_computed_stats, query_nb201_trial_stats
from .schema import (Nb201Arch, Nb201ComputedStats, Nb201IntermediateStats, Nb201MeanStats, Nb201RunConfig,
                     Nb201TrialConfig, Nb201TrialStats, bind)

__all__ = [
    "NONE", "SKIP_CONNECT", "CONV_1X1", "CONV_3X3", "AVG_POOL_3X3", "PRIMITIVES", "DATASETS", "NUM_EPOCHS",
    "arch_str_to_dict", "dict_to_arch_str",
    "query_nb201_computed_stats", "query_nb201_trial_stats",
    "Nb201Arch", "Nb201RunConfig", "Nb201ComputedStats", "Nb201IntermediateStats", "Nb201MeanStats",
    "Nb201TrialConfig", "Nb201TrialStats", "bind",
]
