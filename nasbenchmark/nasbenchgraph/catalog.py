"""NAS-Bench-Graph documentation: tables, columns (with units) and canned queries.

The single source for the Datasette metadata and the static site. Every canned query reads
``nbgraphresult`` through one of its indexes (tests check the query plans): the ones with a chosen
metric or cost are a UNION ALL of one branch per choice, each ordered by its own index.
"""
from __future__ import annotations

import functools
import re

from ..catalog import BenchmarkCatalog, CannedQuery, Column, Table, choice_check, integer_check, sql_error, sql_text
from .constants import DATASETS, DB_FILENAME, GENERATE_COMMAND, LINKS, OPS, PROTEINS_OPS

_FRACTION = "fraction of 1"
_PERF_NOTE = "accuracy, except on proteins: presumably ROC-AUC as in OGB (unverified; the release does not say)"

TABLES = (
    Table("nbgrapharch", "The architectures of the search space (26,206 in the release), by their key: four "
          "computing nodes, each with one input and one operation; nodes without successors feed the output.", (
        Column("key", "The release's hash: first digit = link index, then one digit per node's op index "
                      "(61237 = link 6, ops gcn gin cheb fc)"),
        Column("arch_str", "Readable architecture: the link, then the op of node 1..4, e.g. '[0,1,1,2] gcn-gin-cheb-fc'"),
        Column("link_index", "Index of the canonical link pattern (0..8): "
                             + ", ".join(f"{i} = {link}" for i, link in enumerate(LINKS))),
        Column("link", "Canonical link as JSON: element i is the input of node i+1 (0 = graph input, k = node k)"),
        *(Column(f"op_{n}", f"Operation of node {n}: one of {', '.join(OPS)}") for n in range(1, 5)),
        *(Column(f"op_index_{n}", f"Index of op_{n} in the release's op list (0 = gat ... 8 = skip)")
          for n in range(1, 5)),
    ), facets=("link_index", "op_1", "op_2", "op_3", "op_4"), label_column="arch_str"),
    Table("nbgraphdataset", "The converted datasets, with how many architectures and which operations each was "
          f"benchmarked with (proteins: 2,021 architectures over {', '.join(PROTEINS_OPS)}).", (
        Column("dataset", "cora, citeseer, pubmed, cs, physics, photo, computers, arxiv or proteins"),
        Column("num_archs", "Architectures evaluated on this dataset"),
        Column("num_ops", "Number of operations in the dataset's search space"),
        Column("ops", "The operations, as a JSON list"),
        Column("metric", "What valid_perf and test_perf measure: 'accuracy', or 'roc_auc (unverified)' for proteins"),
    ), label_column="dataset"),
    Table("nbgraphresult", "The release's four numbers for one architecture on one dataset, exactly as in the "
          "light .bench files (NAS-Bench-Graph does not say whether they average its 3 seeds).", (
        Column("dataset", "The dataset"),
        Column("key", "The architecture (nbgrapharch.key)"),
        Column("valid_perf", "Validation performance: " + _PERF_NOTE, _FRACTION),
        Column("test_perf", "Test performance (the release's 'perf'): " + _PERF_NOTE, _FRACTION),
        Column("latency", "Inference latency", "seconds"),
        Column("parameters", "Number of parameters (the release's 'para')", "millions"),
    ), facets=("dataset",), sort_desc="test_perf"),
    Table("metadata", "Provenance: benchmark, source files with sha256, generator version, synthetic flag.", (
        Column("key", "Name"), Column("value", "Value"),
    )),
)

_RESULT_COLUMNS = "r.key, a.arch_str, r.test_perf, r.valid_perf, r.latency, r.parameters"


def _by_choice(param: str, default: str, other: str, branch: str) -> str:
    """One UNION ALL branch per value of ``param`` (anything but ``other`` selects ``default``)."""
    first = branch.format(column=default, choice=f":{param} <> '{other}'")
    second = branch.format(column=other, choice=f":{param} = '{other}'")
    return f"select * from ({first})\nunion all\nselect * from ({second})"


_TOP_K = _by_choice("metric", "test_perf", "valid_perf", f"""
select {_RESULT_COLUMNS}, r.{{column}} as score
from nbgraphresult r join nbgrapharch a on a.key = r.key
where r.dataset = :dataset and {{choice}}
order by r.{{column}} desc, r.key
limit cast(:k as integer)""")

_PARETO = _by_choice("cost", "parameters", "latency", """
select f.key, a.arch_str, f.cost, f.test_perf
from (select key, {column} as cost, test_perf,
             max(test_perf) over (order by {column}, test_perf desc, key
                                  rows between unbounded preceding and 1 preceding) as best_cheaper
      from nbgraphresult
      where dataset = :dataset and {choice}) f
join nbgrapharch a on a.key = f.key
where f.best_cheaper is null or f.test_perf > f.best_cheaper
order by f.cost""")

_SCATTER = _by_choice("cost", "parameters", "latency", """
select key, {column} as cost, test_perf
from nbgraphresult
where dataset = :dataset and {choice}
order by {column}, test_perf desc""")

#: Parameters that take one of a few values.
_CHOICES = {
    "dataset": tuple(DATASETS),
    "metric": ("test_perf", "valid_perf"),
    "cost": ("parameters", "latency"),
}


#: What each parameter accepts, as a check of its SQL value (``choice_check``, ``integer_check``).
_CHECKS = {
    **{name: functools.partial(choice_check, allowed=allowed) for name, allowed in _CHOICES.items()},
    "k": functools.partial(integer_check, low=1, high=26206),
    "bins": functools.partial(integer_check, low=1, high=1000),
}


def _canned(name: str, title: str, description: str, sql: str, params: dict[str, str] | None = None,
            chart: dict[str, str] | None = None) -> CannedQuery:
    """A canned query whose parameters are checked, and where a blank one means its default.

    Each ``:name`` becomes an expression of the bound parameter only: blank (an empty Datasette
    form field) turns into the default, and a value outside ``_CHECKS`` stops the query with a
    message naming the parameter. To the planner it is a constant, so index choices (checked by
    the query-plan tests) stay the same.
    """
    params = params or {}

    def checked(match: re.Match) -> str:
        param = match.group(1)
        value = f"coalesce(nullif(trim(:{param}), ''), {sql_text(params[param])})"
        if param not in _CHECKS:
            return value
        condition, expected = _CHECKS[param](value)
        return (f"(case when {condition} then {value} "
                f"else {sql_error(f'{param} must be {expected}', value)} end)")

    return CannedQuery(name, title, description, re.sub(r":(\w+)\b", checked, sql), params, chart,
                       {param: _CHOICES[param] for param in params if param in _CHOICES})


QUERIES = (
    _canned(
        "top_architectures", "Top architectures of a dataset",
        "The k best architectures of one dataset by test_perf or valid_perf (metric), best first; "
        "score is the chosen metric (fraction of 1).",
        _TOP_K, params={"dataset": "cora", "metric": "test_perf", "k": "10"},
        chart={"type": "bar", "x": "arch_str", "y": "score"}),
    _canned(
        "architecture_results", "One architecture on every dataset",
        "All results of one architecture, given as its key (61237) or its stored arch string "
        "('[0,1,1,2] gcn-gin-cheb-fc'). Other spellings: use the Python API or CLI, which canonicalise them.",
        """
select r.dataset, r.key, a.arch_str, r.valid_perf, r.test_perf, r.latency, r.parameters, d.metric
from nbgrapharch a
join nbgraphresult r on r.key = a.key
join nbgraphdataset d on d.dataset = r.dataset
where a.key = :arch or a.arch_str = :arch
order by r.dataset""",
        params={"arch": "61237"}, chart={"type": "bar", "x": "dataset", "y": "test_perf"}),
    _canned(
        "pareto_front", "Pareto front: test performance vs parameters or latency",
        "Architectures of one dataset that no other beats on both test_perf (higher) and cost (lower); "
        "cost is parameters (millions) or latency (seconds). Of exact ties only the lowest key is listed.",
        _PARETO, params={"dataset": "cora", "cost": "parameters"},
        chart={"type": "line", "x": "cost", "y": "test_perf"}),
    _canned(
        "perf_vs_cost", "Test performance vs parameters or latency (every architecture)",
        "Every architecture of one dataset as a point: cost (parameters in millions, or latency in seconds) "
        "against test_perf (fraction of 1).",
        _SCATTER, params={"dataset": "cora", "cost": "parameters"},
        chart={"type": "scatter", "x": "cost", "y": "test_perf"}),
    _canned(
        "perf_histogram", "Histogram of test performance",
        "How many architectures of one dataset fall in each of `bins` equal-width test_perf bins between "
        "the dataset's minimum and maximum (empty bins are omitted).",
        """
with bounds as (
    select (select test_perf from nbgraphresult where dataset = :dataset order by test_perf limit 1) as lo,
           (select test_perf from nbgraphresult where dataset = :dataset order by test_perf desc limit 1) as hi,
           max(cast(:bins as integer), 1) as n
)
select bin, lo + bin * (hi - lo) / n as bin_start, lo + (bin + 1) * (hi - lo) / n as bin_end,
       count(*) as architectures
from (select min(cast((r.test_perf - b.lo) * b.n / (b.hi - b.lo) as integer), b.n - 1) as bin, b.lo, b.hi, b.n
      from nbgraphresult r indexed by nbgraphresult_test_perf, bounds b
      where r.dataset = :dataset)
group by bin
order by bin""",
        params={"dataset": "cora", "bins": "20"},
        chart={"type": "bar", "x": "bin_start", "y": "architectures"}),
    _canned(
        "op_counts_top_k", "Operations among the top architectures",
        "For the k best architectures of one dataset by test_perf: how often each operation occurs over "
        "their 4k nodes (occurrences) and in how many of them (architectures).",
        """
select case n.node when 1 then a.op_1 when 2 then a.op_2 when 3 then a.op_3 else a.op_4 end as op,
       count(*) as occurrences, count(distinct a.key) as architectures
from (select key from nbgraphresult where dataset = :dataset
      order by test_perf desc, key limit cast(:k as integer)) t
join nbgrapharch a on a.key = t.key
cross join (select 1 as node union all select 2 union all select 3 union all select 4) n
group by op
order by occurrences desc, op""",
        params={"dataset": "cora", "k": "100"}, chart={"type": "bar", "x": "op", "y": "occurrences"}),
    _canned(
        "best_per_dataset", "Best architecture of each dataset",
        "The architecture with the highest test_perf on each dataset (lowest key on ties).",
        f"""
select d.dataset, d.metric, {_RESULT_COLUMNS}
from nbgraphdataset d
join nbgraphresult r on r.dataset = d.dataset
    and r.key = (select x.key from nbgraphresult x where x.dataset = d.dataset
                 order by x.test_perf desc, x.key limit 1)
join nbgrapharch a on a.key = r.key
order by d.dataset""",
        chart={"type": "bar", "x": "dataset", "y": "test_perf"}),
)

CATALOG = BenchmarkCatalog(
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
    generate_command=GENERATE_COMMAND,
    tables=TABLES,
    queries=QUERIES,
)
