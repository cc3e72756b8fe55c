"""NAS-Bench-Graph constants: operations, macro links, datasets (names as in the original release)."""

GAT = "gat"
GCN = "gcn"
GIN = "gin"
CHEB = "cheb"
SAGE = "sage"
ARMA = "arma"
#: k-GNN ("GraphConv").
GRAPH = "graph"
#: Fully connected layer (no message passing).
FC = "fc"
#: Identity.
SKIP = "skip"

#: Operations in the original ``gnn_list`` order: an op's position is its digit in the key.
OPS = [GAT, GCN, GIN, CHEB, SAGE, ARMA, GRAPH, FC, SKIP]
OP_INDEX = {op: index for index, op in enumerate(OPS)}

#: The 9 canonical macro links in the original ``link_list`` order: the position is the key's first digit.
#: ``link[i]`` is the input of computing node ``i + 1``: 0 = the graph input, k = computing node k.
#: Every node without a successor feeds the output.
LINKS = [
    [0, 0, 0, 0],
    [0, 0, 0, 1],
    [0, 0, 1, 1],
    [0, 0, 1, 2],
    [0, 0, 1, 3],
    [0, 1, 1, 1],
    [0, 1, 1, 2],
    [0, 1, 2, 2],
    [0, 1, 2, 3],
]
NUM_NODES = 4

#: The nine datasets, in the paper's order.
DATASETS = ["cora", "citeseer", "pubmed", "cs", "physics", "photo", "computers", "arxiv", "proteins"]
#: proteins (ogbn-proteins) was benchmarked only with these five operations.
PROTEINS_OPS = [GCN, SAGE, ARMA, FC, SKIP]
#: Operations each dataset was benchmarked with.
DATASET_OPS = {dataset: (PROTEINS_OPS if dataset == "proteins" else OPS) for dataset in DATASETS}
#: What ``valid_perf`` / ``test_perf`` measure, as a fraction of 1. The release does not say which
#: metric proteins uses; ROC-AUC (the OGB metric for ogbn-proteins) is an unverified assumption.
DATASET_METRIC = {dataset: ("roc_auc (unverified)" if dataset == "proteins" else "accuracy")
                  for dataset in DATASETS}

#: Architectures per dataset in the release: all of the space, except proteins' 5-op subspace.
NUM_ARCHS = 26206
NUM_PROTEINS_ARCHS = 2021

DB_FILENAME = "nasbenchgraph.db"
GENERATE_COMMAND = "nasbenchmark generate nbgraph"
