"""NAS-Bench-201 documentation: tables, columns (with units) and canned queries.

The single source for the Datasette metadata and the static site.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..catalog import (BenchmarkCatalog, CannedQuery, Column, Table, choice_check, integer_check, sql_error,
                       sql_text)
from .constants import DATASETS, DB_FILENAME, EDGES, GENERATE_COMMAND, NUM_EPOCHS, PRIMITIVES
from .schema import MEAN_COLUMNS

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
_COST_COLUMNS = (
    Column("parameters", "Number of parameters", "millions"),
    Column("latency", "Inference latency per batch (NULL where the release says -1)", "seconds"),
    Column("flops", "Floating point operations", "MFLOPs"),
)
#: Per-run columns by name: nb201meanstats averages some of them (schema.MEAN_COLUMNS).
_RUN_COLUMNS = {column.name: column for column in (*_METRIC_COLUMNS, *_COST_COLUMNS)}

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
        *_COST_COLUMNS,
        Column("training_time", "Total training time: sum of the per-epoch times", "seconds"),
        Column("valid_evaluation_time", "Time to evaluate the validation set", "seconds"),
        Column("test_evaluation_time", "Time to evaluate the test set", "seconds"),
        Column("ori_test_evaluation_time", "Time to evaluate the whole original test set", "seconds"),
    ), facets=("seed",)),
    Table("nb201meanstats", "Final accuracies and costs of each config, mean over its seeds (ours; what "
          "query_nb201_computed_stats(..., reduction='mean') returns for these columns), keyed by dataset, "
          "budget and architecture so a whole dataset is one contiguous read.", (
        Column("dataset", "cifar10-valid, cifar10, cifar100 or imagenet16-120"),
        Column("num_epochs", "Training budget: 12 or 200", "epochs"),
        Column("arch_index", "Official index of the architecture"),
        Column("config_id", "The config (nb201trialconfig.id)"),
        Column("seeds", "Number of runs averaged"),
        *(_RUN_COLUMNS[name] for name in MEAN_COLUMNS),
    ), facets=("dataset", "num_epochs")),
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

# --- Canned queries -------------------------------------------------------------------------------
# Every query starts with two CTEs built from one parameter list, so defaults and checks cannot
# drift from ``CannedQuery.params``: ``raw`` turns blank form fields (Datasette sends "") into the
# defaults, ``params`` checks each value and stops the query with a message naming the parameter
# (``sql_error``). The SQL avoids everything newer than 3.35 (->>, STRICT, RIGHT JOIN, unixepoch...).
# Values are always bound, never formatted in.


@dataclass(frozen=True)
class _Param:
    name: str
    default: str
    allowed: str | None  # SQL condition on the raw text (a column of ``raw`` named ``name``); None: any text
    value: str  # SQL expression of the checked value
    expected: str = ""  # what the error message says is allowed
    choices: tuple[str, ...] = ()  # the accepted values, when there are a few


def _choice(name: str, default: str, allowed, integer: bool = False) -> _Param:
    condition, expected = choice_check(name, allowed)
    return _Param(name, default, condition, f"cast({name} as integer)" if integer else name, expected, tuple(allowed))


def _integer(name: str, default: int, low: int, high: int) -> _Param:
    condition, expected = integer_check(name, low, high)
    return _Param(name, str(default), condition, f"cast({name} as integer)", expected)


def _checked(p: _Param) -> str:
    if p.allowed is None:
        return p.name
    return (f"case when {p.allowed} then {p.value}\n"
            f"         else {sql_error(f'{p.name} must be {p.expected}', p.name)} end as {p.name}")


def _with_params(params: tuple[_Param, ...]) -> str:
    raw = ",\n    ".join(f"coalesce(nullif(trim(:{p.name}), ''), {sql_text(p.default)}) as {p.name}"
                         for p in params)
    checked = ",\n    ".join(_checked(p) for p in params)
    return f"with raw as (\n  select\n    {raw}\n),\nparams as (\n  select\n    {checked}\n  from raw\n)"


def _query(name: str, title: str, description: str, params: tuple[_Param, ...], body: str,
           chart: dict[str, str] | None = None) -> CannedQuery:
    """``body`` continues the WITH clause: more CTEs (starting with a comma) and the final select."""
    return CannedQuery(name, title, description, _with_params(params) + body,
                       {p.name: p.default for p in params}, chart,
                       {p.name: p.choices for p in params if p.choices})


_ACCURACIES = ("test_acc", "valid_acc", "ori_test_acc", "train_acc")
# Index 0, the cell of NNI's NAS-Bench-201 example; also in every sample of the first N cells.
_DEFAULT_ARCH = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"


def _dataset(default: str = "cifar10") -> _Param:
    return _choice("dataset", default, DATASETS)


_EPOCHS = _choice("epochs", "200", [str(e) for e in NUM_EPOCHS], integer=True)
_METRIC = _choice("metric", "test_acc", _ACCURACIES)
# Any text: an index, an arch string or a JSON dict; the ``chosen`` CTE resolves and checks it.
_ARCH = _Param("arch", _DEFAULT_ARCH, allowed=None, value="arch")


def _metric_of(alias: str) -> str:
    """The accuracy column ``params.metric`` names, read from stats row ``alias``."""
    cases = " ".join(f"when '{m}' then {alias}.{m}" for m in _ACCURACIES)
    return f"case p.metric {cases} end"


def _config_means() -> str:
    """Mean over seeds of the chosen metric per config of the chosen dataset and budget: one range of
    ``nb201meanstats`` (its primary key starts with dataset and budget).

    ``cross join`` fixes the join order (params first): otherwise the planner may scan the whole
    table and probe params, which in the browser means downloading every dataset's rows.
    """
    return f""",
config_means as (
  select ms.config_id, ms.arch_index, {_metric_of("ms")} as mean_acc
  from params p
  cross join nb201meanstats ms on ms.dataset = p.dataset and ms.num_epochs = p.epochs
)"""


def _top_k() -> str:
    return ",\ntop as (\n  select * from config_means where mean_acc is not null\n" \
           "  order by mean_acc desc, arch_index limit (select k from params)\n)"


_ARCH_ERROR = sql_error("arch must be an index 0..15624, an arch string |op~0|+|op~0|op~1|+|op~0|op~1|op~2| "
                    "or a JSON dict of the 6 edges 0_1..2_3, naming one architecture", "p.arch")
_EDGE_JSON = ", ".join(f"'{e}', json_extract(p.arch, '$.\"{e}\"')" for e in sorted(EDGES))
# One architecture from ``:arch`` through the three unique indexes of nb201arch.
_CHOSEN_ARCH = f""",
matches as (
  select a.arch_index from params p
  join nb201arch a
    on a.arch_index = case when p.arch not glob '*[^0-9]*' then cast(p.arch as integer) end
    or a.arch_str = p.arch
    or a.arch = case when json_valid(p.arch) then
                  case when json_type(p.arch) = 'object' then json_object({_EDGE_JSON}) end end
),
chosen as (
  select case when (select count(*) from matches) = 1 then (select arch_index from matches)
         else {_ARCH_ERROR} end as arch_index
  from params p
)"""

_METRIC_HELP = ("metric: " + ", ".join(_ACCURACIES) + " (mean over seeds; valid_acc is NULL on cifar10). "
                "dataset: " + ", ".join(DATASETS) + ". epochs: 12 or 200.")
_ARCH_HELP = ("arch: the official index (0..15624), the arch string |op~0|+|op~0|op~1|+|op~0|op~1|op~2| "
              "or NNI's JSON dict {\"0_1\": \"conv_3x3\", ...} (any key order).")

QUERIES: tuple[CannedQuery, ...] = (
    _query(
        "top_architectures", "Top architectures",
        "The k best architectures by an accuracy metric for one dataset and training budget, "
        "mean over seeds (with the worst and best seed). " + _METRIC_HELP + " k: 1..1000.",
        (_dataset(), _EPOCHS, _METRIC, _integer("k", 10, 1, 1000)),
        _config_means() + _top_k() + f"""
select row_number() over (order by t.mean_acc desc, t.arch_index) as rank,
       t.arch_index, a.arch_str, p.metric, t.mean_acc, min({_metric_of("s")}) as min_acc,
       max({_metric_of("s")}) as max_acc, count(*) as seeds, avg(s.parameters) as parameters, avg(s.flops) as flops
from top t
join nb201trialstats s on s.config_id = t.config_id
join nb201arch a on a.arch_index = t.arch_index
cross join params p
group by t.config_id
order by rank""",
        chart={"type": "bar", "x": "rank", "y": "mean_acc"},
    ),
    _query(
        "architecture_results", "One architecture on every dataset",
        "Final results of one architecture on each dataset for one training budget, mean over seeds. "
        + _ARCH_HELP + " epochs: 12 or 200.",
        (_ARCH, _EPOCHS),
        _CHOSEN_ARCH + """
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
        chart={"type": "bar", "x": "dataset", "y": "test_acc"},
    ),
    _query(
        "learning_curve", "Learning curve of one architecture",
        "Per-epoch metrics of one architecture on one dataset: one row per epoch for the mean over seeds "
        "(run = 'mean') and one per seed (run = 'seed 777'...). Epochs the release does not record are absent. "
        + _ARCH_HELP + " dataset: " + ", ".join(DATASETS) + ". epochs: 12 or 200.",
        (_ARCH, _dataset(), _EPOCHS),
        _CHOSEN_ARCH + """,
runs as (
  select s.id as trial_id, s.seed
  from chosen ch
  cross join params p
  join nb201trialconfig c on c.arch_index = ch.arch_index and c.num_epochs = p.epochs and c.dataset = p.dataset
  join nb201trialstats s on s.config_id = c.id
),
curve as (
  select i.current_epoch, r.seed, i.train_acc, i.valid_acc, i.test_acc, i.train_loss, i.valid_loss, i.test_loss
  from runs r
  join nb201intermediatestats i on i.trial_id = r.trial_id
)
select current_epoch, 'mean' as run, count(*) as seeds,
       avg(train_acc) as train_acc, avg(valid_acc) as valid_acc, avg(test_acc) as test_acc,
       avg(train_loss) as train_loss, avg(valid_loss) as valid_loss, avg(test_loss) as test_loss
from curve
group by current_epoch
union all
select current_epoch, 'seed ' || seed, 1, train_acc, valid_acc, test_acc, train_loss, valid_loss, test_loss
from curve
order by current_epoch, run""",
        chart={"type": "line", "x": "current_epoch", "y": "test_acc", "series": "run"},
    ),
    _query(
        "pareto_front", "Accuracy vs cost: the Pareto front",
        "Architectures that no other architecture beats on both accuracy (higher) and cost (lower), "
        "by increasing cost; mean over seeds. cost: parameters (millions), flops (MFLOPs) or latency (seconds). "
        + _METRIC_HELP,
        (_dataset(), _EPOCHS, _METRIC, _choice("cost", "parameters", ("parameters", "flops", "latency"))),
        f""",
config_means as (
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
        chart={"type": "scatter", "x": "cost", "y": "mean_acc"},
    ),
    _query(
        "accuracy_histogram", "Histogram of accuracies",
        "How many architectures reach each accuracy: the range from the worst to the best mean over seeds, "
        "cut into equal bins (empty bins included). " + _METRIC_HELP + " bins: 1..100.",
        (_dataset(), _EPOCHS, _METRIC, _integer("bins", 20, 1, 100)),
        _config_means() + """,
bounds as (
  select min(mean_acc) as low, max(mean_acc) as high from config_means
),
bins(bin) as (
  select 0 union all select bin + 1 from bins where bin + 1 < (select bins from params)
),
counts as (
  select case when b.high > b.low then min(cast((m.mean_acc - b.low) * p.bins / (b.high - b.low) as integer),
                                          p.bins - 1)
              else 0 end as bin,
         count(*) as archs
  from config_means m cross join bounds b cross join params p
  where m.mean_acc is not null
  group by 1
)
select n.bin, b.low + n.bin * (b.high - b.low) / p.bins as bin_start,
       b.low + (n.bin + 1) * (b.high - b.low) / p.bins as bin_end, coalesce(k.archs, 0) as archs
from bins n
cross join bounds b
cross join params p
left join counts k on k.bin = n.bin
where b.low is not null
order by n.bin""",
        chart={"type": "bar", "x": "bin_start", "y": "archs"},
    ),
    _query(
        "top_k_operations", "Operations among the top architectures",
        "How often each operation appears in the k best architectures, in total and per edge i_j "
        "(node i to node j). " + _METRIC_HELP + " k: 1..15625.",
        (_dataset(), _EPOCHS, _METRIC, _integer("k", 100, 1, 15625)),
        _config_means() + _top_k() + f""",
ops(op) as (
  values {", ".join(f"('{op}')" for op in PRIMITIVES)}
)
select o.op,
       {" + ".join(f"sum(a.op_{e} = o.op)" for e in EDGES)} as total,
       round(100.0 * ({" + ".join(f"sum(a.op_{e} = o.op)" for e in EDGES)}) / (6 * count(*)), 2) as share_percent,
       {(chr(10) + '       ').join(f"sum(a.op_{e} = o.op) as edge_{e}," for e in EDGES)}
       count(*) as archs
from ops o
cross join top t
join nb201arch a on a.arch_index = t.arch_index
group by o.op
order by total desc, o.op""",
        chart={"type": "bar", "x": "op", "y": "total"},
    ),
    _query(
        "rank_correlation_12_vs_200", "Rank correlation of 12- vs 200-epoch accuracy",
        "Spearman's rank correlation between the accuracy after 12 and after 200 epochs over all "
        "architectures of one dataset (mean over seeds; tied values get their average rank): how well the "
        "short budget predicts the long one. metric: " + ", ".join(_ACCURACIES) + ". dataset: "
        + ", ".join(DATASETS) + ".",
        (_dataset("cifar10-valid"), _choice("metric", "valid_acc", _ACCURACIES)),
        f""",
pairs as (
  select {_metric_of("short")} as acc_12, {_metric_of("long")} as acc_200
  from params p
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
    ),
)

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
