"""NDS (Radosavovic et al., ICCV 2019): 34 sweeps of NAS-cell, ResNet, ResNeXt and Vanilla models.

>>> from nasbenchmark.nds import query_nds_computed_stats
>>> next(query_nds_computed_stats('vanilla', None, None, None, None, None))['final_test_acc']
"""
from .constants import (AVG_POOL_3X3, CONV_1X1, CONV_3X1_1X3, CONV_3X3, CONV_7X1_1X7, DATASETS, DESIGN_SPACES,
                        DIL_CONV_3X3, DIL_CONV_5X5, DIL_SEP_CONV_3X3, GENERATORS, MAX_POOL_3X3, MAX_POOL_5X5,
                        MAX_POOL_7X7, MODEL_FAMILIES, NAS_CELL, NONE, OPS, PROPOSERS, RESIDUAL_BASIC,
                        RESIDUAL_BOTTLENECK, SEP_CONV_3X3, SEP_CONV_5X5, SEP_CONV_7X7, SKIP_CONNECT, SWEEP_FILES,
                        VANILLA, DesignSpace, SweepLabels)
from .query import query_nds_computed_stats, query_nds_trial_stats, spec_json
from .schema import (NdsComputedStats, NdsDesignSpace, NdsIntermediateStats, NdsMeanStats, NdsRunConfig,
                     NdsTrialConfig, NdsTrialStats, bind)

__all__ = [
    "NONE", "SKIP_CONNECT", "AVG_POOL_3X3", "MAX_POOL_3X3", "MAX_POOL_5X5", "MAX_POOL_7X7", "CONV_1X1", "CONV_3X3",
    "CONV_3X1_1X3", "CONV_7X1_1X7", "DIL_CONV_3X3", "DIL_CONV_5X5", "SEP_CONV_3X3", "SEP_CONV_5X5",
    "SEP_CONV_7X7", "DIL_SEP_CONV_3X3", "OPS",
    "NAS_CELL", "RESIDUAL_BOTTLENECK", "RESIDUAL_BASIC", "VANILLA", "MODEL_FAMILIES",
    "PROPOSERS", "GENERATORS", "DATASETS", "SWEEP_FILES", "SweepLabels", "DesignSpace", "DESIGN_SPACES",
    "query_nds_computed_stats", "query_nds_trial_stats", "spec_json",
    "NdsRunConfig", "NdsComputedStats", "NdsIntermediateStats", "NdsDesignSpace", "NdsMeanStats",
    "NdsTrialConfig", "NdsTrialStats", "bind",
]
