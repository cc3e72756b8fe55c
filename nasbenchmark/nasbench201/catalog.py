"""NAS-Bench-201 documentation: tables, columns (with units) and canned queries.

The single source for the Datasette metadata and the static site.
"""
from __future__ import annotations

from ..catalog import BenchmarkCatalog, CannedQuery, Column, Table
from .constants import DB_FILENAME, GENERATE_COMMAND

_ACC = "percent"
_SPLITS = ("cifar10-valid: valid = x-valid (25k held out of train), test = ori-test (10k); "
           "cifar10: no validation split (valid is NULL), test = ori-test; "
           "cifar100 / imagenet16-120: valid = x-valid, test = x-test (halves of ori-test)")

_METRIC_COLUMNS = (
    Column("train_acc", "Top-1 training accuracy after the last epoch", _ACC),
    Column("valid_acc", "Top-1 validation accuracy (NULL on cifar10, which has no validation split)", _ACC),
    Column("test_acc", "Top-1 test accuracy", _ACC),
    Column("ori_test_acc", "Top-1 accuracy on the dataset's whole original test set", _ACC),
    Column("train_loss", "Training cross-entropy loss"),
    Column("valid_loss", "Validation loss (NULL on cifar10)"),
    Column("test_loss", "Test loss"),
    Column("ori_test_loss", "Loss on the whole original test set"),
)

TABLES = (
    Table("nb201arch", "The 15,625 cells of the search space, by official index.", (
        Column("arch_index", "Official NAS-Bench-201 index (0..15624), same in NATS-Bench tss"),
        Column("arch_str", "Original arch string |op~0|+|op~0|op~1|+|op~0|op~1|op~2|"),
        Column("arch", "NNI's 6-edge dict as JSON: edge i_j (node i to node j) -> op"),
        *(Column(f"op_{e}", f"Op on edge {e.replace('_', ' -> ')}") for e in
          ("0_1", "0_2", "1_2", "0_3", "1_3", "2_3")),
    ), facets=("op_0_1", "op_0_2", "op_1_2", "op_0_3", "op_1_3", "op_2_3"), label_column="arch_str"),
    Table("nb201trialconfig", "One architecture trained with one setup (NNI's Nb201TrialConfig).", (
        Column("id", "Config id"),
        Column("arch", "6-edge dict as JSON"),
        Column("num_epochs", "Training budget: 12 (hp 12) or 200 (hp 200)", "epochs"),
        Column("num_channels", "Channels of the first cell (always 16)"),
        Column("num_cells", "Cells per stage (always 5)"),
        Column("dataset", "cifar10-valid, cifar10, cifar100 or imagenet16-120. " + _SPLITS),
        Column("arch_index", "Official index of the architecture"),
    ), facets=("dataset", "num_epochs")),
    Table("nb201trialstats", "Final results of one training run (one seed) (NNI's Nb201TrialStats).", (
        Column("id", "Trial id"),
        Column("config_id", "The config this run trained"),
        Column("seed", "Training seed (777, 888, 999; 111 for some 12-epoch runs)"),
        *_METRIC_COLUMNS,
        Column("parameters", "Number of parameters", "millions"),
        Column("latency", "Inference latency per batch (NULL where the release says -1)", "seconds"),
        Column("flops", "Floating point operations", "MFLOPs"),
        Column("training_time", "Total training time: sum of the per-epoch times", "seconds"),
        Column("valid_evaluation_time", "Time to evaluate the validation set", "seconds"),
        Column("test_evaluation_time", "Time to evaluate the test set", "seconds"),
        Column("ori_test_evaluation_time", "Time to evaluate the whole original test set", "seconds"),
    ), facets=("seed",)),
    Table("nb201intermediatestats", "Per-epoch metrics of one run; epochs the release does not record are "
          "absent and missing values NULL (NNI's Nb201IntermediateStats).", (
        Column("id", "Row id"),
        Column("trial_id", "The run"),
        Column("current_epoch", "Epoch, 1-based", "epochs"),
        *_METRIC_COLUMNS,
    )),
    Table("metadata", "Provenance: benchmark, source files with sha256, generator version, synthetic flag.", (
        Column("key", "Name"), Column("value", "Value"),
    )),
)

QUERIES: tuple[CannedQuery, ...] = ()

CATALOG = BenchmarkCatalog(
    key="nb201",
    db_filename=DB_FILENAME,
    title="NAS-Bench-201",
    description="15,625 cell architectures (5 ops on 6 edges) trained on CIFAR-10, CIFAR-100 and "
                "ImageNet16-120 for 12 and 200 epochs (Dong & Yang, ICLR 2020; NATS-Bench topology space).",
    license="MIT",
    license_url="https://github.com/D-X-Y/NAS-Bench-201/blob/master/LICENSE.md",
    source="D-X-Y/NAS-Bench-201 and D-X-Y/NATS-Bench",
    source_url="https://github.com/D-X-Y/NATS-Bench",
    generate_command=GENERATE_COMMAND,
    tables=TABLES,
    queries=QUERIES,
)
