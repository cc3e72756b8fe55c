"""NAS-Bench-Graph on the static site: covering indexes over ``nbgraphresult`` and the views.

The release key spells the architecture (first digit = link index, then one digit per node's op),
so views filter on ops with arithmetic on ``key`` and show the arch string without reading
``nbgrapharch``. Every index below is on ``nbgraphresult`` and covers all its columns, so a page of
the browse table, the whole-dataset scatter and an architecture's results read only index pages.
"""
from __future__ import annotations

from nasbenchmark.nasbenchgraph.constants import DATASETS, LINKS, OPS

from . import ArchSpec, BrowseSpec, ChoiceFilter, RangeFilter, ScatterSpec, SiteAdapter

RESULT_COLUMNS = ("key", "dataset", "test_perf", "valid_perf", "parameters", "latency")
#: Sorted through a covering index each; ``key`` sorts through the table's own key (dataset, key).
SORT_COLUMNS = ("test_perf", "valid_perf", "parameters", "latency")
SCATTER_X = ("parameters", "latency")
SCATTER_Y = ("test_perf", "valid_perf")


def _index_sql() -> list[str]:
    statements = []
    values = ("test_perf", "valid_perf", "parameters", "latency")
    for column in SORT_COLUMNS:
        rest = [c for c in values if c != column]
        statements.append(f"create index nbgraphresult_site_by_{column} on nbgraphresult "
                          f"(dataset, {column}, {', '.join(rest)})")
    for x in SCATTER_X:
        for y in SCATTER_Y:
            statements.append(f"create index nbgraphresult_site_xy_{x}_{y} on nbgraphresult (dataset, {x}, {y})")
    statements.append("create index nbgraphresult_site_arch on nbgraphresult "
                      "(key, dataset, valid_perf, test_perf, latency, parameters)")
    return statements


DERIVED_SQL = ";\n".join(_index_sql()) + ";"


def _dataset_filter() -> ChoiceFilter:
    return ChoiceFilter("dataset", "Dataset", "dataset = :dataset", tuple((d, d) for d in DATASETS),
                        required=True, default="cora")


def _op_filters() -> tuple[ChoiceFilter, ...]:
    filters = [ChoiceFilter("link_index", "Link (macro DAG)", "key / 10000 = :link_index",
                            tuple((str(i), i) for i in range(len(LINKS))))]
    for node in range(1, 5):
        filters.append(ChoiceFilter(f"op_{node}", f"Op of node {node}", f"(key / {10 ** (4 - node)}) % 10 = :op_{node}",
                                    tuple((op, i) for i, op in enumerate(OPS))))
    return tuple(filters)


SPACE_HTML = """
<p>An architecture is a macro DAG of 4 computing nodes. Each node takes one input, the graph's input
features (0) or an earlier node (<i>k</i>), and applies one of 9 operations; every node without a
successor feeds the output. The space holds 26,206 distinct architectures (9 canonical links ×
operation choices, with isomorphic spellings merged), each evaluated on 9 node-classification datasets;
proteins used only 5 operations (2,021 architectures).</p>
<p>The release's key spells the architecture: its first digit is the link index and the next four
digits are the op indices of nodes 1 to 4 (<code>61237</code> = link 6, ops gcn gin cheb fc).
<code>valid_perf</code> and <code>test_perf</code> are fractions of 1.</p>
"""


def adapter(catalog, conn) -> SiteAdapter:
    browse = BrowseSpec(
        table="nbgraphresult",
        title="Results (one row per architecture and dataset)",
        columns=RESULT_COLUMNS,
        sorts={"key": None, **{column: f"nbgraphresult_site_by_{column}" for column in SORT_COLUMNS}},
        default_sort="test_perf", default_desc=True, tie_breaker="key",
        filters=(_dataset_filter(), *_op_filters(),
                 RangeFilter("test_perf", "Test performance", "fraction of 1"),
                 RangeFilter("valid_perf", "Validation performance", "fraction of 1"),
                 RangeFilter("parameters", "Parameters", "millions"),
                 RangeFilter("latency", "Latency", "seconds")),
        row_link_column="key",
    )
    scatter = ScatterSpec(
        sql="select key, {x}, {y} from nbgraphresult indexed by nbgraphresult_site_xy_{x}_{y} "
            "where dataset = :dataset",
        x_options=SCATTER_X, y_options=SCATTER_Y, filters=(_dataset_filter(),), key_column="key",
        default_x="parameters", default_y="test_perf")
    arch = ArchSpec(
        table="nbgrapharch", key_column="key",
        row_sql="select * from nbgrapharch where key = :id",
        results_sql="select dataset, valid_perf, test_perf, latency, parameters from nbgraphresult "
                    "indexed by nbgraphresult_site_arch where key = :id order by key, dataset",
        results_columns=("dataset", "valid_perf", "test_perf", "latency", "parameters"))
    return SiteAdapter(
        key="nbgraph",
        derived_sql=DERIVED_SQL,
        space_html=SPACE_HTML,
        constants={
            "Operations (digit, name)": [[str(i), op] for i, op in enumerate(OPS)],
            "Links (digit: input of nodes 1..4)": [[str(i), str(link)] for i, link in enumerate(LINKS)],
            "Datasets": [[d, ""] for d in DATASETS],
        },
        browse=(browse,),
        scatter=scatter,
        arch=arch,
        js_module="nbgraph",
        example_sql="select r.key, a.arch_str, r.test_perf, r.parameters\n"
                    "from nbgraphresult r join nbgrapharch a on a.key = r.key\n"
                    "where r.dataset = 'citeseer'\n"
                    "order by r.test_perf desc limit 10",
    )
