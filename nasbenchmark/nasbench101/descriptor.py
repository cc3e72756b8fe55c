"""NAS-Bench-101 declared once: tables, columns (units, ranges, NNI's names), canned queries, search space
and the site's views. The schema, the peewee models, Datasette's metadata and the site derive from ``BENCHMARK``.

Table and column names are NNI's, and so are the ids: a model's configs are numbered ``4 * (arch_id - 1) + 1``
.. ``+ 4`` (4, 12, 36, 108 epochs), a config's runs ``3 * (config_id - 1) + 1`` .. ``+ 3`` and a run's
per-epoch rows ``2 * trial_id - 1`` (halfway) and ``2 * trial_id`` (final), models in the order the release
file first lists them, as NNI's ``db_gen`` numbers them. So NNI's own models read our DB unchanged, and one
architecture's rows are contiguous ranges. Differences from NNI:

* ``training_time`` is in **seconds**, the release's ``final_training_time``; NNI's ``nb101trialstats`` holds it
  times 60 (its ``db_gen`` multiplies it by 60 by mistake; its per-epoch rows are right).
* Accuracies and training times are stored as the release's float32 bits (``*_f32``) and NNI's columns are
  computed from them on read, exactly (``storage.float32_sql``); the config's ``arch`` is built on read from
  its cell code (``storage.arch_json_sql``). That is how the DB stays under 1 GB (NNI's takes 1.9 GB).
* ``nb101arch`` (ours): one row per model: its hash, cell code, op counts and trainable parameters, and the
  spelling the release stores (adjacency and ops, built on read from the cell code).
* The release's ``total_time`` of a run (training plus evaluation, "diagnostic" in nasbench, which its API
  does not return) is checked but not stored, nor are the evaluations at epoch 0.
* ``nb101trialstats`` and ``nb101intermediatestats`` are WITHOUT ROWID tables keyed ``(config_id, id)`` and
  ``(trial_id, current_epoch)``: one b-tree each instead of NNI's table plus indexes.
* ``nb101meanstats`` (ours): each config's final results, mean over its runs, keyed ``(num_epochs, arch_id)``
  so that whole-space queries read one contiguous range per budget (or one index range).
* ``nb101paretofront``, ``nb101rankcorrelation`` (ours): the Pareto fronts and rank correlations of the whole
  space, which the converter computes (a query over 423,624 models per budget takes seconds).
* Columns are not declared NOT NULL: with a NOT NULL column, SQLite computes every virtual column of a row
  on insert (3 times slower, measured); the converter checks every value instead.
* No index on ``nb101trialconfig.hash`` and ``arch``: NNI's own queries filtering on them read the table
  (~0.2 s); ``query_nb101_computed_stats`` finds a model through ``nb101arch``'s hash index and its configs
  by their ids. Looking a run up by its id alone (NNI's ``intermediate.trial``) reads ``nb101trialstats``.
"""
from __future__ import annotations

from ..descriptor import (ArchSpec, Benchmark, BrowseSpec, Builder, CannedQuery, ChoiceFilter, Column, DesignerSpec,
                          Example, Index, Param, RangeFilter, ScatterSpec, SearchSpace, SiteViews, Source, Table,
                          ViewBudget, histogram_sql, per_choice_sql, stop_sql)
from ..provenance import METADATA_TABLE
from .constants import (AVAILABLE_OPS, BUDGETS, DB_FILENAME, GENERATE_COMMAND, INPUT, LABEL2ID, MAX_EDGES,
                        MAX_VERTICES, NUM_MODELS, NUM_REPEATS, OUTPUT)
from .storage import (OPS_SHIFT, adjacency_sql, arch_json_sql, computed, edge_bit, float32_sql, op_digit_sql,
                      ops_sql)

_PERCENT = (0.0, 100.0)
_FRACTION_BITS = (0, 0x3F800000)  # float32 bits of 0.0 .. 1.0
_SECONDS_BITS = (0, 0x4B7FFFFF)  # float32 bits of 0.0 .. just under 2**24 s
_NNI_TIME = ("NNI's nb101trialstats holds 60 times this value (its db_gen multiplies the release's seconds by 60); "
             "its per-epoch rows are right")
_ARCH_ID = "The model's number: the order in which the release file first lists it, 1-based"


def _f32(name: str, what: str, bits: tuple[int, int]) -> Column:
    """The stored form of a computed value: the release's float32, as its 32 IEEE-754 bits."""
    return Column(f"{name}_f32", "INTEGER", f"{what} as stored: the release's float32 as its IEEE-754 bits, read "
                  f"exactly as {name}", valid=bits, nni_note="ours")


def _accuracy(name: str, description: str) -> Column:
    return computed(Column(name, "REAL", description, "percent", valid=_PERCENT), float32_sql(f"{name}_f32", 100))


def _seconds(name: str, description: str, nni_note: str = "") -> Column:
    return computed(Column(name, "REAL", description, "seconds", nni_note=nni_note), float32_sql(f"{name}_f32"))


#: The final (or per-epoch) values of a run: NNI's computed columns and their stored float32 bits.
ACCURACIES = ("test_acc", "valid_acc", "train_acc")
_SPLITS = {"train_acc": "Top-1 accuracy on a fixed 10,000 of the 40,000 training images",
           "valid_acc": "Top-1 accuracy on the 10,000 validation images held out of CIFAR-10's training set",
           "test_acc": "Top-1 accuracy on CIFAR-10's 10,000 test images"}


def _run_values(when: str, time_note: str = "") -> tuple[Column, ...]:
    return (*(_accuracy(name, f"{_SPLITS[name]}, {when}") for name in ("train_acc", "valid_acc", "test_acc")),
            _seconds("training_time", f"Training time up to {when}, without evaluations", time_note))


def _run_bits() -> tuple[Column, ...]:
    return (*(_f32(name, name, _FRACTION_BITS) for name in ("train_acc", "valid_acc", "test_acc")),
            _f32("training_time", "training_time", _SECONDS_BITS))


_CELL = Column("cell", "INTEGER", f"The cell as one number: bit i + j(j-1)/2 for the edge i -> j, plus 2**{OPS_SHIFT} "
               "times the inner vertices' ops as base-4 digits (vertex 1 least significant; "
               + ", ".join(f"{label + 1} {op}" for op, label in LABEL2ID.items() if label >= 0) + ")",
               valid=(1, 2 ** 31 - 1), nni_note="ours")
_NUM_VERTICES = Column("num_vertices", "INTEGER", f"Vertices of the cell, input and output included (2..{MAX_VERTICES})",
                       valid=(2, MAX_VERTICES))
_ARCH_JSON = computed(Column("arch", "JSON", "NNI's dict of the cell: op1.. (inner vertices' ops) and input1.. "
                             "(each vertex's predecessors), the stored spelling", nni_note="built on read from cell"),
                      arch_json_sql())
_TRAINABLE_PARAMETERS = Column("trainable_parameters", "INTEGER", "Trainable parameters of the network, as the "
                               "release counts them", valid=(1, 2 ** 31 - 1), nni_note="ours")
_EPOCHS = Column("num_epochs", "INTEGER", "Training budget: 4, 12, 36 or 108 epochs", "epochs",
                 valid=(min(BUDGETS), max(BUDGETS)))

ARCH_TABLE = Table(
    "nb101arch", "The models of the search space (423,624 in the release), one row each, by arch_id.",
    (
        Column("arch_id", "INTEGER", _ARCH_ID, valid=(1, NUM_MODELS)),
        Column("hash", "TEXT", "nasbench's module hash: 32 hex digits, the same for every isomorphic spelling"),
        _NUM_VERTICES,
        Column("num_edges", "INTEGER", f"Edges of the cell (1..{MAX_EDGES})", valid=(1, MAX_EDGES)),
        *(Column(name, "INTEGER", f"Inner vertices with op {op}", valid=(0, MAX_VERTICES - 2))
          for name, op in zip(("conv3x3", "conv1x1", "maxpool3x3"), AVAILABLE_OPS)),
        _TRAINABLE_PARAMETERS,
        _CELL,
        computed(Column("adjacency", "TEXT", "The adjacency matrix as the release stores it: V*V digits row by row, "
                        "1 for an edge from the row's vertex to the column's", nni_note="ours; built on read from cell"),
                 adjacency_sql()),
        computed(Column("ops", "TEXT", f"The vertices' ops as the release stores them, comma-separated ({INPUT} first, "
                        f"{OUTPUT} last)", nni_note="ours; built on read from cell"), ops_sql()),
        _ARCH_JSON,
    ),
    primary_key=("arch_id",),
    indexes=(Index("nb101arch_hash", ("hash",), unique=True),
             Index("nb101arch_cell", ("num_vertices", "cell"), unique=True)),
    model="Nb101Arch", facets=("num_vertices", "num_edges"), label_column="hash",
)
CONFIG_TABLE = Table(
    "nb101trialconfig", "One model trained for one budget (NNI's Nb101TrialConfig); id = 4 * (arch_id - 1) + 1, 2, 3, "
    "4 for 4, 12, 36, 108 epochs.",
    (
        Column("id", "INTEGER", "Config id"),
        _NUM_VERTICES,
        Column("hash", "VARCHAR(64)", "nasbench's module hash of the model"),
        _EPOCHS,
        Column("arch_id", "INTEGER", "The model (nb101arch.arch_id)", references="nb101arch.arch_id",
               field="model", backref="configs", valid=(1, NUM_MODELS), nni_note="ours"),
        _CELL,
        _ARCH_JSON,
    ),
    primary_key=("id",),
    model="Nb101RunConfig", nni_model="Nb101TrialConfig", facets=("num_epochs", "num_vertices"),
)
STATS_TABLE = Table(
    "nb101trialstats", "The final results of one training run (NNI's Nb101TrialStats); each config was trained 3 times "
    "(repeats 0..2; the release has no seeds); id = 3 * (config_id - 1) + repeat + 1.",
    (
        Column("id", "INTEGER", "Trial id"),
        Column("config_id", "INTEGER", "The config this run trained",
               references="nb101trialconfig.id", field="config", backref="trial_stats"),
        _TRAINABLE_PARAMETERS,
        *_run_bits(),
        *_run_values("the end of training", _NNI_TIME),
        computed(Column("parameters", "REAL", "Trainable parameters", "millions"), "trainable_parameters / 1e6"),
        computed(Column("repeat", "INTEGER", "Which of the config's runs, in the release's file order (0..2)",
                        nni_note="ours"), "(id - 1) % 3"),
    ),
    primary_key=("config_id", "id"), without_rowid=True,
    model="Nb101ComputedStats", nni_model="Nb101TrialStats",
)
INTERMEDIATE_TABLE = Table(
    "nb101intermediatestats", "The two evaluations of a run the release keeps, halfway (num_epochs / 2) and final "
    "(NNI's Nb101IntermediateStats).",
    (
        Column("id", "INTEGER", "Row id: 2 * trial_id - 1 halfway, 2 * trial_id final"),
        Column("trial_id", "INTEGER", "The run", references="nb101trialstats.id", field="trial",
               backref="intermediates"),
        Column("current_epoch", "INTEGER", "Epoch of the evaluation: half the budget, or the budget", "epochs",
               valid=(min(BUDGETS) // 2, max(BUDGETS))),
        *_run_bits(),
        *_run_values("this epoch"),
    ),
    primary_key=("trial_id", "current_epoch"), without_rowid=True,
    model="Nb101IntermediateStats",
)
MEAN_COLUMNS = ("train_acc", "valid_acc", "test_acc", "training_time", "parameters")
#: Accuracies the mean table is indexed by within a budget (top-k and histograms read that index only);
#: ranking by train_acc reads the budget's range of the table.
INDEXED_ACCURACIES = ("test_acc", "valid_acc")
MEAN_TABLE = Table(
    "nb101meanstats", "Each config's final results, mean over its runs (ours; what query_nb101_computed_stats(..., "
    "reduction='mean') returns), keyed by budget and model so that a whole budget is one contiguous read.",
    (
        _EPOCHS,
        Column("arch_id", "INTEGER", "The model (nb101arch.arch_id)", not_null=True, references="nb101arch.arch_id",
               field="model", backref="mean_stats"),
        Column("config_id", "INTEGER", "The config (nb101trialconfig.id)", not_null=True,
               references="nb101trialconfig.id", field="config", backref="mean_stats"),
        _NUM_VERTICES,
        _CELL,
        Column("runs", "INTEGER", "Runs averaged", not_null=True, valid=(1, NUM_REPEATS)),
        *(Column(name, "REAL", f"{_SPLITS[name]}, at the end of training, mean over runs", "percent")
          for name in ("train_acc", "valid_acc", "test_acc")),
        Column("training_time", "REAL", "Training time, mean over runs", "seconds"),
        Column("parameters", "REAL", "Trainable parameters", "millions"),
    ),
    primary_key=("num_epochs", "arch_id"), without_rowid=True,
    indexes=tuple(Index(f"nb101meanstats_{name}", ("num_epochs", name)) for name in INDEXED_ACCURACIES),
    fill_sql=f"""INSERT INTO nb101meanstats
SELECT c.num_epochs, c.arch_id, c.id, c.num_vertices, c.cell, count(*), {", ".join(f"avg(s.{c})" for c in MEAN_COLUMNS)}
FROM nb101trialconfig c JOIN nb101trialstats s ON s.config_id = c.id
GROUP BY c.id
ORDER BY c.num_epochs, c.arch_id""",
    model="Nb101MeanStats", facets=("num_epochs",),
)
COSTS = ("parameters", "training_time")
_METRIC = Column("metric", "TEXT", "The accuracy: " + ", ".join(ACCURACIES))
# The whole-space answers a query cannot find fast enough over 423,624 models per budget (measured: 1.6 s
# for a Pareto front, 5 s for a rank correlation): the converter computes them from nb101meanstats.
PARETO_TABLE = Table(
    "nb101paretofront", "For each budget, accuracy and cost: the models no other model beats on both (higher accuracy, "
    "lower cost; mean over runs; of exact ties the lowest arch_id) (ours; computed by the converter from "
    "nb101meanstats).",
    (
        _EPOCHS,
        _METRIC,
        Column("cost", "TEXT", "The cost: parameters or training_time"),
        Column("cost_value", "REAL", "The model's cost, mean over runs (millions of parameters, or seconds)"),
        Column("arch_id", "INTEGER", "The model (nb101arch.arch_id)"),
        Column("mean_acc", "REAL", "The model's accuracy, mean over runs", "percent"),
    ),
    primary_key=("num_epochs", "metric", "cost", "cost_value", "arch_id"), without_rowid=True, small=True,
)
RANK_TABLE = Table(
    "nb101rankcorrelation", "Spearman's rank correlation between the accuracies after two budgets over the models with "
    "both (mean over runs; tied values get their average rank) (ours; computed by the converter from nb101meanstats).",
    (
        _METRIC,
        Column("short", "INTEGER", "One budget", "epochs"),
        Column("long", "INTEGER", "The other budget", "epochs"),
        Column("archs", "INTEGER", "Models with results at both"),
        Column("spearman_rho", "REAL", "Spearman's rank correlation (NULL for fewer than 2 models or a constant accuracy)"),
    ),
    primary_key=("metric", "short", "long"), without_rowid=True, small=True,
)
TABLES = (ARCH_TABLE, CONFIG_TABLE, STATS_TABLE, INTERMEDIATE_TABLE, MEAN_TABLE, PARETO_TABLE, RANK_TABLE,
          METADATA_TABLE)

# --- Canned queries -------------------------------------------------------------------------------
# Within SQLite 3.35 (the site's sql.js). Parameters come from ``params`` (see ``descriptor.CannedQuery``).
# Whole-space queries read one budget's range of nb101meanstats (its key starts with num_epochs);
# ``cross join`` keeps ``params`` first, so the planner cannot scan the table and probe params.

_EPOCH_CHOICES = tuple(str(budget) for budget in BUDGETS)
_EPOCHS_PARAM = Param("epochs", "108", _EPOCH_CHOICES, absent="num_epochs")
_METRIC_PARAM = Param("metric", "test_acc", ACCURACIES)
_COST_PARAM = Param("cost", "parameters", ("parameters", "training_time"))
#: The Inception-like cell of nasbench's README (its stored spelling's hash), whose real values are known.
DEFAULT_ARCH = "28cfc7874f6d200472e1a9dcd8650aa0"
_HELP = {
    "epochs": "epochs: the training budget, " + ", ".join(_EPOCH_CHOICES) + ".",
    "metric": "metric: " + ", ".join(ACCURACIES) + " (mean over the runs).",
    "arch": "arch: the module hash (32 hex digits), the arch_id, or NNI's dict of the model as the release stores "
            "it ({\"op1\": ..., \"input1\": [0], ...}); other spellings of a cell: the Python API, the CLI or the "
            "site's cell designer find them.",
}


def _metric_of(alias: str) -> str:
    """The accuracy column ``params.metric`` names, read from rows ``alias`` (the runs of a few models)."""
    return "case p.metric " + " ".join(f"when '{m}' then {alias}.{m}" for m in ACCURACIES) + " end"


def _per_metric(branch: str) -> str:
    """``per_choice_sql`` over the accuracies. The branches not chosen must read nothing: a WHERE term with a
    subquery is tested row by row (a whole budget, 423,624 rows), so they also get LIMIT 0, which SQLite checks
    before the first row."""
    return per_choice_sql(_METRIC_PARAM, branch)


_TOP_BRANCH = """
  select ms.arch_id, ms.config_id, ms.runs, ms.parameters, ms.training_time, ms.{metric} as mean_acc
  from nb101meanstats ms
  where ms.num_epochs = (select epochs from params) and {chosen} and ms.{metric} is not null
  order by ms.{metric} desc, ms.arch_id limit case when {chosen} then (select k from params) else 0 end"""
_TOP_K = f"top as (\n{_per_metric(_TOP_BRANCH)}\n)"
_MEANS_BRANCH = """
  select ms.{metric} as mean_acc from nb101meanstats ms
  where ms.num_epochs = (select epochs from params) and {chosen} and ms.{metric} is not null
  limit case when {chosen} then -1 else 0 end"""
_CELL_COLUMNS = "a.num_vertices, a.num_edges, a.conv3x3, a.conv1x1, a.maxpool3x3"


def _spec_code_sql() -> str:
    """The cell code of NNI's dict ``p.arch`` (NULL for anything else), for the stored-spelling index."""
    target = "cast(substr(k.key, 6) as integer)"
    labels = " ".join(f"when '{op}' then {label + 1}" for label, op in enumerate(AVAILABLE_OPS))
    return f"""(coalesce((select sum(distinct 1 << (l.value + {target} * ({target} - 1) / 2))
           from json_each(p.arch) k, json_each(case when k.type = 'array' then k.value else '[]' end) l
           where k.key glob 'input[1-6]' and l.type = 'integer' and l.value >= 0 and l.value < {target}), 0)
         + ((select sum((case o.value {labels} end) << (2 * (cast(substr(o.key, 3) as integer) - 1)))
             from json_each(p.arch) o where o.key glob 'op[1-5]') << {OPS_SHIFT}))"""


_ARCH_STOP = stop_sql(
    "'arch must name one model of this DB (it holds ' || coalesce((select value from metadata where key = "
    "'evaluated_archs'), '?') || ' of the 423,624): a module hash (32 hex digits), an arch_id, or NNI''s dict of "
    "the model as the release stores it; other spellings of a cell: the Python API, the CLI or the site''s cell "
    "designer canonicalise them. Got \"' || p.arch || '\"'")
# One model from ``:arch``, through nb101arch's three unique keys (a multi-index OR); anything else stops.
_CHOSEN_ARCH = f"""spec as (
  select (select count(*) from json_each(p.arch) where key glob 'op[1-5]') + 2 as num_vertices,
         {_spec_code_sql()} as cell,
         (select count(*) from json_each(p.arch)) as keys
  from params p
  where json_valid(p.arch) and json_type(p.arch) = 'object'
),
matches as (
  select a.arch_id from params p
  join nb101arch a
    on a.hash = lower(p.arch)
    or a.arch_id = case when p.arch not glob '*[^0-9]*' and length(p.arch) between 1 and 6
                        then cast(p.arch as integer) end
    or (a.num_vertices = (select num_vertices from spec where keys = 2 * num_vertices - 3)
        and a.cell = (select cell from spec))
),
chosen as (
  select case when (select count(*) from matches) = 1 then (select arch_id from matches) else {_ARCH_STOP} end
         as arch_id
  from params p
)"""

_OPS_VALUES = ", ".join(f"('{op}', '{column}')" for op, column in zip(AVAILABLE_OPS, ("conv3x3", "conv1x1",
                                                                                     "maxpool3x3")))
_OP_COUNT = "case o.column when 'conv3x3' then a.conv3x3 when 'conv1x1' then a.conv1x1 else a.maxpool3x3 end"

QUERIES = (
    CannedQuery(
        "top_architectures", "Top architectures",
        "The k best models at one training budget by an accuracy, mean over their 3 runs (with the worst and best "
        "run), with their cell's size and op counts. " + " ".join(_HELP[k] for k in ("epochs", "metric"))
        + " k: 1..1000.",
        f"""with {_TOP_K}
select row_number() over (order by t.mean_acc desc, t.arch_id) as rank, t.arch_id, a.hash, p.metric, t.mean_acc,
       min({_metric_of("s")}) as min_acc, max({_metric_of("s")}) as max_acc, t.runs, t.parameters, t.training_time,
       {_CELL_COLUMNS}
from top t
cross join params p
join nb101arch a on a.arch_id = t.arch_id
join nb101trialstats s on s.config_id = t.config_id
group by t.config_id
order by rank""",
        (_EPOCHS_PARAM, _METRIC_PARAM, Param("k", "10", integer=(1, 1000))),
        chart={"type": "bar", "x": "rank", "y": "mean_acc"},
    ),
    CannedQuery(
        "architecture_results", "One architecture at every budget",
        "A model's results at each training budget, mean over its runs, halfway (half the budget) and at the end; "
        "with the worst and best run's final test accuracy. " + _HELP["arch"],
        f"""with {_CHOSEN_ARCH}
select c.num_epochs, a.arch_id, a.hash, count(*) as runs,
       avg(s.train_acc) as train_acc, avg(s.valid_acc) as valid_acc, avg(s.test_acc) as test_acc,
       min(s.test_acc) as min_test_acc, max(s.test_acc) as max_test_acc,
       avg(h.train_acc) as halfway_train_acc, avg(h.valid_acc) as halfway_valid_acc, avg(h.test_acc) as halfway_test_acc,
       avg(s.training_time) as training_time, avg(h.training_time) as halfway_training_time,
       avg(s.parameters) as parameters
from chosen ch
join nb101arch a on a.arch_id = ch.arch_id
join nb101trialconfig c on c.id between 4 * a.arch_id - 3 and 4 * a.arch_id
join nb101trialstats s on s.config_id = c.id
left join nb101intermediatestats h on h.trial_id = s.id and h.current_epoch = c.num_epochs / 2
group by c.id
order by c.num_epochs""",
        (Param("arch", DEFAULT_ARCH),),
        chart={"type": "bar", "x": "num_epochs", "y": "test_acc"},
    ),
    CannedQuery(
        "pareto_front", "Accuracy vs cost: the Pareto front",
        "Models that no other model beats on both accuracy (higher) and cost (lower), by increasing cost; mean over "
        "runs (the converter finds the fronts: nb101paretofront). cost: parameters (millions) or training_time "
        "(seconds). " + " ".join(_HELP[k] for k in ("epochs", "metric")),
        f"""select f.arch_id, a.hash, p.cost as cost_metric, f.cost_value as cost, p.metric, f.mean_acc, {_CELL_COLUMNS}
from params p
cross join nb101paretofront f on f.num_epochs = p.epochs and f.metric = p.metric and f.cost = p.cost
join nb101arch a on a.arch_id = f.arch_id
order by f.cost_value, f.arch_id""",
        (_EPOCHS_PARAM, _METRIC_PARAM, _COST_PARAM),
        chart={"type": "scatter", "x": "cost", "y": "mean_acc"},
    ),
    CannedQuery(
        "accuracy_histogram", "Histogram of accuracies",
        "How many models reach each accuracy at one budget: the range from the worst to the best mean over runs, "
        "cut into equal bins (empty bins included). " + " ".join(_HELP[k] for k in ("epochs", "metric"))
        + " bins: 1..100.",
        f"""with means as (
{_per_metric(_MEANS_BRANCH)}
),
{histogram_sql("means", "mean_acc")}""",
        (_EPOCHS_PARAM, _METRIC_PARAM, Param("bins", "20", integer=(1, 100))),
        chart={"type": "bar", "x": "bin_start", "y": "archs"},
    ),
    CannedQuery(
        "top_k_operations", "Operations among the top architectures",
        "How the k best models at one budget use each op: occurrences over their inner vertices, mean per model, "
        "share of all inner vertices, and how many models use it at all. "
        + " ".join(_HELP[k] for k in ("epochs", "metric")) + f" k: 1..{NUM_MODELS}.",
        f"""with {_TOP_K},
ops(op, column) as (
  values {_OPS_VALUES}
)
select o.op, sum({_OP_COUNT}) as total, round(avg({_OP_COUNT}), 3) as mean_per_arch,
       round(100.0 * sum({_OP_COUNT}) / max(1, sum(a.num_vertices - 2)), 2) as share_percent,
       sum({_OP_COUNT} > 0) as archs_using_it, count(*) as archs
from ops o
cross join top t
join nb101arch a on a.arch_id = t.arch_id
group by o.op
order by total desc, o.op""",
        (_EPOCHS_PARAM, _METRIC_PARAM, Param("k", "100", integer=(1, NUM_MODELS))),
        chart={"type": "bar", "x": "op", "y": "total"},
    ),
    CannedQuery(
        "rank_correlation", "Rank correlation between two budgets",
        "Spearman's rank correlation between the accuracies after two budgets, over every model with both (mean over "
        "runs; tied values get their average rank; the converter computes it: nb101rankcorrelation): how well the "
        "short budget predicts the long one. short: 4, 12 or 36; long: 12, 36 or 108. " + _HELP["metric"],
        """select p.short, p.long, p.metric, r.archs, r.spearman_rho
from params p
cross join nb101rankcorrelation r
  on r.metric = p.metric and r.short = cast(p.short as integer) and r.long = cast(p.long as integer)""",
        (_METRIC_PARAM, Param("short", "12", _EPOCH_CHOICES[:-1], absent="num_epochs"),
         Param("long", "108", _EPOCH_CHOICES[1:], absent="num_epochs")),
    ),
)

# --- The site's views ------------------------------------------------------------------------------
# Byte budgets drive the layout (``benchmarks/site_bytes.py``, full-scale DB):
# * the browse table is nb101meanstats, sorted through site indexes keyed (num_epochs, column) that cover
#   every displayed column; the cell code stands for the cell (the page draws and counts it).
# * the whole space (423,624 models per budget, 13 MB of values) cannot be fetched within 1 MiB: the
#   scatter reads ``scatter_<x>_<y>``, each budget's models cut into 100 x 100 quantile bins of x and y, one
#   representative per bin (its best y) standing for its bin's count, plus every Pareto-optimal model.
# * an architecture's configs, runs and per-epoch rows are contiguous id ranges (NNI's numbering), so its
#   page reads a few pages of each table.

_SORT_COLUMNS = ("test_acc", "valid_acc", "training_time", "parameters")
_BROWSE_COLUMNS = ("arch_id", "num_vertices", "cell", *_SORT_COLUMNS)
SITE_INDEXES = tuple(
    Index(f"nb101meanstats_site_by_{column}", ("num_epochs", column, *(c for c in _BROWSE_COLUMNS if c != column)))
    for column in _SORT_COLUMNS)
_SCATTER_X = ("parameters", "training_time")
_SCATTER_Y = ("test_acc", "valid_acc")
SCATTER_BINS = 100


def _scatter_table(x: str, y: str) -> Table:
    return Table(
        f"scatter_{x}_{y}", f"Site table: each budget's models in {SCATTER_BINS} x {SCATTER_BINS} quantile bins of {x} "
        f"and {y}; one model per bin (its best {y}) with its bin's count, plus every Pareto-optimal model.",
        (_EPOCHS, Column("arch_id", "INTEGER", "The model", not_null=True), _NUM_VERTICES, _CELL,
         Column(x, "REAL", MEAN_TABLE.column(x).description, MEAN_TABLE.column(x).unit),
         Column(y, "REAL", MEAN_TABLE.column(y).description, MEAN_TABLE.column(y).unit),
         Column("archs", "INTEGER", "Models the point stands for: its bin's count (1 for a Pareto-optimal model "
                "that is not its bin's representative)", not_null=True)),
        primary_key=("num_epochs", "arch_id"), without_rowid=True,
        fill_sql=f"""INSERT INTO scatter_{x}_{y}
SELECT num_epochs, arch_id, num_vertices, cell, {x}, {y}, CASE WHEN pick = 1 THEN archs ELSE 1 END
FROM (
  SELECT *, count(*) OVER bin AS archs, row_number() OVER (bin ORDER BY {y} DESC, arch_id) AS pick,
         max({y}) OVER (PARTITION BY num_epochs ORDER BY {x}, {y} DESC, arch_id
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS best_cheaper
  FROM (
    SELECT num_epochs, arch_id, num_vertices, cell, {x}, {y},
           ntile({SCATTER_BINS}) OVER (PARTITION BY num_epochs ORDER BY {x}) AS x_bin,
           ntile({SCATTER_BINS}) OVER (PARTITION BY num_epochs ORDER BY {y}) AS y_bin
    FROM nb101meanstats WHERE {x} IS NOT NULL AND {y} IS NOT NULL
  )
  WINDOW bin AS (PARTITION BY num_epochs, x_bin, y_bin)
)
WHERE pick = 1 OR best_cheaper IS NULL OR {y} > best_cheaper
ORDER BY num_epochs, arch_id""",
        site_only=True,
    )


SCATTER_TABLES = tuple(_scatter_table(x, y) for x in _SCATTER_X for y in _SCATTER_Y)
_EPOCHS_FILTER = ChoiceFilter("num_epochs", "Budget (epochs)", "num_epochs = :num_epochs",
                              tuple((str(budget), budget) for budget in BUDGETS), required=True, default="108")
_OP_DIGITS = tuple(f"({op_digit_sql('cell', vertex)} = {{digit}})" for vertex in range(1, MAX_VERTICES - 1))
_EDGE_COUNT = " + ".join(f"((cell >> {edge_bit(i, j)}) & 1)" for j in range(1, MAX_VERTICES) for i in range(j))
_CELL_FILTERS = (
    ChoiceFilter("vertices", "Vertices", "num_vertices = :vertices",
                 tuple((str(v), v) for v in range(2, MAX_VERTICES + 1))),
    ChoiceFilter("edges", "Edges", f"({_EDGE_COUNT}) = :edges", tuple((str(e), e) for e in range(1, MAX_EDGES + 1))),
    *(ChoiceFilter(name, f"{op} vertices", f"({' + '.join(d.format(digit=label + 1) for d in _OP_DIGITS)}) = :{name}",
                   tuple((str(n), n) for n in range(MAX_VERTICES - 1)))
      for label, (name, op) in enumerate(zip(("conv3x3", "conv1x1", "maxpool3x3"), AVAILABLE_OPS))),
)
_RESULTS_COLUMNS = ("num_epochs", "runs", "train_acc", "valid_acc", "test_acc", "min_test_acc", "max_test_acc",
                    "halfway_valid_acc", "halfway_test_acc", "training_time", "halfway_training_time", "parameters")

SITE = SiteViews(
    tables=SCATTER_TABLES,
    browse=(BrowseSpec(
        table="nb101meanstats", title="Architectures (mean over runs)", columns=_BROWSE_COLUMNS,
        sorts={"arch_id": None, **{column: f"nb101meanstats_site_by_{column}" for column in _SORT_COLUMNS}},
        default_sort="test_acc", default_desc=True, tie_breaker="arch_id",
        filters=(_EPOCHS_FILTER, *_CELL_FILTERS,
                 RangeFilter("test_acc", "Test accuracy", "percent"),
                 RangeFilter("valid_acc", "Validation accuracy", "percent"),
                 RangeFilter("training_time", "Training time", "seconds"),
                 RangeFilter("parameters", "Parameters", "millions")),
        row_link_column="arch_id"),),
    scatter=ScatterSpec(
        sql="select arch_id, num_vertices, cell, archs, {x}, {y} from scatter_{x}_{y} where num_epochs = :num_epochs",
        x_options=_SCATTER_X, y_options=_SCATTER_Y, filters=(_EPOCHS_FILTER,), key_column="arch_id",
        default_x="parameters", default_y="test_acc"),
    arch=ArchSpec(
        table="nb101arch", key_column="arch_id",
        row_sql="select * from nb101arch where arch_id = :id",
        results_sql="select c.num_epochs, count(*) as runs, avg(s.train_acc) as train_acc, avg(s.valid_acc) as "
                    "valid_acc, avg(s.test_acc) as test_acc, min(s.test_acc) as min_test_acc, max(s.test_acc) as "
                    "max_test_acc, avg(h.valid_acc) as halfway_valid_acc, avg(h.test_acc) as halfway_test_acc, "
                    "avg(s.training_time) as training_time, avg(h.training_time) as halfway_training_time, "
                    "avg(s.parameters) as parameters from nb101trialconfig c join nb101trialstats s on s.config_id = c.id "
                    "left join nb101intermediatestats h on h.trial_id = s.id and "
                    "h.current_epoch = c.num_epochs / 2 where c.id between 4 * :id - 3 and 4 * :id group by c.id "
                    "order by c.num_epochs",
        results_columns=_RESULTS_COLUMNS,
        curves_sql="select s.repeat, i.current_epoch, i.test_acc, i.valid_acc, i.train_acc, i.training_time "
                   "from nb101trialconfig c join nb101trialstats s on s.config_id = c.id "
                   "join nb101intermediatestats i on i.trial_id = s.id "
                   "where c.id between 4 * :id - 3 and 4 * :id and c.num_epochs = :num_epochs "
                   "order by s.repeat, i.current_epoch",
        curve_filters=(_EPOCHS_FILTER,), curve_metrics=("test_acc", "valid_acc", "train_acc"), curve_series="repeat",
        curve_x="current_epoch"),
    js_module="nb101",
    designer=DesignerSpec(
        js_module="nb101_designer", lookup_sql="select arch_id as id from nb101arch where hash = :key",
        help="Add and remove vertices, pick their ops and tick the edges: the page prunes the cell as nasbench does, "
             "lists what keeps it out of the search space, computes its module hash and looks the model up. Any "
             "isomorphic spelling finds the same model. The address holds the cell, so a designed cell is a link."),
    budgets=(
        ViewBudget("architecture lookup", "nb101arch/2?_v=1", "arch-lookup", 64 * 1024),
        ViewBudget("halfway and final points, 1 arch x 1 budget", "nb101arch/2?num_epochs=36&_v=1", "arch-curves"),
        ViewBudget("top-100 leaderboard", "nb101meanstats?num_epochs=108&_sort_desc=test_acc&_size=100&_v=1", "browse",
                   128 * 1024),
        ViewBudget("browse page 5, op + range filters", "nb101meanstats?num_epochs=36&maxpool3x3=0&test_acc__gte=80"
                   "&_sort_desc=parameters&_page=5&_v=1", "browse"),
        ViewBudget("whole-space scatter", "-/scatter?num_epochs=108&x=parameters&y=test_acc&_v=1", "scatter",
                   1024 * 1024),
        ViewBudget("cell designer lookup, README cell", "-/designer?_v=1", "designer-lookup", 64 * 1024),
    ),
    example_sql="select m.arch_id, a.hash, m.test_acc, m.parameters\n"
                "from nb101meanstats m join nb101arch a on a.arch_id = m.arch_id\n"
                "where m.num_epochs = 108\n"
                "order by m.test_acc desc limit 10",
    indexes={"nb101meanstats": SITE_INDEXES},
)

SPACE = SearchSpace(
    size=NUM_MODELS,
    prose_html=f"""
<p>A cell (nasbench's <i>module</i>) is a directed acyclic graph of at most {MAX_VERTICES} vertices and
{MAX_EDGES} edges: vertex 0 is the input, the last vertex the output, and every other vertex applies one
of three ops (3x3 convolution, 1x1 convolution or 3x3 max-pooling, each convolution with batch norm and
ReLU) to the sum of its inputs. The network stacks the cell in 3 stages of 3 cells behind a 128-channel
stem; all 423,624 distinct cells were trained on CIFAR-10 for 4, 12, 36 and 108 epochs, three times each,
and evaluated halfway and at the end.</p>
<p>A cell is spelled by its adjacency matrix and ops (nasbench's <code>ModelSpec</code>) or by NNI's dict
(<code>op1</code>.. and <code>input1</code>.., each vertex's predecessors). Many spellings are one model:
vertices can be numbered in any topological order, and vertices on no input-to-output path are pruned
before training. nasbench's <b>module hash</b> is the same for all of them; the release stores one
spelling per model, pruned. The cell designer draws any spelling, says what nasbench would refuse or prune,
and looks the model up by its hash.</p>
<p>Accuracies are percent (as NNI stores them), <code>training_time</code> is in seconds (NNI's
<code>nb101trialstats</code> has it 60 times too large). The release records no seeds: the three runs of
a config are <code>repeat</code> 0, 1, 2 in file order.</p>
""",
    constants={"ops": list(AVAILABLE_OPS), "input": INPUT, "output": OUTPUT, "ops_shift": OPS_SHIFT,
               "max_vertices": MAX_VERTICES, "max_edges": MAX_EDGES, "budgets": list(BUDGETS)},
    facts={
        "Operations (label in the hash)": [[op, str(LABEL2ID[op])] for op in AVAILABLE_OPS],
        "Limits": [[str(MAX_VERTICES), "vertices at most, input and output included"],
                   [str(MAX_EDGES), "edges at most"]],
        "Training budgets (epochs)": [[str(budget), f"halfway evaluation at epoch {budget // 2}"] for budget in BUDGETS],
    },
)

_RELEASE_NOTE = ("the README's figure; the byte count is not published. nasbenchmark download nb101, or download it "
                 "and: nasbenchmark generate nb101 --input ")
SOURCES = (
    Source("nasbench_full.tfrecord", "https://storage.googleapis.com/nasbench/nasbench_full.tfrecord",
           sha256="3d64db8180fb1b0207212f9032205064312b6907a3bbc81eabea10db2f5c7e9c", license="Apache-2.0",
           note="about 1.95 GB, " + _RELEASE_NOTE + "nasbench_full.tfrecord (4 budgets x 3 runs)"),
    Source("nasbench_only108.tfrecord", "https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord",
           sha256="4c39c3936e36a85269881d659e44e61a245babcb72cb374eacacf75d0e5f4fd1", license="Apache-2.0",
           note="about 499 MB, " + _RELEASE_NOTE + "nasbench_only108.tfrecord (108 epochs x 3 runs only)"),
    Source("nasbench101-209f5694.db", "https://nni.blob.core.windows.net/nasbenchmark/nasbench101-209f5694.db",
           license="MIT (NNI); data Apache-2.0", kind="nni-db",
           note="NNI's prebuilt DB (NNI 2.5+); its file name holds its sha256's first 8 hex digits; its "
                "training_time is 60 times the release's"),
)

_SAMPLE = Builder("generators.fixtures.nb101:build_sample_db",
                  "a SYNTHETIC SAMPLE from the fixture writer (fixture values, not real results; real NAS-Bench-101 "
                  "data is not on any package registry)")

BENCHMARK = Benchmark(
    key="nb101",
    db_filename=DB_FILENAME,
    title="NAS-Bench-101",
    description="423,624 cell architectures (up to 7 vertices, 9 edges, 3 ops) trained on CIFAR-10 for 4, 12, 36 "
                "and 108 epochs, three runs each, evaluated halfway and at the end (Ying et al., ICML 2019).",
    license="Apache-2.0",
    license_url="https://github.com/google-research/nasbench/blob/master/LICENSE",
    source="google-research/nasbench (nasbench_full.tfrecord, nasbench_only108.tfrecord)",
    source_url="https://github.com/google-research/nasbench",
    citation="Chris Ying, Aaron Klein, Esteban Real, Eric Christiansen, Kevin Murphy and Frank Hutter. NAS-Bench-101: "
             "Towards Reproducible Neural Architecture Search. ICML 2019.",
    generate_command=GENERATE_COMMAND,
    tables=TABLES,
    queries=QUERIES,
    space=SPACE,
    site=SITE,
    embedded=_SAMPLE,
    sample=_SAMPLE,
    full_scale=Builder("generators.fixtures.nb101:build_full_scale_db",
                       "a full-scale SYNTHETIC fixture: 423,624 models x 4 budgets x 3 runs (about 2 GB of tfrecord)"),
    examples=(Example("top 5 architectures at 108 epochs by test accuracy", "top_architectures", {"k": "5"}),),
    evaluated_archs_sql="select count(*) from nb101arch",
    sources=SOURCES,
)
