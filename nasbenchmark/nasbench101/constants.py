"""NAS-Bench-101 constants (google-research/nasbench's names and order, NNI's ``LABEL2ID``)."""

INPUT = "input"
OUTPUT = "output"
CONV3X3_BN_RELU = "conv3x3-bn-relu"
CONV1X1_BN_RELU = "conv1x1-bn-relu"
MAXPOOL3X3 = "maxpool3x3"

#: The ops an inner vertex may have, in nasbench's ``available_ops`` order: the position is the label
#: the module hash uses (conv3x3 0, conv1x1 1, maxpool 2).
AVAILABLE_OPS = [CONV3X3_BN_RELU, CONV1X1_BN_RELU, MAXPOOL3X3]
#: Op name -> the integer label of nasbench's hash (input -1, output -2), as in NNI.
LABEL2ID = {INPUT: -1, OUTPUT: -2, **{op: label for label, op in enumerate(AVAILABLE_OPS)}}

#: Training budgets (epochs) of ``nasbench_full.tfrecord``; ``nasbench_only108.tfrecord`` has only 108.
BUDGETS = (4, 12, 36, 108)
#: Every (model, budget) was trained this many times.
NUM_REPEATS = 3

#: Limits of the search space, checked after pruning (nasbench's ``module_vertices``, ``max_edges``).
MAX_VERTICES = 7
MAX_EDGES = 9

#: Unique models (module hashes) in the release.
NUM_MODELS = 423624

#: Evaluations stored per run: halfway (``budget // 2`` epochs) and final, as nasbench's API returns them.
HALFWAY_EPOCHS = tuple(budget // 2 for budget in BUDGETS)

DB_FILENAME = "nasbench101.db"
GENERATE_COMMAND = "nasbenchmark generate nb101 --input PATH"
