"""NAS-Bench-201 on the static site: a seed-mean ``summary`` table, covering indexes, views.

Byte budgets drive the layout (measured by ``benchmarks/site_bytes.py``):

* ``summary`` is keyed ``(arch_index, num_epochs, dataset_id)`` WITHOUT ROWID, so one architecture's
  8 rows share a page: the architecture page reads a handful of pages.
* the browse table sorts through ``summary_by_<column>`` indexes on ``(dataset_id, num_epochs, column,
  ...)`` that cover every displayed column: a page of 100 rows is a few index pages.
* the whole-space scatter reads one narrow index per (x, y) pair: 15,625 entries of ~30 bytes. The
  engine doubles its request size on sequential reads, so a slice just over 127 pages (508 KiB) would
  cost a further 512 KiB request: that is why the dataset is a number in the keys (``dataset_id``)
  and the cell is left out (colouring by op reads the wider ``summary_by_<x>`` index instead).
* ``cell`` packs the six edge ops into one integer (edge ``0_1`` is the least significant base-5
  digit, ops in ``PRIMITIVES`` order), so views can show and filter ops without the ``nb201arch`` row.

Learning curves come from the release's own ``nb201intermediatestats`` (one range per run).
"""
from __future__ import annotations

from nasbenchmark.catalog import Column, Table
from nasbenchmark.nasbench201.constants import (DATASETS, EDGES, NUM_EPOCHS, OP_TO_ORIGINAL, PRIMITIVES)

from . import ArchSpec, BrowseSpec, ChoiceFilter, RangeFilter, ScatterSpec, SiteAdapter

METRICS = ("train_acc", "valid_acc", "test_acc", "ori_test_acc", "train_loss", "valid_loss", "test_loss",
           "ori_test_loss")
COSTS = ("parameters", "flops", "latency", "training_time")
#: Columns the browse table shows; every sort index covers them all.
BROWSE_COLUMNS = ("arch_index", "cell", "seeds", "train_acc", "valid_acc", "test_acc", "parameters", "flops",
                  "latency")
SORT_COLUMNS = ("arch_index", "test_acc", "valid_acc", "train_acc", "parameters", "flops", "latency")
SCATTER_X = ("parameters", "flops", "latency")
SCATTER_Y = ("test_acc", "valid_acc")


def _cell_sql() -> str:
    op_digit = " ".join(f"when '{op}' then {i}" for i, op in enumerate(PRIMITIVES))
    return " + ".join(f"{5 ** k} * (case a.op_{edge} {op_digit} end)" for k, edge in enumerate(EDGES))


def _dataset_id_sql() -> str:
    cases = " ".join(f"when '{d}' then {i}" for i, d in enumerate(DATASETS))
    return f"case c.dataset {cases} end"


def _index_sql() -> list[str]:
    statements = []
    for column in SORT_COLUMNS:
        covering = [c for c in BROWSE_COLUMNS if c != column]
        statements.append(f"create index summary_by_{column} on summary "
                          f"(dataset_id, num_epochs, {column}, {', '.join(covering)})")
    for x in SCATTER_X:
        for y in SCATTER_Y:
            statements.append(f"create index summary_xy_{x}_{y} on summary "
                              f"(dataset_id, num_epochs, {x}, {y}, arch_index)")
    return statements


DERIVED_SQL = ";\n".join([
    f"""create table summary (
    arch_index integer not null,
    num_epochs integer not null,
    dataset_id integer not null,
    dataset text not null,
    cell integer not null,
    seeds integer not null,
    {", ".join(f"{c} real" for c in METRICS + COSTS)},
    primary key (arch_index, num_epochs, dataset_id)
) without rowid""",
    f"""insert into summary
select c.arch_index, c.num_epochs, {_dataset_id_sql()}, c.dataset, {_cell_sql()}, count(*),
       {", ".join(f"avg(s.{c})" for c in METRICS + COSTS)}
from nb201trialconfig c
join nb201arch a on a.arch_index = c.arch_index
join nb201trialstats s on s.config_id = c.id
group by c.id
order by 1, 2, 3""",
    *_index_sql(),
]) + ";"

SUMMARY_TABLE = Table(
    "summary",
    "Site table: one row per architecture x training budget x dataset, metrics averaged over seeds "
    "(what query_nb201_computed_stats(..., reduction='mean') returns).",
    (
        Column("arch_index", "Official NAS-Bench-201 index (0..15624)"),
        Column("num_epochs", "Training budget: 12 or 200", "epochs"),
        Column("dataset_id", "The dataset as a number (indexes stay small): "
                             + ", ".join(f"{i} {d}" for i, d in enumerate(DATASETS))),
        Column("dataset", "cifar10-valid, cifar10, cifar100 or imagenet16-120"),
        Column("cell", "The six edge ops as base-5 digits, edge 0_1 least significant, ops in the order "
                       + ", ".join(f"{i} {op}" for i, op in enumerate(PRIMITIVES))),
        Column("seeds", "Number of training runs (seeds) averaged"),
        Column("train_acc", "Top-1 training accuracy after the last epoch, mean over seeds", "percent"),
        Column("valid_acc", "Top-1 validation accuracy, mean over seeds (NULL on cifar10)", "percent"),
        Column("test_acc", "Top-1 test accuracy, mean over seeds", "percent"),
        Column("ori_test_acc", "Top-1 accuracy on the whole original test set, mean over seeds", "percent"),
        Column("train_loss", "Training loss, mean over seeds"),
        Column("valid_loss", "Validation loss, mean over seeds"),
        Column("test_loss", "Test loss, mean over seeds"),
        Column("ori_test_loss", "Loss on the whole original test set, mean over seeds"),
        Column("parameters", "Number of parameters", "millions"),
        Column("flops", "Floating point operations", "MFLOPs"),
        Column("latency", "Inference latency per batch", "seconds"),
        Column("training_time", "Total training time", "seconds"),
    ),
    facets=("dataset", "num_epochs"),
)


def _dataset_filter(default: str = "cifar10", column: str = "dataset_id") -> ChoiceFilter:
    """Filter on the dataset; the summary's indexes key it by number, the release tables by name."""
    values = tuple((d, i) for i, d in enumerate(DATASETS)) if column == "dataset_id" else tuple((d, d) for d in DATASETS)
    return ChoiceFilter("dataset", "Dataset", f"{column} = :dataset", values, required=True, default=default)


def _epochs_filter() -> ChoiceFilter:
    return ChoiceFilter("num_epochs", "Epochs", "num_epochs = :num_epochs",
                        tuple((str(e), e) for e in NUM_EPOCHS), required=True, default="200")


def _op_filters() -> tuple[ChoiceFilter, ...]:
    return tuple(
        ChoiceFilter(f"op_{edge}", f"Edge {edge.replace('_', '→')}", f"(cell / {5 ** k}) % 5 = :op_{edge}",
                     tuple((op, i) for i, op in enumerate(PRIMITIVES)))
        for k, edge in enumerate(EDGES))


SPACE_HTML = """
<p>A cell is a directed acyclic graph with 4 nodes: node 0 is the cell's input, node 3 its output,
and every node <i>j</i> sums the outputs of the operations on its incoming edges <i>i</i>→<i>j</i>.
Each of the 6 edges carries one of 5 operations, so the space has 5<sup>6</sup> = 15,625 cells.
The network stacks the cell in 3 stages of 5 cells (16, 32 and 64 channels) separated by residual
reduction blocks; every cell is trained with the same hyper-parameters.</p>
<p>Splits: <b>cifar10-valid</b> trains on half of the CIFAR-10 training set and validates on the other half;
<b>cifar10</b> trains on all of it (no validation split); <b>cifar100</b> and <b>imagenet16-120</b>
split their test set into validation and test halves. Budgets: <b>200</b> epochs (seeds 777, 888, 999)
and <b>12</b> epochs (seed 111, plus 777 on cifar10-valid).</p>
"""


def adapter(catalog, conn) -> SiteAdapter:
    browse = BrowseSpec(
        table="summary",
        title="Architectures (mean over seeds)",
        columns=BROWSE_COLUMNS,
        sorts={column: f"summary_by_{column}" for column in SORT_COLUMNS},
        default_sort="test_acc",
        default_desc=True,
        tie_breaker="arch_index",
        filters=(_dataset_filter(), _epochs_filter(), *_op_filters(),
                 RangeFilter("test_acc", "Test accuracy", "percent"),
                 RangeFilter("valid_acc", "Validation accuracy", "percent"),
                 RangeFilter("train_acc", "Training accuracy", "percent"),
                 RangeFilter("parameters", "Parameters", "millions"),
                 RangeFilter("flops", "FLOPs", "MFLOPs")),
        row_link_column="arch_index",
    )
    scatter = ScatterSpec(
        sql="select arch_index, {x}, {y} from summary indexed by summary_xy_{x}_{y} "
            "where dataset_id = :dataset and num_epochs = :num_epochs",
        colour_sql="select arch_index, cell, {x}, {y} from summary indexed by summary_by_{x} "
                   "where dataset_id = :dataset and num_epochs = :num_epochs",
        x_options=SCATTER_X, y_options=SCATTER_Y, filters=(_dataset_filter(), _epochs_filter()),
        key_column="arch_index", default_x="parameters", default_y="test_acc")
    metric_list = ", ".join(f"i.{m}" for m in METRICS)
    arch = ArchSpec(
        table="nb201arch", key_column="arch_index",
        row_sql="select * from nb201arch where arch_index = :id",
        results_sql="select dataset, num_epochs, seeds, " + ", ".join(METRICS + COSTS)
                    + " from summary where arch_index = :id",
        results_columns=("dataset", "num_epochs", "seeds") + METRICS + COSTS,
        curves_sql="select s.seed, i.current_epoch, " + metric_list + " from nb201trialconfig c "
                   "join nb201trialstats s on s.config_id = c.id "
                   "join nb201intermediatestats i on i.trial_id = s.id "
                   "where c.arch_index = :id and c.dataset = :dataset and c.num_epochs = :num_epochs "
                   "order by s.seed, i.current_epoch",
        curve_filters=(_dataset_filter("cifar10-valid", column="c.dataset"), _epochs_filter()),
        curve_metrics=METRICS, curve_series="seed", curve_x="current_epoch")
    return SiteAdapter(
        key="nb201",
        derived_sql=DERIVED_SQL,
        derived_tables=(SUMMARY_TABLE,),
        space_html=SPACE_HTML,
        constants={
            "Operations (NNI name, original name)": [[op, OP_TO_ORIGINAL[op]] for op in PRIMITIVES],
            "Edges (arch string order)": [[edge, f"node {edge[0]} → node {edge[2]}"] for edge in EDGES],
            "Datasets": [[d, ""] for d in DATASETS],
            "Training budgets (epochs)": [[str(e), ""] for e in NUM_EPOCHS],
        },
        browse=(browse,),
        scatter=scatter,
        arch=arch,
        js_module="nb201",
        example_sql="-- dataset_id: 0 cifar10-valid, 1 cifar10, 2 cifar100, 3 imagenet16-120\n"
                    "select s.arch_index, a.arch_str, s.test_acc, s.parameters\n"
                    "from summary s join nb201arch a on a.arch_index = s.arch_index\n"
                    "where s.dataset_id = 2 and s.num_epochs = 200\n"
                    "order by s.test_acc desc limit 10",
        # nb201arch always lists the whole space; a sample evaluates only some of it.
        evaluated_archs_sql="select count(distinct arch_index) from nb201trialconfig",
    )
