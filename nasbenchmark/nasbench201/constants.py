"""NAS-Bench-201 constants (NNI's names: original ``nor_conv_*`` ops are renamed ``conv_*``)."""

NONE = "none"
SKIP_CONNECT = "skip_connect"
CONV_1X1 = "conv_1x1"
CONV_3X3 = "conv_3x3"
AVG_POOL_3X3 = "avg_pool_3x3"

#: Op index order of the original ``str2matrix`` (0 = none ... 4 = avg_pool_3x3).
PRIMITIVES = [NONE, SKIP_CONNECT, CONV_1X1, CONV_3X3, AVG_POOL_3X3]

#: Original NAS-Bench-201 op names -> NNI names.
ORIGINAL_TO_OP = {
    "none": NONE,
    "skip_connect": SKIP_CONNECT,
    "nor_conv_1x1": CONV_1X1,
    "nor_conv_3x3": CONV_3X3,
    "avg_pool_3x3": AVG_POOL_3X3,
}
OP_TO_ORIGINAL = {v: k for k, v in ORIGINAL_TO_OP.items()}

#: Edges of the cell as ``"i_j"`` (node i -> node j), in the arch string's order.
EDGES = ["0_1", "0_2", "1_2", "0_3", "1_3", "2_3"]

#: Datasets as stored in the DB (NNI lower-cases ``ImageNet16-120``).
DATASETS = ["cifar10-valid", "cifar10", "cifar100", "imagenet16-120"]
#: Original dataset keys -> stored names.
ORIGINAL_TO_DATASET = {"cifar10-valid": "cifar10-valid", "cifar10": "cifar10", "cifar100": "cifar100",
                       "ImageNet16-120": "imagenet16-120"}

#: Training budgets (epochs) of the two hyper-parameter settings: hp "12" and hp "200".
NUM_EPOCHS = [12, 200]

NUM_ARCHS = 15625
NUM_CHANNELS = 16
NUM_CELLS = 5

DB_FILENAME = "nasbench201.db"
GENERATE_COMMAND = "nasbenchmark generate nb201 --input PATH"
