"""NDS declared once: tables, columns (units, ranges, NNI's names), canned queries, search space and the
site's views. The schema, the peewee models, Datasette's metadata and the site derive from ``BENCHMARK``.

Table and column names are NNI's, so NNI's own models (``NdsTrialConfig``...) read our DB unchanged, and
the ids are the ones NNI's converter assigns (configurations numbered by first appearance, trials by
record, both in NNI's file order). Differences from NNI, all additive or about storage:

* ``ndstrialconfig.optim``: the record's whole ``optim`` dict. Two records are one configuration when
  their labels, specs and whole ``optim`` agree (NNI compares ``base_lr``/``wd``/``max_ep`` only).
* ``ndstrialstats``: the fields NNI drops (``min_test_top1`` as ``reported_best_test_acc``,
  ``prec_time``, ``exp_mem``, ``act_mem``, ``job_id``) and where each run came from (``sweep``,
  ``rerun_group``). Values the release spells ``NaN``/``Infinity`` are NULL.
* ``ndsintermediatestats`` is a WITHOUT ROWID table keyed ``(trial_id, current_epoch)``: one b-tree
  instead of NNI's table plus two indexes. It still has NNI's ``id`` column.
* ``ndsdesignspace`` (ours): the 26 design spaces (proposer x generator x dataset) with their counts.
* ``ndsmeanstats`` (ours): each configuration's results, mean over its seeds, with its depth, width and
  rank in its design space, keyed ``(space_id, config_id)``: a design space is one contiguous range, so
  whole-space queries (error distributions, top-k, trends) read a narrow index range instead of every run.
* No index on the whole ``cell_spec`` (NNI has one, 154 MB at full scale): an index on its first characters
  finds a cell, and the whole text is then compared.
"""
from __future__ import annotations

import math

from ..descriptor import (ArchSpec, Benchmark, BrowseSpec, Builder, CannedQuery, ChoiceFilter, Column, Example,
                          Index, Param, RangeFilter, ScatterSpec, SearchSpace, SiteViews, Source, Table, ViewBudget,
                          per_choice_sql, sql_text, stop_sql)
from ..provenance import METADATA_TABLE
from .constants import (DATASETS, DB_FILENAME, DESIGN_SPACES, GENERATE_COMMAND, GENERATORS, MAX_EPOCHS,
                        MODEL_FAMILIES, NAS_CELL, OPS, PROPOSERS)

_PERCENT = (0.0, 100.0)
#: Finite and not negative; losses of diverging runs reach any size before they overflow to Infinity.
_NOT_NEGATIVE = (0.0, math.inf)
#: Characters of cell_spec in the index that finds a cell (query.py compares the same prefix).
CELL_PREFIX = 160


def _accuracy(name: str, description: str, nni_note: str = "") -> Column:
    return Column(name, "REAL", description, "percent", valid=_PERCENT, nni_note=nni_note)


_FROM_ERROR = "100 minus the release's top-1 error"
_NULL_NAN = "NULL where the release has NaN (a diverged run)"

#: Columns of ndstrialstats after id and config_id, in order: NNI's, then ours.
STATS_COLUMNS = (
    Column("seed", "INTEGER", "Training seed (the release's rng_seed); re-runs use other seeds", not_null=True,
           valid=(0, 2**63 - 1)),
    _accuracy("final_train_acc", f"Top-1 training accuracy of the last epoch: {_FROM_ERROR}"),
    Column("final_train_loss", "REAL", f"Training loss of the last epoch; {_NULL_NAN}", valid=_NOT_NEGATIVE),
    _accuracy("final_test_acc", f"Top-1 test accuracy after the last epoch: {_FROM_ERROR}"),
    _accuracy("best_train_acc", "Highest per-epoch top-1 training accuracy"),
    Column("best_train_loss", "REAL", "Lowest per-epoch training loss (NaN epochs skipped)", valid=_NOT_NEGATIVE),
    _accuracy("best_test_acc", "Highest per-epoch top-1 test accuracy (NDS has no validation split)"),
    Column("parameters", "REAL", "Number of parameters (the release's params / 1e6)", "millions", not_null=True,
           valid=(0.0, 1e5)),
    Column("flops", "REAL", "Floating point operations per image (the release's flops / 1e6)", "MFLOPs",
           not_null=True, valid=(0.0, 1e9)),
    Column("iter_time", "REAL", "Training time per iteration", "seconds", valid=(0.0, 1e4)),
    _accuracy("reported_best_test_acc", "100 minus the release's min_test_top1, its own best test error (the NDS "
              "paper's metric); NULL if absent", nni_note="ours: NNI drops min_test_top1"),
    Column("prec_time", "REAL", "The release's prec_time (pycls timing; absent from some ImageNet files -> NULL)",
           "seconds", valid=(0.0, 1e6), nni_note="ours: NNI drops it"),
    Column("exp_mem", "REAL", "The release's exp_mem memory statistic (unit not documented)", valid=(0.0, 1e15),
           nni_note="ours: NNI drops it"),
    Column("act_mem", "REAL", "The release's act_mem memory statistic (unit not documented)", valid=(0.0, 1e15),
           nni_note="ours: NNI drops it"),
    Column("job_id", "TEXT", "The release's job id, as text", nni_note="ours: NNI drops it"),
    Column("sweep", "TEXT", "The release file this run came from, without .json (ResNet_rng1)", not_null=True,
           nni_note="ours"),
    Column("rerun_group", "TEXT", "top or mid for the two lists of a *_reruns file (re-runs of the best and of "
           "median configurations), else NULL", nni_note="ours"),
)
#: Per-epoch metrics of ndsintermediatestats, in order.
EPOCH_COLUMNS = (
    Column("train_loss", "REAL", f"Training loss of the epoch; {_NULL_NAN}", valid=_NOT_NEGATIVE),
    _accuracy("train_acc", f"Top-1 training accuracy of the epoch: {_FROM_ERROR}"),
    _accuracy("test_acc", f"Top-1 test accuracy after the epoch: {_FROM_ERROR}"),
)
_STATS_BY_NAME = {column.name: column for column in STATS_COLUMNS}

_LABEL_NOTE = "derived from the release file's name as NNI does"
_DATASET = Column("dataset", "VARCHAR(15)", "cifar10 or imagenet (ImageNet for the *_in files); " + _LABEL_NOTE,
                  not_null=True)
_GENERATOR = Column("generator", "VARCHAR(15)", "How the configurations were sampled: random, fix_w_d (fixed width "
                    "and depth) or tune_lr_wd (learning rate and weight decay sampled too); " + _LABEL_NOTE
                    + " (the _rng and _reruns files are random)", not_null=True)
_PROPOSER = Column("proposer", "VARCHAR(15)", "The design space's name: " + ", ".join(PROPOSERS) + "; "
                   + _LABEL_NOTE, not_null=True)
_FAMILY = Column("model_family", "VARCHAR(20)", "nas_cell (the net has a genotype), residual_bottleneck, "
                 "residual_basic or vanilla (from net.block_type)", not_null=True)
_BASE_LR = Column("base_lr", "REAL", "Initial learning rate of the cosine schedule (optim.base_lr)", not_null=True,
                  valid=(0.0, 1e3))
_WEIGHT_DECAY = Column("weight_decay", "REAL", "Weight decay (optim.wd)", not_null=True, valid=(0.0, 1e3))
_NUM_EPOCHS = Column("num_epochs", "INTEGER", "Training epochs: the cosine schedule's length (optim.max_ep)",
                     "epochs", not_null=True, valid=(1, MAX_EPOCHS))

CONFIG_TABLE = Table(
    "ndstrialconfig", "One configuration (architecture and training settings) of one design space; re-runs with "
    "other seeds are extra trials of it (NNI's NdsTrialConfig).",
    (
        Column("id", "INTEGER", "Configuration id, by first appearance in NNI's file order", not_null=True),
        _FAMILY,
        Column("model_spec", "JSON", "The network as JSON, sorted keys. nas_cell: num_nodes_normal, "
               "num_nodes_reduce, depth (cells), width (channels of the first stage), aux (auxiliary head), "
               "drop_prob (drop-path probability). Others: per stage ds (blocks), ws (channels), ss (stride), and "
               "for bottleneck blocks bot_muls (bottleneck width / stage width) and num_gs (groups); the first "
               "stage is the stem", not_null=True),
        Column("cell_spec", "JSON", "The two NAS cells as JSON, sorted keys; {} for other families. For cell c in "
               "normal/reduce, node i and its inputs x/y: c_i_op_x (op), c_i_input_x (0, 1: the two previous "
               "cells' outputs; k >= 2: node k - 2), and c_concat (the states concatenated as the output)",
               not_null=True, nni_note="NNI flattens the reduce cell with the normal cell's node count"),
        _DATASET, _GENERATOR, _PROPOSER, _BASE_LR, _WEIGHT_DECAY, _NUM_EPOCHS,
        Column("optim", "JSON", "The release's whole optim dict, sorted keys (part of the configuration's "
               "identity)", not_null=True, nni_note="ours"),
    ),
    primary_key=("id",),
    # No index on the whole cell_spec (NNI has one): its ~1 KB keys spill into overflow pages, 154 MB at full
    # scale. Its first CELL_PREFIX characters (a cell's first two nodes) find a cell among thousands.
    indexes=(Index("ndstrialconfig_model_spec", ("model_spec",)),
             Index("ndstrialconfig_cell_spec_prefix", (f"substr(cell_spec, 1, {CELL_PREFIX})",)),
             Index("ndstrialconfig_space", ("proposer", "generator", "dataset")),
             Index("ndstrialconfig_model_family", ("model_family", "dataset"))),
    model="NdsRunConfig", nni_model="NdsTrialConfig", search=("cell_spec",),
    facets=("model_family", "proposer", "generator", "dataset"),
)
STATS_TABLE = Table(
    "ndstrialstats", "Final and best results of one training run (one job record of the release) "
    "(NNI's NdsTrialStats).",
    (
        Column("id", "INTEGER", "Trial id: the record's position in NNI's file order", not_null=True),
        Column("config_id", "INTEGER", "The configuration this run trained", not_null=True,
               references="ndstrialconfig.id", field="config", backref="trial_stats"),
        *STATS_COLUMNS,
    ),
    primary_key=("id",),
    indexes=(Index("ndstrialstats_config_id", ("config_id",)),),
    model="NdsComputedStats", nni_model="NdsTrialStats", facets=("sweep",),
)
INTERMEDIATE_TABLE = Table(
    "ndsintermediatestats", "Per-epoch metrics of one run; NULL where the release has NaN "
    "(NNI's NdsIntermediateStats).",
    (
        Column("id", "INTEGER", "Row id", not_null=True),
        Column("trial_id", "INTEGER", "The run", not_null=True, references="ndstrialstats.id", field="trial",
               backref="intermediates"),
        Column("current_epoch", "INTEGER", "Epoch, 1-based", "epochs", not_null=True, valid=(1, MAX_EPOCHS)),
        *EPOCH_COLUMNS,
    ),
    primary_key=("trial_id", "current_epoch"), without_rowid=True,
    model="NdsIntermediateStats",
)

_SPACE_VALUES = ",\n  ".join(f"({s.id}, {sql_text(s.name)}, {sql_text(s.proposer)}, {sql_text(s.generator)}, "
                             f"{sql_text(s.dataset)})" for s in DESIGN_SPACES)
_OF_SPACE = "c.proposer = v.column3 and c.generator = v.column4 and c.dataset = v.column5"
DESIGN_SPACE_TABLE = Table(
    "ndsdesignspace", "The 26 design spaces of the release: the configurations sharing a proposer, generator and "
    "dataset (ours).",
    (
        Column("id", "INTEGER", "Design space id, in NNI's file order", not_null=True, valid=(1, len(DESIGN_SPACES))),
        Column("name", "TEXT", "The release file that samples it, without .json (DARTS_lr-wd_in)", not_null=True),
        _PROPOSER, _GENERATOR, _DATASET,
        Column("model_family", "VARCHAR(20)", "The model family of its configurations ('mixed' if they differ, NULL "
               "if it has none)"),
        Column("configs", "INTEGER", "Configurations", not_null=True),
        Column("trials", "INTEGER", "Training runs (configurations x seeds)", not_null=True),
    ),
    primary_key=("id",),
    indexes=(Index("ndsdesignspace_name", ("name",), unique=True),),
    fill_sql=f"""INSERT INTO ndsdesignspace
SELECT v.column1, v.column2, v.column3, v.column4, v.column5,
       (SELECT CASE WHEN count(DISTINCT c.model_family) > 1 THEN 'mixed' ELSE min(c.model_family) END
        FROM ndstrialconfig c WHERE {_OF_SPACE}),
       (SELECT count(*) FROM ndstrialconfig c WHERE {_OF_SPACE}),
       (SELECT count(*) FROM ndstrialconfig c JOIN ndstrialstats s ON s.config_id = c.id WHERE {_OF_SPACE})
FROM (VALUES
  {_SPACE_VALUES}) v""",
    model="NdsDesignSpace", small=True, label_column="name",
)


def _std(column: str) -> str:
    """Sample standard deviation over the seeds (NULL for one seed). ``sqrt`` is registered by the converter
    where the SQLite build lacks it."""
    n = f"count(s.{column})"
    return (f"CASE WHEN {n} > 1 THEN sqrt(max(0.0, (avg(s.{column} * s.{column}) - avg(s.{column}) * avg(s.{column})) "
            f"* {n} / ({n} - 1))) END")


#: Seed means of ndsmeanstats: what whole-space queries rank and plot, no more.
MEAN_COLUMNS = ("final_train_acc", "final_test_acc", "best_test_acc", "reported_best_test_acc", "parameters",
                "flops", "iter_time")
#: The accuracies whole-space queries rank by: the highest per-epoch one (the paper's) or the last epoch's.
ACCURACIES = ("best_test_acc", "final_test_acc")
COMPLEXITIES = ("flops", "parameters")
#: The network's size a query groups configurations by.
FACTORS = ("depth", "width")
_DEPTH_SQL = ("CASE c.model_family WHEN 'nas_cell' THEN json_extract(c.model_spec, '$.depth') "
              "ELSE (SELECT sum(value) FROM json_each(c.model_spec, '$.ds')) END")
_WIDTH_SQL = ("CASE c.model_family WHEN 'nas_cell' THEN json_extract(c.model_spec, '$.width') "
              "ELSE (SELECT max(value) FROM json_each(c.model_spec, '$.ws')) END")


def _mean_doc(name: str) -> Column:
    column = _STATS_BY_NAME[name]
    return Column(name, "REAL", column.description + ", mean over seeds", column.unit, valid=column.valid)


MEAN_TABLE = Table(
    "ndsmeanstats", "Each configuration's results, mean over its seeds, with its depth and width (ours; what "
    "query_nds_computed_stats(..., reduction='mean') returns for these columns), keyed by design space so a "
    "whole design space is one contiguous read.",
    (
        Column("space_id", "INTEGER", "The design space (ndsdesignspace.id)", not_null=True,
               references="ndsdesignspace.id", field="space", backref="mean_stats"),
        Column("config_id", "INTEGER", "The configuration (ndstrialconfig.id)", not_null=True,
               references="ndstrialconfig.id", field="config", backref="mean_stats"),
        _FAMILY, _PROPOSER, _GENERATOR, _DATASET,
        Column("seeds", "INTEGER", "Number of runs averaged", not_null=True),
        *(_mean_doc(name) for name in MEAN_COLUMNS),
        *(Column(f"{name}_std", "REAL", f"Sample standard deviation of {name} over the seeds (NULL for one seed)",
                 "percent") for name in ACCURACIES),
        _BASE_LR, _WEIGHT_DECAY, _NUM_EPOCHS,
        Column("depth", "INTEGER", "nas_cell: cells (model_spec.depth); others: blocks over all stages (sum of ds)",
               not_null=True),
        Column("width", "INTEGER", "nas_cell: channels of the first stage (model_spec.width); others: channels of the "
               "widest stage (max of ws)", "channels", not_null=True),
        *(Column(f"{name}_rank", "INTEGER", f"Rank of {name} in the design space: 1 for the highest (the lowest "
                 "error), ties by configuration id; NULL where it is NULL") for name in ACCURACIES),
    ),
    primary_key=("space_id", "config_id"), without_rowid=True,
    # The ranks make a design space's top k and its error distribution index seeks and range reads: window
    # functions over a whole space cost tens of milliseconds per query, here they run once at conversion.
    # The rank indexes find the k best and the points of the error distribution by seeks; the seeds index
    # covers the re-run statistics.
    indexes=(Index("ndsmeanstats_config", ("config_id",), unique=True),
             *(Index(f"ndsmeanstats_{name}_rank", ("space_id", f"{name}_rank", name)) for name in ACCURACIES),
             Index("ndsmeanstats_seeds", ("space_id", "seeds", *ACCURACIES, *(f"{name}_std" for name in ACCURACIES))),
             # Accuracy by complexity, depth and width within a design space, read in order without a sort.
             *(Index(f"ndsmeanstats_{name}", ("space_id", name, *ACCURACIES)) for name in COMPLEXITIES),
             *(Index(f"ndsmeanstats_{name}", ("space_id", name, *ACCURACIES, *COMPLEXITIES)) for name in FACTORS)),
    fill_sql=f"""INSERT INTO ndsmeanstats
SELECT *, {", ".join(f"CASE WHEN {name} IS NOT NULL THEN row_number() OVER (PARTITION BY space_id, {name} IS NULL "
                     f"ORDER BY {name} DESC, config_id) END" for name in ACCURACIES)}
FROM (
  SELECT d.id AS space_id, c.id AS config_id, c.model_family, c.proposer, c.generator, c.dataset, count(*),
         {", ".join(f"avg(s.{name}) AS {name}" for name in MEAN_COLUMNS)},
         {", ".join(_std(name) for name in ACCURACIES)},
         c.base_lr, c.weight_decay, c.num_epochs, {_DEPTH_SQL}, {_WIDTH_SQL}
  FROM ndsdesignspace d
  JOIN ndstrialconfig c ON c.proposer = d.proposer AND c.generator = d.generator AND c.dataset = d.dataset
  JOIN ndstrialstats s ON s.config_id = c.id
  GROUP BY c.id
)
ORDER BY space_id, config_id""",
    model="NdsMeanStats", facets=("proposer", "generator", "dataset"),
)
TABLES = (CONFIG_TABLE, STATS_TABLE, INTERMEDIATE_TABLE, DESIGN_SPACE_TABLE, MEAN_TABLE, METADATA_TABLE)

# --- Canned queries -------------------------------------------------------------------------------
# Within SQLite 3.35 (the site's sql.js): no math functions, no ->>. Parameters come from ``params``
# (see ``descriptor.CannedQuery``). Whole-space queries read ndsmeanstats by design space; a chosen
# accuracy is a UNION ALL of one branch per choice, each reading that accuracy's index.

_DATASET_PARAM = Param("dataset", "cifar10", tuple(DATASETS))
_GENERATOR_PARAM = Param("generator", "random", tuple(GENERATORS))
_METRIC_PARAM = Param("metric", "best_test_acc", ACCURACIES)
#: Free text, resolved by ``_CHOSEN_SPACES``; by default the five NAS-cell design spaces the NDS paper compares.
_SPACES_PARAM = Param("spaces", "amoeba,darts,enas,nasnet,pnas")
_SPACE_NAMES = tuple(space.name for space in DESIGN_SPACES)


def _space_param(default: str) -> Param:
    return Param("space", default, _SPACE_NAMES)


def _per_metric(branch: str) -> str:
    return per_choice_sql(_METRIC_PARAM, branch)


def _per_row_choice(param: str, values: dict[str, str]) -> str:
    """A CASE on parameter ``param`` for an expression evaluated per row. It reads the parameter as a scalar
    subquery, which SQLite evaluates once: ``p.<param>`` of a ``params`` joined once is flattened into the
    row loop and re-runs every parameter check per row (about 5 us a row, 60 ms on a design space)."""
    return f"case (select {param} from params) " + " ".join(f"when '{k}' then {v}" for k, v in values.items()) + " end"


def _metric_of(alias: str) -> str:
    return _per_row_choice("metric", {m: f"{alias}.{m}" for m in ACCURACIES})


def _std_of(alias: str) -> str:
    return _per_row_choice("metric", {m: f"{alias}.{m}_std" for m in ACCURACIES})


_HELP = {
    "dataset": "dataset: " + ", ".join(DATASETS) + ".",
    "generator": "generator: " + ", ".join(GENERATORS) + " (how the design space was sampled).",
    "metric": "metric: best_test_acc (the highest per-epoch test accuracy, the NDS paper's) or final_test_acc "
              "(after the last epoch), mean over seeds.",
    "space": "space: a design space by its release file's name (" + ", ".join(_SPACE_NAMES[:4]) + ", ...).",
}
# One design space from ``:space`` (a checked choice: it names exactly one row of the small table).
_CHOSEN_SPACE = "chosen as (\n  select d.id from params p cross join ndsdesignspace d on d.name = p.space\n)"
_SPACES_STOP = stop_sql(
    "'spaces: ' || (select group_concat(name, ', ') from named where name <> '' and name not in "
    "(select proposer from chosen)) || ' is not a design space of ' || p.dataset || ' / ' || p.generator || "
    "' in this DB; it has ' || coalesce((select group_concat(proposer, ', ') from (select d.proposer from "
    "ndsdesignspace d where d.dataset = p.dataset and d.generator = p.generator and d.configs > 0 order by d.id)), "
    "'none') || ' (or all)'")
_NO_SPACE_STOP = stop_sql(
    "'this DB has no configurations of ' || p.dataset || ' / ' || p.generator || '; the generators of ' || "
    "p.dataset || ' are ' || coalesce((select group_concat(generator, ', ') from (select distinct d.generator "
    "from ndsdesignspace d where d.dataset = p.dataset and d.configs > 0)), 'none')")
_SPACE_SIZES = ",\n         ".join(
    f"(select max(x.{m}_rank) from ndsmeanstats x indexed by ndsmeanstats_{m}_rank where x.space_id = d.id) as {m}_n"
    for m in ACCURACIES)
# The design spaces ``:spaces`` names (comma-separated proposers, or all) for the chosen dataset and
# generator, with how many configurations have each accuracy; a name that matches none of them stops with
# the names that exist. ``chosen`` is read more than once, so SQLite materialises it: the sizes are counted
# once per space, not once per row that reads them.
_CHOSEN_SPACES = f"""chosen as (
  select d.id, d.name, d.proposer,
         {_SPACE_SIZES}
  from params p
  cross join ndsdesignspace d
  where d.dataset = p.dataset and d.generator = p.generator and d.configs > 0
    and (lower(p.spaces) = 'all'
         or instr(',' || lower(replace(p.spaces, ' ', '')) || ',', ',' || d.proposer || ',') > 0)
),
named(name, rest) as (
  select '', lower(replace(p.spaces, ' ', '')) || ',' from params p where lower(p.spaces) <> 'all'
  union all
  select substr(rest, 1, instr(rest, ',') - 1), substr(rest, instr(rest, ',') + 1) from named where rest <> ''
),
spaces_checked as (
  select case when exists (select 1 from named where name <> '' and name not in (select proposer from chosen))
              then {_SPACES_STOP}
              when not exists (select 1 from chosen) then {_NO_SPACE_STOP}
              else 1 end as ok
  from params p
)"""

def _half_decades(column: str, name: str, first: int, last: int) -> tuple[str, str]:
    """Half-decade bins of ``column`` from 10**(first/2) to 10**(last/2), the outer two open: a CASE giving each
    value its bin k (10**(k/2) <= value < 10**((k+1)/2); SQLite 3.35 has no log10), and a CTE ``name`` listing
    each bin's k, label and edges."""
    edges = [(k, 10 ** (k / 2)) for k in range(first, last + 1)]
    case = ("case " + " ".join(f"when {column} < {edge!r} then {k - 1}" for k, edge in edges)
            + f" else {last} end")
    rows = [(first - 1, f"< {edges[0][1]:.2g}", 0.0, edges[0][1])]
    rows += [(k, f"{low:.2g}..{high:.2g}", low, high) for (k, low), (_, high) in zip(edges, edges[1:])]
    rows.append((last, f">= {edges[-1][1]:.2g}", edges[-1][1], 1e308))
    values = ", ".join(f"({k}, {sql_text(label)}, {low!r}, {high!r})" for k, label, low, high in rows)
    return case, f"{name}(bin, label, low, high) as (values {values})"


_LR_BIN, _LR_BINS = _half_decades("m.base_lr", "lr_bins", -8, 2)
_WD_BIN, _WD_BINS = _half_decades("m.weight_decay", "wd_bins", -12, -2)
_FLOPS_BINS = _half_decades("m.flops", "flops_bins", 0, 10)[1]
_PARAMETERS_BINS = _half_decades("m.parameters", "parameters_bins", -4, 4)[1]
_COMPLEXITY_PARAM = Param("complexity", "flops", COMPLEXITIES)
_FACTOR_PARAM = Param("factor", "depth", FACTORS)


def _in_bin(column: str, aggregate: str) -> str:
    """``aggregate`` over the configurations of design space ``c`` whose ``column`` lies in bin ``b``: a range of
    the column's index (one per bin and space, so no sort of the whole space)."""
    return (f"(select {aggregate} from ndsmeanstats x indexed by ndsmeanstats_{column} where x.space_id = c.id "
            f"and x.{column} >= b.low and x.{column} < b.high and {_metric_of('x')} is not null)")


# Each design space's configurations per bin of the chosen complexity ({complexity} and {chosen} are filled
# in per choice by per_choice_sql; _in_bin leaves {complexity} in its text).
_BIN_BRANCH = f"""
  select c.name as design_space, b.bin, b.label, b.low, {_in_bin("{complexity}", "count(*)")} as configs,
         {_in_bin("{complexity}", f"avg({_metric_of('x')})")} as mean_accuracy,
         {_in_bin("{complexity}", f"max({_metric_of('x')})")} as max_accuracy
  from spaces_checked ch
  cross join chosen c
  cross join {{complexity}}_bins b
  where ch.ok = 1 and {{chosen}}"""
# One design space's configurations by depth or width, read in that order from its index: no sort.
_FACTOR_BRANCH = f"""
select '{{factor}}' as factor, m.{{factor}} as value, count(*) as configs, avg({_metric_of("m")}) as mean_accuracy,
       min({_metric_of("m")}) as min_accuracy, max({_metric_of("m")}) as max_accuracy, avg(m.parameters) as parameters,
       avg(m.flops) as flops
from ndsmeanstats m indexed by ndsmeanstats_{{factor}}
where m.space_id = (select id from chosen) and {_metric_of("m")} is not null and {{chosen}}
group by m.{{factor}}"""


_RESULT_COLUMNS = ("m.seeds, m.best_test_acc, m.final_test_acc, m.parameters, m.flops, m.depth, m.width, "
                   "m.base_lr, m.weight_decay")

QUERIES = (
    CannedQuery(
        "error_edf", "Error distribution (EDF) of design spaces",
        "The empirical distribution function of test error (100 - accuracy, mean over seeds) of each chosen design "
        "space: for each error, the fraction of the space's configurations with that error or less. Overlaid, the "
        "curves compare design spaces as the NDS paper does (a curve further up and left is a better space). "
        "spaces: proposers separated by commas, or all. points: about how many points per curve (2..1000). "
        + " ".join(_HELP[k] for k in ("dataset", "generator", "metric")),
        f"""with {_CHOSEN_SPACES},
steps(j) as (
  select 0 union all select j + 1 from steps where j < (select points from params)
),
-- The configurations of rank k = 1 and k = ceil(j n / points), j = 1..points: the first to reach each
-- points-th of the space (rank 1 = the lowest error, so the fraction below k's error is k / n). Each is one
-- seek into the rank index, not a read of the whole space.
edf as (
{_per_metric('''
  select distinct c.name as design_space, round(100 - m.{metric}, 9) as error, m.{metric}_rank as k,
         c.{metric}_n as n
  from spaces_checked ch
  cross join params p
  cross join chosen c
  cross join steps s
  cross join ndsmeanstats m indexed by ndsmeanstats_{metric}_rank
    on m.space_id = c.id and m.{metric}_rank = max(1, (s.j * c.{metric}_n + p.points - 1) / p.points)
  where ch.ok = 1 and {chosen}''')}
)
select design_space, error, 1.0 * k / n as fraction, n as configs
from edf
order by design_space, error, fraction""",
        (_DATASET_PARAM, _GENERATOR_PARAM, _SPACES_PARAM, _METRIC_PARAM, Param("points", "100", integer=(2, 1000))),
        chart={"type": "line", "x": "error", "y": "fraction", "series": "design_space"},
    ),
    CannedQuery(
        "top_configs", "Top configurations of each design space",
        "The k best configurations of each design space of one dataset and generator, by an accuracy (mean over "
        "seeds), optionally of one model family. family: all, " + ", ".join(MODEL_FAMILIES) + ". k: 1..100. "
        + " ".join(_HELP[k] for k in ("dataset", "generator", "metric")),
        f"""with spaces as (
  select d.id, d.name, d.model_family
  from params p
  cross join ndsdesignspace d
  where d.dataset = p.dataset and d.generator = p.generator and (p.family = 'all' or d.model_family = p.family)
),
candidates as (
{_per_metric('''
  select s.name as design_space, s.model_family, m.{metric}_rank as rank, m.config_id, m.{metric} as accuracy
  from spaces s
  cross join ndsmeanstats m indexed by ndsmeanstats_{metric}_rank
    on m.space_id = s.id and m.{metric}_rank between 1 and (select k from params)
  where {chosen}''')}
)
select r.design_space, r.model_family, r.rank, r.config_id, r.accuracy, {_RESULT_COLUMNS}
from candidates r
cross join ndsmeanstats m indexed by ndsmeanstats_config on m.config_id = r.config_id
order by r.design_space, r.rank""",
        (_DATASET_PARAM, _GENERATOR_PARAM, Param("family", "all", ("all", *MODEL_FAMILIES)), _METRIC_PARAM,
         Param("k", "5", integer=(1, 100))),
        chart={"type": "scatter", "x": "flops", "y": "accuracy", "series": "design_space"},
    ),
    CannedQuery(
        "accuracy_vs_complexity", "Accuracy vs FLOPs or parameters",
        "How accuracy grows with complexity in each chosen design space: its configurations in half-decade bins of "
        "FLOPs (MFLOPs) or parameters (millions), with how many, their mean and their best accuracy (mean over "
        "seeds). Overlaid, the curves compare design spaces at equal cost. complexity: flops or parameters. "
        "spaces: proposers separated by commas, or all. " + " ".join(_HELP[k] for k in ("dataset", "generator", "metric"))
        + " Every configuration as a point: the site's scatter of a design space.",
        f"""with {_CHOSEN_SPACES},
{_FLOPS_BINS},
{_PARAMETERS_BINS},
binned as (
{per_choice_sql(_COMPLEXITY_PARAM, _BIN_BRANCH)}
)
select design_space, (select complexity from params) as complexity, label as bin, low as bin_from, configs,
       mean_accuracy, max_accuracy
from binned
where configs > 0
order by design_space, bin_from""",
        (_DATASET_PARAM, _GENERATOR_PARAM, _SPACES_PARAM, _COMPLEXITY_PARAM, _METRIC_PARAM),
        chart={"type": "line", "x": "bin_from", "y": "mean_accuracy", "series": "design_space"},
    ),
    CannedQuery(
        "depth_width_effect", "Effect of depth or width",
        "Configurations of one design space grouped by depth (nas_cell: cells; ResNet/ResNeXt/Vanilla: blocks over "
        "all stages) or width (nas_cell: channels of the first stage; others: of the widest stage), with the mean, "
        "lowest and highest accuracy of each group. factor: depth or width. " + _HELP["space"] + " "
        + _HELP["metric"],
        f"""with {_CHOSEN_SPACE}
{per_choice_sql(_FACTOR_PARAM, _FACTOR_BRANCH)}
order by value""",
        (_space_param("ResNeXt-B"), _FACTOR_PARAM, _METRIC_PARAM),
        chart={"type": "line", "x": "value", "y": "mean_accuracy"},
    ),
    CannedQuery(
        "lr_wd_sweep", "Learning rate and weight decay",
        "Configurations of one design space in half-decade bins of learning rate and weight decay: how many, their "
        "mean and best accuracy. The *_lr-wd design spaces sample both; the others fix them. "
        + _HELP["space"] + " " + _HELP["metric"],
        f"""with {_CHOSEN_SPACE},
{_LR_BINS},
{_WD_BINS},
grouped as (
  select {_LR_BIN} as lr_bin, {_WD_BIN} as wd_bin, count(*) as configs,
         avg({_metric_of("m")}) as mean_accuracy, max({_metric_of("m")}) as max_accuracy
  from chosen c
  cross join params p
  cross join ndsmeanstats m on m.space_id = c.id
  where {_metric_of("m")} is not null
  group by lr_bin, wd_bin
)
select lb.label as base_lr_bin, wb.label as weight_decay_bin, lb.low as base_lr_from, wb.low as weight_decay_from,
       g.configs, g.mean_accuracy, g.max_accuracy
from grouped g
cross join lr_bins lb on lb.bin = g.lr_bin
cross join wd_bins wb on wb.bin = g.wd_bin
order by g.wd_bin, g.lr_bin""",
        (_space_param("ResNet_lr-wd"), _METRIC_PARAM),
        chart={"type": "line", "x": "base_lr_from", "y": "mean_accuracy", "series": "weight_decay_bin"},
    ),
    CannedQuery(
        "seed_variance", "Seed variance of re-runs",
        "Configurations of one design space trained with at least min_seeds seeds (the _rng1-3 files re-train "
        "ResNet and Vanilla configurations with other seeds; the _reruns files re-train the best and median ones "
        "ten times): mean, sample standard deviation, lowest and highest accuracy over their seeds. Most seeds "
        "first, then best. min_seeds: 2..1000. k: 1..10000. " + _HELP["space"] + " " + _HELP["metric"],
        f"""with {_CHOSEN_SPACE},
rerun as (
  select m.config_id, m.seeds, {_metric_of("m")} as mean_accuracy,
         {_std_of("m")} as std
  from chosen c
  cross join params p
  cross join ndsmeanstats m indexed by ndsmeanstats_seeds on m.space_id = c.id and m.seeds >= p.min_seeds
  order by m.seeds desc, mean_accuracy desc, m.config_id
  limit (select k from params)
)
select r.config_id, r.seeds, r.mean_accuracy, r.std, min({_metric_of("s")}) as min_accuracy,
       max({_metric_of("s")}) as max_accuracy, max({_metric_of("s")}) - min({_metric_of("s")}) as spread,
       group_concat(s.seed, ' ') as seed_list
from rerun r
cross join ndstrialstats s on s.config_id = r.config_id
group by r.config_id
order by r.seeds desc, r.mean_accuracy desc, r.config_id""",
        (_space_param("ResNet"), _METRIC_PARAM, Param("min_seeds", "2", integer=(2, 1000)),
         Param("k", "100", integer=(1, 10000))),
        chart={"type": "scatter", "x": "mean_accuracy", "y": "std"},
    ),
    CannedQuery(
        "seed_variance_by_space", "Seed variance per design space",
        "For each design space of one dataset and generator that has re-runs: how many configurations were trained "
        "with two or more seeds, and the mean and largest standard deviation of their accuracy over seeds. "
        + " ".join(_HELP[k] for k in ("dataset", "generator", "metric")),
        f"""select d.name as design_space, d.configs, count(*) as rerun_configs, avg(m.seeds) as mean_seeds,
       avg({_metric_of("m")}) as mean_accuracy,
       avg({_std_of("m")}) as mean_std, max({_std_of("m")}) as max_std
from params p
cross join ndsdesignspace d
cross join ndsmeanstats m indexed by ndsmeanstats_seeds on m.space_id = d.id and m.seeds >= 2
where d.dataset = p.dataset and d.generator = p.generator
group by d.id
order by d.id""",
        (_DATASET_PARAM, _GENERATOR_PARAM, _METRIC_PARAM),
        chart={"type": "bar", "x": "design_space", "y": "mean_std"},
    ),
    CannedQuery(
        "config_results", "Runs of one configuration",
        "Every training run of one configuration (config: its ndstrialconfig.id), with its labels and where the run "
        "came from.",
        f"""with chosen as (
  select case when exists (select 1 from ndstrialconfig c where c.id = p.config) then p.config
         else {stop_sql("'config ' || p.config || ' is not a configuration of this DB: ids are 1..' || "
                        "coalesce((select max(id) from ndstrialconfig), 0)")} end as id
  from params p
)
select c.id as config_id, d.name as design_space, c.model_family, s.id as trial_id, s.seed, s.sweep, s.rerun_group,
       s.best_test_acc, s.final_test_acc, s.reported_best_test_acc, s.final_train_acc, s.final_train_loss,
       s.parameters, s.flops, s.iter_time, c.base_lr, c.weight_decay, c.num_epochs
from chosen ch
cross join ndstrialconfig c on c.id = ch.id
cross join ndstrialstats s on s.config_id = c.id
cross join ndsmeanstats m indexed by ndsmeanstats_config on m.config_id = c.id
cross join ndsdesignspace d on d.id = m.space_id
order by s.id""",
        (Param("config", "1", integer=(1, 10**9)),),
        chart={"type": "bar", "x": "trial_id", "y": "best_test_acc"},
    ),
)

# --- The site's views ------------------------------------------------------------------------------
# Byte budgets drive the layout (``SiteViews.budgets``, measured by ``benchmarks/site_bytes.py``): every view
# reads one design space of ndsmeanstats through a covering index keyed by space_id first, so a page of the
# browse table and the whole-space scatter read index pages of that space only, and the error distributions
# seek ~100 ranks per space. A configuration's page reads its row, its runs (one range of a covering index:
# re-runs have trial ids thousands apart) and their epochs (one key range of ndsintermediatestats per run).

_BROWSE_COLUMNS = ("config_id", "seeds", "best_test_acc", "final_test_acc", "final_train_acc", "parameters", "flops",
                   "depth", "width", "base_lr", "weight_decay")
_SORT_COLUMNS = ("best_test_acc", "final_test_acc", "parameters", "flops", "depth", "width", "seeds")
_SCATTER_X = ("flops", "parameters")
SITE_INDEXES = (
    *(Index(f"ndsmeanstats_site_by_{column}", ("space_id", column, *(c for c in _BROWSE_COLUMNS if c != column)))
      for column in _SORT_COLUMNS),
    *(Index(f"ndsmeanstats_site_xy_{x}_{y}", ("space_id", x, y)) for x in _SCATTER_X for y in ACCURACIES),
)


def _space_filter(default: str) -> ChoiceFilter:
    return ChoiceFilter("space", "Design space", "space_id = :space", tuple((s.name, s.id) for s in DESIGN_SPACES),
                        required=True, default=default)


_CURVE_METRICS = tuple(column.name for column in EPOCH_COLUMNS)
_TRIAL_COLUMNS = ("trial_id", "seed", "sweep", "rerun_group", "best_test_acc", "final_test_acc",
                  "reported_best_test_acc", "final_train_acc", "final_train_loss", "parameters", "flops", "iter_time")

SITE = SiteViews(
    browse=(BrowseSpec(
        table="ndsmeanstats", title="Configurations of a design space (mean over seeds)", columns=_BROWSE_COLUMNS,
        sorts={"config_id": None, **{column: f"ndsmeanstats_site_by_{column}" for column in _SORT_COLUMNS}},
        default_sort="best_test_acc", default_desc=True, tie_breaker="config_id",
        filters=(_space_filter("ResNet"),
                 RangeFilter("best_test_acc", "Best test accuracy", "percent"),
                 RangeFilter("final_test_acc", "Final test accuracy", "percent"),
                 RangeFilter("parameters", "Parameters", "millions"),
                 RangeFilter("flops", "FLOPs", "MFLOPs"),
                 RangeFilter("depth", "Depth"),
                 RangeFilter("width", "Width", "channels"),
                 RangeFilter("base_lr", "Learning rate"),
                 RangeFilter("weight_decay", "Weight decay")),
        row_link_column="config_id"),),
    scatter=ScatterSpec(
        sql="select config_id, {x}, {y} from ndsmeanstats indexed by ndsmeanstats_site_xy_{x}_{y} "
            "where space_id = :space",
        colour_sql="select config_id, depth, width, {x}, {y} from ndsmeanstats indexed by ndsmeanstats_site_by_{x} "
                   "where space_id = :space",
        x_options=_SCATTER_X, y_options=ACCURACIES, filters=(_space_filter("ResNeXt-A"),),
        key_column="config_id", default_x="flops", default_y="best_test_acc"),
    arch=ArchSpec(
        table="ndstrialconfig", key_column="id",
        row_sql="select * from ndstrialconfig where id = :id",
        results_sql="select id as trial_id, " + ", ".join(_TRIAL_COLUMNS[1:]) + " from ndstrialstats "
                    "indexed by ndstrialstats_site_runs where config_id = :id order by id",
        results_columns=_TRIAL_COLUMNS,
        curves_sql="select s.id as trial, i.current_epoch, " + ", ".join(f"i.{m}" for m in _CURVE_METRICS)
                   + " from ndstrialstats s cross join ndsintermediatestats i on i.trial_id = s.id "
                   "where s.config_id = :id order by s.id, i.current_epoch",
        curve_metrics=_CURVE_METRICS, curve_series="trial", curve_x="current_epoch"),
    js_module="nds",
    # On the full-scale fixture, configuration 1000 is an Amoeba cell; ResNeXt-A and ResNeXt-B are the largest
    # design spaces (15,000 configurations each).
    budgets=(
        ViewBudget("configuration page (NAS cell)", "ndstrialconfig/1000?_v=1", "arch-lookup", 64 * 1024),
        ViewBudget("learning curves of a configuration", "ndstrialconfig/1000?_v=1", "arch-curves"),
        ViewBudget("top-100 of a design space", "ndsmeanstats?space=ResNeXt-A&_sort_desc=best_test_acc&_size=100"
                   "&_v=1", "browse", 128 * 1024),
        ViewBudget("browse page 20, filtered, by FLOPs", "ndsmeanstats?space=ResNeXt-B&best_test_acc__gte=90"
                   "&_sort=flops&_page=20&_v=1", "browse"),
        ViewBudget("whole design space scatter", "-/scatter?space=ResNeXt-A&x=flops&y=best_test_acc&_v=1", "scatter",
                   1024 * 1024),
        # ~100 seeks per space into its rank index; the engine's read-ahead doubles sequential reads, so five
        # spaces of 5,000 configurations fetch about 1 MiB: the budget is the scatter's order, as issue 13 asks.
        ViewBudget("error EDF overlay, the 5 NAS-cell spaces", "error_edf?_v=1", "query", 2 * 1024 * 1024),
        ViewBudget("error EDF overlay, all 10 cifar10 spaces", "error_edf?spaces=all&_v=1", "query"),
    ),
    example_sql="-- design spaces: select id, name from ndsdesignspace\n"
                "select m.config_id, c.model_spec, m.best_test_acc, m.flops\n"
                "from ndsmeanstats m join ndstrialconfig c on c.id = m.config_id\n"
                "where m.space_id = (select id from ndsdesignspace where name = 'ResNeXt-A')\n"
                "order by m.best_test_acc desc limit 10",
    indexes={"ndsmeanstats": SITE_INDEXES,
             # A configuration's runs side by side: re-runs have trial ids thousands apart (one per file).
             "ndstrialstats": (Index("ndstrialstats_site_runs", ("config_id", "id", *_TRIAL_COLUMNS[1:])),)},
)

SPACE = SearchSpace(
    size=None,  # NDS samples continuous design spaces; the release's configuration count is not published
    prose_html="""
<p>NDS samples configurations from 10 design spaces and trains each on CIFAR-10 (100 epochs) or
ImageNet (fewer): five NAS-cell spaces (NASNet, Amoeba, PNAS, ENAS, DARTS) and five built from residual
or plain blocks (ResNet, ResNet-B, ResNeXt-A, ResNeXt-B, Vanilla). A release file is one design space
sampled one way: <code>random</code>, <code>fix-w-d</code> (NAS cells at a fixed width 16 and depth 20 in
the paper) or <code>lr-wd</code> (learning rate and weight decay sampled too); <code>_in</code> files are
ImageNet. The <code>_rng1-3</code> files re-train ResNet and Vanilla configurations with other seeds and the
<code>_reruns</code> files re-train their best (<i>top</i>) and median (<i>mid</i>) configurations many
times: these are extra trials of the same configuration.</p>
<p>A NAS-cell network stacks <i>depth</i> cells in three stages (width, 2x, 4x channels) with reduction
cells between them. Each cell has 4 (DARTS) or 5 nodes; node <i>i</i> adds two operations, each applied to
one earlier state: 0 and 1 are the outputs of the two previous cells, <i>k</i> &ge; 2 is node
<i>k</i>&minus;2. The cell's output concatenates the states listed in <code>concat</code>. The other
families are lists of stages, each with a number of blocks (<code>ds</code>), channels (<code>ws</code>),
a stride (<code>ss</code>) and, for bottleneck blocks, a bottleneck ratio (<code>bot_muls</code>) and
groups (<code>num_gs</code>).</p>
<p>The release stores top-1 <b>errors</b>; accuracies here are 100 minus them, as in NNI. The paper compares
design spaces by the distribution of their errors (<i>error EDF</i>): the fraction of configurations
below each error.</p>
""",
    constants={"ops": list(OPS), "families": list(MODEL_FAMILIES), "cell_family": NAS_CELL,
               "design_spaces": [s._asdict() for s in DESIGN_SPACES]},
    facts={
        "Design spaces (id, release file: proposer / generator / dataset)":
            [[str(s.id), f"{s.name}: {s.proposer} / {s.generator} / {s.dataset}"] for s in DESIGN_SPACES],
        "Model families": [[family, ""] for family in MODEL_FAMILIES],
        "Cell operations": [[op, ""] for op in OPS],
    },
)

_SAMPLE = Builder("generators.fixtures.nds:build_sample_db",
                  "a SYNTHETIC SAMPLE from the fixture writer (fixture values, not real results)")
_LICENSE = "MIT (the NDS repository's code); the data's licence is not stated separately"
SOURCES = (
    Source("data.zip", "https://dl.fbaipublicfiles.com/nds/data.zip", license=_LICENSE,
           note="the release: 34 JSON files (unzip it or pass it as it is): nasbenchmark generate nds --input data.zip. "
                "Not reachable from the build machines, so its size and checksum are not recorded here"),
    Source("nds-5745c235.db", "https://nni.blob.core.windows.net/nasbenchmark/nds-5745c235.db",
           license=_LICENSE, kind="nni-db",
           note="NNI's prebuilt DB (NNI 2.5+); its file name holds its sha256's first 8 hex digits"),
)

BENCHMARK = Benchmark(
    key="nds",
    db_filename=DB_FILENAME,
    title="NDS",
    description="On Network Design Spaces for Visual Recognition (Radosavovic et al., ICCV 2019): configurations "
                "sampled from 10 design spaces (NAS cells of NASNet, Amoeba, PNAS, ENAS and DARTS; ResNet, ResNeXt "
                "and Vanilla networks), trained on CIFAR-10 and ImageNet, with per-epoch curves and re-runs with "
                "other seeds.",
    license=_LICENSE,
    license_url="https://github.com/facebookresearch/nds",
    source="facebookresearch/nds, data.zip (34 JSON files)",
    source_url="https://github.com/facebookresearch/nds",
    citation="Ilija Radosavovic, Justin Johnson, Saining Xie, Wan-Yen Lo and Piotr Dollár. On Network Design "
             "Spaces for Visual Recognition. ICCV 2019.",
    generate_command=GENERATE_COMMAND,
    tables=TABLES,
    queries=QUERIES,
    space=SPACE,
    site=SITE,
    embedded=_SAMPLE,
    sample=_SAMPLE,
    full_scale=Builder("generators.fixtures.nds:build_full_scale_db",
                       "a full-scale SYNTHETIC release from the fixture writer: 152,624 job records, 15.2 M per-epoch "
                       "rows (about 5 minutes to write, 2 to convert)"),
    sources=SOURCES,
    examples=(Example("top 3 configurations of each NAS-cell design space on cifar10", "top_configs",
                      {"family": "nas_cell", "k": "3"}),),
)
