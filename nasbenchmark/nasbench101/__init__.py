"""NAS-Bench-101: 423,624 cells trained on CIFAR-10 at 4, 12, 36 and 108 epochs (Ying et al., ICML 2019).

>>> from nasbenchmark.nasbench101 import query_nb101_computed_stats
>>> arch = {'op1': 'conv3x3-bn-relu', 'op2': 'maxpool3x3', 'op3': 'conv3x3-bn-relu', 'op4': 'conv3x3-bn-relu',
...         'op5': 'conv1x1-bn-relu', 'input1': [0], 'input2': [1], 'input3': [2], 'input4': [0],
...         'input5': [0, 3, 4], 'input6': [2, 5]}
>>> next(query_nb101_computed_stats(arch, 108, reduction='mean'))['test_acc']
"""
from .constants import (AVAILABLE_OPS, BUDGETS, CONV1X1_BN_RELU, CONV3X3_BN_RELU, INPUT, LABEL2ID, MAX_EDGES,
                        MAX_VERTICES, MAXPOOL3X3, NUM_MODELS, NUM_REPEATS, OUTPUT)
from .graph_util import (architecture_to_nasbench_format, canonical_hash, hash_module, infer_num_vertices,
                         nasbench_format_to_architecture_repr, nasbench_hash_module, prune, spec_hash,
                         spec_problems, validate)
from .query import query_nb101_computed_stats, query_nb101_trial_stats
from .schema import (Nb101Arch, Nb101ComputedStats, Nb101IntermediateStats, Nb101MeanStats, Nb101RunConfig,
                     Nb101TrialConfig, Nb101TrialStats, bind)

__all__ = [
    "INPUT", "OUTPUT", "CONV3X3_BN_RELU", "CONV1X1_BN_RELU", "MAXPOOL3X3", "AVAILABLE_OPS", "LABEL2ID",
    "BUDGETS", "NUM_REPEATS", "MAX_VERTICES", "MAX_EDGES", "NUM_MODELS",
    "nasbench_format_to_architecture_repr", "infer_num_vertices", "hash_module", "architecture_to_nasbench_format",
    "nasbench_hash_module", "prune", "validate", "spec_problems", "spec_hash", "canonical_hash",
    "query_nb101_computed_stats", "query_nb101_trial_stats",
    "Nb101Arch", "Nb101RunConfig", "Nb101ComputedStats", "Nb101IntermediateStats", "Nb101MeanStats",
    "Nb101TrialConfig", "Nb101TrialStats", "bind",
]
