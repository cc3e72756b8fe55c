"""NAS-Bench-Graph: 26,206 GNN architectures on 9 graph datasets (Qin et al., NeurIPS 2022 D&B).

>>> from nasbenchmark.nasbenchgraph import query_nbgraph_computed_stats
>>> next(query_nbgraph_computed_stats('[0,1,2,1] gcn-gin-fc-cheb', 'cora'))['test_perf']
0.8046666666666668
"""
from .constants import (ARMA, CHEB, DATASETS, FC, GAT, GCN, GIN, GRAPH, LINKS, OPS, PROTEINS_OPS, SAGE,
                        SKIP)
from .graph_util import Arch, arch_key, decode_key, format_arch_str, parse_arch_str
from .query import iter_archs, list_datasets, query_nbgraph_computed_stats
from .schema import NbGraphArch, NbGraphDataset, NbGraphResult, bind

__all__ = [
    "GAT", "GCN", "GIN", "CHEB", "SAGE", "ARMA", "GRAPH", "FC", "SKIP", "OPS", "LINKS", "DATASETS", "PROTEINS_OPS",
    "Arch", "arch_key", "decode_key", "format_arch_str", "parse_arch_str",
    "query_nbgraph_computed_stats", "list_datasets", "iter_archs",
    "NbGraphArch", "NbGraphDataset", "NbGraphResult", "bind",
]
