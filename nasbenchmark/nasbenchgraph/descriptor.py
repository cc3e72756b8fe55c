"""NAS-Bench-Graph declared once: tables, columns (units, ranges), canned queries, search space and the
site's views. The schema, the peewee models, Datasette's metadata and the site derive from ``BENCHMARK``.

* ``nbgrapharch``: one row per architecture key found in the converted files (26,206 for the release): the
  key, a readable arch string, the canonical link (index and list) and the four ops (names and indices).
* ``nbgraphdataset``: one row per converted dataset: how many architectures it has and which ops were
  benchmarked on it. proteins has 2,021 architectures over 5 ops: absent archs are not missing rows.
* ``nbgraphresult``: the four numbers of the release per (dataset, key), exactly as in the files. A WITHOUT
  ROWID table keyed (dataset, key); its secondary indexes carry the key, so each also covers it.
"""
from __future__ import annotations

from ..descriptor import (ArchSpec, Benchmark, BrowseSpec, CannedQuery, ChoiceFilter, Column, Builder,
                          Example, Index, Param, RangeFilter, ScatterSpec, SearchSpace, SiteViews, Source, Table,
                          ViewBudget, stop_sql)
from ..provenance import METADATA_TABLE
from .constants import DATASETS, DB_FILENAME, GENERATE_COMMAND, LINKS, NUM_ARCHS, NUM_NODES, OPS, PROTEINS_OPS

_FRACTION = "fraction of 1"
_PERF_NOTE = "accuracy, except on proteins: presumably ROC-AUC as in OGB (unverified; the release does not say)"
_NODES = range(1, NUM_NODES + 1)

ARCH_TABLE = Table(
    "nbgrapharch", "The architectures of the search space (26,206 in the release), by their key: four computing "
    "nodes, each with one input and one operation; nodes without successors feed the output.",
    (
        Column("key", "INTEGER", "The release's hash: first digit = link index, then one digit per node's op index "
               "(61237 = link 6, ops gcn gin cheb fc)", not_null=True, valid=(0, 88888)),
        Column("arch_str", "TEXT", "Readable architecture: the link, then the op of node 1..4, e.g. "
               "'[0,1,1,2] gcn-gin-cheb-fc'", not_null=True),
        Column("link_index", "INTEGER", "Index of the canonical link pattern (0..8): "
               + ", ".join(f"{i} = {link}" for i, link in enumerate(LINKS)), not_null=True, valid=(0, len(LINKS) - 1)),
        Column("link", "JSON", "Canonical link as JSON: element i is the input of node i+1 (0 = graph input, "
               "k = node k)", not_null=True),
        *(Column(f"op_{n}", "TEXT", f"Operation of node {n}: one of {', '.join(OPS)}", not_null=True) for n in _NODES),
        *(Column(f"op_index_{n}", "INTEGER", f"Index of op_{n} in the release's op list (0 = gat ... 8 = skip)",
                 not_null=True, valid=(0, len(OPS) - 1)) for n in _NODES),
    ),
    primary_key=("key",),
    indexes=(Index("nbgrapharch_arch_str", ("arch_str",), unique=True),),
    model="NbGraphArch", search=("arch_str",),
    facets=("link_index", "op_1", "op_2", "op_3", "op_4"), label_column="arch_str",
)
DATASET_TABLE = Table(
    "nbgraphdataset", "The converted datasets, with how many architectures and which operations each was "
    f"benchmarked with (proteins: 2,021 architectures over {', '.join(PROTEINS_OPS)}).",
    (
        Column("dataset", "TEXT", "cora, citeseer, pubmed, cs, physics, photo, computers, arxiv or proteins",
               not_null=True),
        Column("num_archs", "INTEGER", "Architectures evaluated on this dataset", not_null=True, valid=(1, NUM_ARCHS)),
        Column("num_ops", "INTEGER", "Number of operations in the dataset's search space", not_null=True,
               valid=(1, len(OPS))),
        Column("ops", "JSON", "The operations, as a JSON list", not_null=True),
        Column("metric", "TEXT", "What valid_perf and test_perf measure: 'accuracy', or 'roc_auc (unverified)' for "
               "proteins", not_null=True),
    ),
    primary_key=("dataset",), without_rowid=True, model="NbGraphDataset", small=True, label_column="dataset",
)
RESULT_COLUMNS = ("valid_perf", "test_perf", "latency", "parameters")
RESULT_TABLE = Table(
    "nbgraphresult", "The release's four numbers for one architecture on one dataset, exactly as in the light "
    ".bench files (NAS-Bench-Graph does not say whether they average its 3 seeds).",
    (
        Column("dataset", "TEXT", "The dataset", not_null=True, references="nbgraphdataset.dataset", field="dataset",
               backref="results"),
        Column("key", "INTEGER", "The architecture (nbgrapharch.key)", not_null=True, references="nbgrapharch.key",
               field="arch", backref="results"),
        Column("valid_perf", "REAL", "Validation performance: " + _PERF_NOTE, _FRACTION, not_null=True,
               valid=(0.0, 1.0)),
        Column("test_perf", "REAL", "Test performance (the release's 'perf'): " + _PERF_NOTE, _FRACTION,
               not_null=True, valid=(0.0, 1.0)),
        Column("latency", "REAL", "Inference latency", "seconds", not_null=True, valid=(0.0, 1e3)),
        Column("parameters", "REAL", "Number of parameters (the release's 'para')", "millions", not_null=True,
               valid=(0.0, 1e4)),
    ),
    primary_key=("dataset", "key"), without_rowid=True,
    indexes=(
        Index("nbgraphresult_key", ("key",)),
        Index("nbgraphresult_test_perf", ("dataset", "test_perf DESC")),
        Index("nbgraphresult_valid_perf", ("dataset", "valid_perf DESC")),
        Index("nbgraphresult_parameters", ("dataset", "parameters", "test_perf DESC")),
        Index("nbgraphresult_latency", ("dataset", "latency", "test_perf DESC")),
    ),
    model="NbGraphResult", facets=("dataset",), sort_desc="test_perf",
)
TABLES = (ARCH_TABLE, DATASET_TABLE, RESULT_TABLE, METADATA_TABLE)

# --- Canned queries -------------------------------------------------------------------------------
# Every query reads nbgraphresult through one of its indexes (tests check the query plans). Parameters
# come from ``params`` as scalar subqueries, which the planner treats as constants, so one index serves
# each branch; a chosen metric or cost is a UNION ALL of one branch per choice, each ordered by its index.

_DATASET = Param("dataset", "cora", tuple(DATASETS))
_METRIC = Param("metric", "test_perf", ("test_perf", "valid_perf"))
_COST = Param("cost", "parameters", ("parameters", "latency"))
_RESULT_COLUMNS = "r.key, a.arch_str, r.test_perf, r.valid_perf, r.latency, r.parameters"


def _by_choice(param: Param, branch: str) -> str:
    """One UNION ALL branch per choice of ``param``; ``branch`` holds ``{column}`` and ``{choice}``."""
    branches = [branch.format(column=choice, choice=f"(select {param.name} from params) = '{choice}'")
                for choice in param.choices]
    return "\nunion all\n".join(f"select * from ({b})" for b in branches)


_ARCH_STOP = stop_sql(
    "'arch must be the key (e.g. 61237) or the stored arch string (e.g. [0,1,1,2] gcn-gin-cheb-fc) of one of the "
    "' || coalesce((select value from metadata where key = 'evaluated_archs'), '?') || ' architectures in this "
    "DB; got \"' || p.arch || '\"'")
# One architecture from ``:arch``: a stored key or arch string, else a stop naming what is accepted.
_CHOSEN_ARCH = f"""with matches as (
  select a.key from params p join nbgrapharch a
    on a.key = case when p.arch not glob '*[^0-9]*' and length(p.arch) <= 5 then cast(p.arch as integer) end
    or a.arch_str = p.arch
),
chosen as (
  select case when (select count(*) from matches) = 1 then (select key from matches) else {_ARCH_STOP} end as key
  from params p
)"""

QUERIES = (
    CannedQuery(
        "top_architectures", "Top architectures of a dataset",
        "The k best architectures of one dataset by test_perf or valid_perf (metric), best first; score is the "
        "chosen metric (fraction of 1).",
        _by_choice(_METRIC, f"""
select {_RESULT_COLUMNS}, r.{{column}} as score
from nbgraphresult r join nbgrapharch a on a.key = r.key
where r.dataset = (select dataset from params) and {{choice}}
order by r.{{column}} desc, r.key
limit (select k from params)"""),
        (_DATASET, _METRIC, Param("k", "10", integer=(1, NUM_ARCHS))),
        chart={"type": "bar", "x": "arch_str", "y": "score"}),
    CannedQuery(
        "architecture_results", "One architecture on every dataset",
        "All results of one architecture, given as its key (61237) or its stored arch string "
        "('[0,1,1,2] gcn-gin-cheb-fc'). Other spellings: use the Python API or CLI, which canonicalise them.",
        f"""{_CHOSEN_ARCH}
select r.dataset, r.key, a.arch_str, r.valid_perf, r.test_perf, r.latency, r.parameters, d.metric
from chosen c
join nbgrapharch a on a.key = c.key
join nbgraphresult r on r.key = a.key
join nbgraphdataset d on d.dataset = r.dataset
order by r.dataset""",
        (Param("arch", "61237"),),
        chart={"type": "bar", "x": "dataset", "y": "test_perf"}),
    CannedQuery(
        "pareto_front", "Pareto front: test performance vs parameters or latency",
        "Architectures of one dataset that no other beats on both test_perf (higher) and cost (lower); cost is "
        "parameters (millions) or latency (seconds). Of exact ties only the lowest key is listed.",
        _by_choice(_COST, """
select f.key, a.arch_str, f.cost, f.test_perf
from (select key, {column} as cost, test_perf,
             max(test_perf) over (order by {column}, test_perf desc, key
                                  rows between unbounded preceding and 1 preceding) as best_cheaper
      from nbgraphresult
      where dataset = (select dataset from params) and {choice}) f
join nbgrapharch a on a.key = f.key
where f.best_cheaper is null or f.test_perf > f.best_cheaper
order by f.cost"""),
        (_DATASET, _COST),
        chart={"type": "line", "x": "cost", "y": "test_perf"}),
    CannedQuery(
        "perf_vs_cost", "Test performance vs parameters or latency (every architecture)",
        "Every architecture of one dataset as a point: cost (parameters in millions, or latency in seconds) "
        "against test_perf (fraction of 1).",
        _by_choice(_COST, """
select key, {column} as cost, test_perf
from nbgraphresult
where dataset = (select dataset from params) and {choice}
order by {column}, test_perf desc"""),
        (_DATASET, _COST),
        chart={"type": "scatter", "x": "cost", "y": "test_perf"}),
    CannedQuery(
        "perf_histogram", "Histogram of test performance",
        "How many architectures of one dataset fall in each of `bins` equal-width test_perf bins between the "
        "dataset's minimum and maximum (empty bins included).",
        """with bounds as (
  select (select test_perf from nbgraphresult where dataset = p.dataset order by test_perf limit 1) as lo,
         (select test_perf from nbgraphresult where dataset = p.dataset order by test_perf desc limit 1) as hi,
         p.bins as n
  from params p
),
bins(bin) as (
  select 0 union all select bin + 1 from bins where bin + 1 < (select bins from params)
),
counts as (
  select min(cast((r.test_perf - b.lo) * b.n / (b.hi - b.lo) as integer), b.n - 1) as bin, count(*) as archs
  from nbgraphresult r indexed by nbgraphresult_test_perf, bounds b
  where r.dataset = (select dataset from params) and b.hi > b.lo
  group by 1
)
select n.bin, b.lo + n.bin * (b.hi - b.lo) / b.n as bin_start, b.lo + (n.bin + 1) * (b.hi - b.lo) / b.n as bin_end,
       coalesce(c.archs, 0) as architectures
from bins n cross join bounds b left join counts c on c.bin = n.bin
where b.lo is not null
order by n.bin""",
        (_DATASET, Param("bins", "20", integer=(1, 1000))),
        chart={"type": "bar", "x": "bin_start", "y": "architectures"}),
    CannedQuery(
        "top_k_operations", "Operations among the top architectures",
        "For the k best architectures of one dataset by test_perf: how often each operation occurs over their 4k "
        "nodes (occurrences) and in how many of them (architectures).",
        """select case n.node when 1 then a.op_1 when 2 then a.op_2 when 3 then a.op_3 else a.op_4 end as op,
       count(*) as occurrences, count(distinct a.key) as architectures
from (select key from nbgraphresult where dataset = (select dataset from params)
      order by test_perf desc, key limit (select k from params)) t
join nbgrapharch a on a.key = t.key
cross join (select 1 as node union all select 2 union all select 3 union all select 4) n
group by op
order by occurrences desc, op""",
        (_DATASET, Param("k", "100", integer=(1, NUM_ARCHS))),
        chart={"type": "bar", "x": "op", "y": "occurrences"}),
    CannedQuery(
        "best_per_dataset", "Best architecture of each dataset",
        "The architecture with the highest test_perf on each dataset (lowest key on ties).",
        f"""select d.dataset, d.metric, {_RESULT_COLUMNS}
from nbgraphdataset d
join nbgraphresult r on r.dataset = d.dataset
    and r.key = (select x.key from nbgraphresult x where x.dataset = d.dataset
                 order by x.test_perf desc, x.key limit 1)
join nbgrapharch a on a.key = r.key
order by d.dataset""",
        chart={"type": "bar", "x": "dataset", "y": "test_perf"}),
)

# --- The site's views ------------------------------------------------------------------------------
# Every site index is on nbgraphresult and covers all its columns, so a page of the browse table, the
# whole-dataset scatter and an architecture's results read only index pages. The key spells the
# architecture (``SPACE.constants["key_digits"]``), so filters on ops are arithmetic on ``key``.

_SORT_COLUMNS = ("test_perf", "valid_perf", "parameters", "latency")
_SCATTER_X = ("parameters", "latency")
_SCATTER_Y = ("test_perf", "valid_perf")
SITE_INDEXES = (
    *(Index(f"nbgraphresult_site_by_{column}", ("dataset", column, *(c for c in _SORT_COLUMNS if c != column)))
      for column in _SORT_COLUMNS),
    *(Index(f"nbgraphresult_site_xy_{x}_{y}", ("dataset", x, y)) for x in _SCATTER_X for y in _SCATTER_Y),
    Index("nbgraphresult_site_arch", ("key", "dataset", *RESULT_COLUMNS)),
)


def _dataset_filter() -> ChoiceFilter:
    return ChoiceFilter("dataset", "Dataset", "dataset = :dataset", tuple((d, d) for d in DATASETS),
                        required=True, default="cora")


def _digit_sql(position: int) -> str:
    """The ``position``-th decimal digit of the key (0 = the link index), as the release encodes it."""
    return f"(key / {10 ** (NUM_NODES - position)}) % 10"


_OP_FILTERS = (
    ChoiceFilter("link_index", "Link (macro DAG)", f"{_digit_sql(0)} = :link_index",
                 tuple((str(i), i) for i in range(len(LINKS)))),
    *(ChoiceFilter(f"op_{node}", f"Op of node {node}", f"{_digit_sql(node)} = :op_{node}",
                   tuple((op, i) for i, op in enumerate(OPS))) for node in _NODES),
)

SITE = SiteViews(
    browse=(BrowseSpec(
        table="nbgraphresult", title="Results (one row per architecture and dataset)",
        columns=("key", "dataset", "test_perf", "valid_perf", "parameters", "latency"),
        sorts={"key": None, **{column: f"nbgraphresult_site_by_{column}" for column in _SORT_COLUMNS}},
        default_sort="test_perf", default_desc=True, tie_breaker="key",
        filters=(_dataset_filter(), *_OP_FILTERS,
                 RangeFilter("test_perf", "Test performance", _FRACTION),
                 RangeFilter("valid_perf", "Validation performance", _FRACTION),
                 RangeFilter("parameters", "Parameters", "millions"),
                 RangeFilter("latency", "Latency", "seconds")),
        row_link_column="key"),),
    scatter=ScatterSpec(
        sql="select key, {x}, {y} from nbgraphresult indexed by nbgraphresult_site_xy_{x}_{y} where dataset = :dataset",
        x_options=_SCATTER_X, y_options=_SCATTER_Y, filters=(_dataset_filter(),), key_column="key",
        default_x="parameters", default_y="test_perf"),
    arch=ArchSpec(
        table="nbgrapharch", key_column="key",
        row_sql="select * from nbgrapharch where key = :id",
        results_sql="select dataset, valid_perf, test_perf, latency, parameters from nbgraphresult "
                    "indexed by nbgraphresult_site_arch where key = :id order by key, dataset",
        results_columns=("dataset", "valid_perf", "test_perf", "latency", "parameters")),
    js_module="nbgraph",
    budgets=(
        ViewBudget("architecture lookup", "nbgrapharch/61237?_v=1", "arch-lookup", 64 * 1024),
        ViewBudget("top-100 on cora", "nbgraphresult?dataset=cora&_sort_desc=test_perf&_size=100&_v=1", "browse",
                   128 * 1024),
        ViewBudget("whole-space scatter", "-/scatter?dataset=arxiv&x=parameters&y=test_perf&_v=1", "scatter",
                   1024 * 1024),
    ),
    example_sql="select r.key, a.arch_str, r.test_perf, r.parameters\n"
                "from nbgraphresult r join nbgrapharch a on a.key = r.key\n"
                "where r.dataset = 'citeseer'\n"
                "order by r.test_perf desc limit 10",
    indexes={"nbgraphresult": SITE_INDEXES},
)

SPACE = SearchSpace(
    size=NUM_ARCHS,
    prose_html="""
<p>An architecture is a macro DAG of 4 computing nodes. Each node takes one input, the graph's input
features (0) or an earlier node (<i>k</i>), and applies one of 9 operations; every node without a
successor feeds the output. The space holds 26,206 distinct architectures (9 canonical links ×
operation choices, with isomorphic spellings merged), each evaluated on 9 node-classification datasets;
proteins used only 5 operations (2,021 architectures).</p>
<p>The release's key spells the architecture: its first digit is the link index and the next four
digits are the op indices of nodes 1 to 4 (<code>61237</code> = link 6, ops gcn gin cheb fc).
<code>valid_perf</code> and <code>test_perf</code> are fractions of 1.</p>
""",
    constants={"ops": list(OPS), "links": [list(link) for link in LINKS],
               "key_digits": ["link_index", *(f"op_{n}" for n in _NODES)]},
    facts={
        "Operations (digit, name)": [[str(i), op] for i, op in enumerate(OPS)],
        "Links (digit: input of nodes 1..4)": [[str(i), str(link)] for i, link in enumerate(LINKS)],
        "Datasets": [[d, ""] for d in DATASETS],
    },
)

#: sha256 of the release's light files (the nas-bench-graph 1.4.0 wheel, byte-identical to the GitHub repo).
LIGHT_FILES_SHA256 = {
    "arxiv.bench": "7ee21a7653297a806c0ed1be3efe6ecc06acc84e48e942da0bfde0e5d287debe",
    "citeseer.bench": "99c7f79b73372636305bf73fb32a58b63c57bd1871a152dd62ec72d984c8c50f",
    "computers.bench": "fdb3dc0cf405d62322f0ab9614b2083c2a5e6576c2f43e4f2214be64bc62b1b3",
    "cora.bench": "5e69b2f9bb08d8927d9ffd4921f8494a3cea349c9c3a461334cb9dc9e11701a8",
    "cs.bench": "71ae8469930517160b024f52db6000a4897f1aff5d765beb27bb60952ed5bd31",
    "photo.bench": "5511b4dc3f63fa988792177227db7901290fb9b27fc6c02e3036b29e134ed6df",
    "physics.bench": "1e309bafee0b832c8b84fa3c039c36992bc0a910238b128f26b7e9190d7f2aea",
    "proteins.bench": "b9e7fb0902bda44fec32c948e5fde822fb22d38d674c52e43ace5197378f2d21",
    "pubmed.bench": "10b4dcf6cfd3a24f6059f7d541a4a872960b4adac0b3dba26abed1bb9a3d904d",
}
SOURCES = (
    Source("nas_bench_graph-1.4.0-py3-none-any.whl",
           "https://files.pythonhosted.org/packages/py3/n/nas-bench-graph/nas_bench_graph-1.4.0-py3-none-any.whl",
           size=5_868_117, sha256="f6ea43836262f1ee8d60c35bbbd20aa2536ee1f8492025e3b0b90096f5afc6ad",
           license="Apache-2.0", kind="package", note="pip install nas-bench-graph==1.4.0; its light/*.bench files"),
)

_INSTALLED = Builder("generators.nasbenchgraph:convert_installed",
                     "real: the light/*.bench files of the installed nas-bench-graph wheel")

BENCHMARK = Benchmark(
    key="nbgraph",
    db_filename=DB_FILENAME,
    title="NAS-Bench-Graph",
    description="26,206 graph neural network architectures (4-node macro DAGs over 9 operations) trained on 9 "
                "node-classification datasets: cora, citeseer, pubmed, cs, physics, photo, computers, arxiv and "
                "proteins (2,021 architectures over 5 operations) (Qin et al., NeurIPS 2022 Datasets & Benchmarks). "
                "Validation and test performance, latency and parameters from the release's light benchmark files.",
    license="Apache-2.0",
    license_url="https://github.com/THUMNLab/NAS-Bench-Graph",
    source="THUMNLab/NAS-Bench-Graph (PyPI nas-bench-graph 1.4.0, light/*.bench)",
    source_url="https://github.com/THUMNLab/NAS-Bench-Graph",
    citation="Yijian Qin, Ziwei Zhang, Xin Wang, Zeyang Zhang and Wenwu Zhu. NAS-Bench-Graph: Benchmarking "
             "Graph Neural Architecture Search. NeurIPS 2022 Datasets and Benchmarks.",
    generate_command=GENERATE_COMMAND,
    tables=TABLES,
    queries=QUERIES,
    space=SPACE,
    site=SITE,
    embedded=_INSTALLED,
    full_scale=_INSTALLED,
    examples=(Example("top 5 architectures on cora by test performance", "top_architectures",
                      {"dataset": "cora", "k": "5"}),),
    sources=SOURCES,
)
