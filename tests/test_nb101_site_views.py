"""The site's NAS-Bench-101 views on the browser DB (the sample plus the descriptor's site tables and indexes):
every statement reaches its tables through an index, filters on the cell code agree with nb101arch's counts, and
the scatter's bins stand for every model."""
from __future__ import annotations

import re
import shutil
import sqlite3

import pytest

from generators.fixtures.nb101 import build_sample_db
from nasbenchmark.descriptor import RangeFilter
from nasbenchmark.nasbench101.descriptor import BENCHMARK, SCATTER_BINS

SITE = BENCHMARK.site


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nb101-site-views")
    build_sample_db(folder / "nasbench101.db", num_models=400)
    shutil.copy(folder / "nasbench101.db", folder / "browser.db")
    connection = sqlite3.connect(folder / "browser.db")
    for statement in BENCHMARK.site_statements():
        connection.execute(statement)
    connection.commit()
    connection.execute("analyze")
    yield connection
    connection.close()


def _statements():
    """Every statement the views run, with representative parameters."""
    [browse] = SITE.browse
    choices = [f for f in browse.filters if not isinstance(f, RangeFilter)]
    ranges = [f for f in browse.filters if isinstance(f, RangeFilter)]
    params = {**{f.name: f.choices[1][1] for f in choices}, **{f"{r.column}__gte": 1.0 for r in ranges},
              "_limit": 50, "_offset": 50}
    every = " and ".join([f.sql for f in choices] + [f"{r.column} >= :{r.column}__gte" for r in ranges])
    for sort in browse.sorts:
        for desc in (True, False):
            yield f"browse by {sort}", browse.sql(sort, desc, "num_epochs = :num_epochs"), \
                {"num_epochs": 108, "_limit": 50, "_offset": 0}
            yield f"browse by {sort}, every filter", browse.sql(sort, desc, every), params
    for x in SITE.scatter.x_options:
        for y in SITE.scatter.y_options:
            yield f"scatter {x} {y}", SITE.scatter.sql.format(x=x, y=y), {"num_epochs": 36}
    yield "arch row", SITE.arch.row_sql, {"id": 7}
    yield "arch results", SITE.arch.results_sql, {"id": 7}
    yield "arch curves", SITE.arch.curves_sql, {"id": 7, "num_epochs": 12}
    yield "designer lookup", SITE.designer.lookup_sql, {"key": "28cfc7874f6d200472e1a9dcd8650aa0"}


@pytest.mark.parametrize("name, sql, params", list(_statements()), ids=lambda value: str(value)[:40])
def test_every_view_reads_through_an_index(conn, name, sql, params):
    plan = [row[3] for row in conn.execute("explain query plan " + sql, params)]
    assert not [line for line in plan if re.match(r"SCAN \w+( |$)", line)], plan
    if name.startswith("browse"):
        assert not [line for line in plan if "TEMP B-TREE FOR ORDER BY" in line], plan
    conn.execute(sql, params).fetchall()


@pytest.mark.parametrize("name, column", [("edges", "num_edges"), ("conv3x3", "conv3x3"), ("conv1x1", "conv1x1"),
                                          ("maxpool3x3", "maxpool3x3"), ("vertices", "num_vertices")])
def test_cell_filters_agree_with_the_counts_of_nb101arch(conn, name, column):
    [browse] = SITE.browse
    [spec] = [f for f in browse.filters if getattr(f, "name", None) == name]
    expected = conn.execute(f"select m.arch_id, a.{column} from nb101meanstats m join nb101arch a "
                            "on a.arch_id = m.arch_id where m.num_epochs = 4").fetchall()
    assert len({count for _, count in expected}) > 2
    for label, value in spec.choices:
        rows = conn.execute(f"select arch_id from nb101meanstats where num_epochs = 4 and {spec.sql}",
                            {name: value}).fetchall()
        assert sorted(arch for (arch,) in rows) == sorted(arch for arch, count in expected if count == value), label


def test_the_scatter_bins_stand_for_every_model(conn):
    for table in SITE.tables:
        x, y = table.column_names[4:6]
        for epochs in (4, 108):
            points = conn.execute(f"select arch_id, {x}, {y}, archs from {table.name} where num_epochs = ?",
                                  (epochs,)).fetchall()
            models = conn.execute(f"select arch_id, {x}, {y} from nb101meanstats where num_epochs = ? "
                                  f"order by {x}, {y} desc, arch_id", (epochs,)).fetchall()
            front, best = set(), None
            for arch_id, _, value in models:
                if best is None or value > best:
                    front.add(arch_id)
                    best = value
            assert front <= {arch_id for arch_id, *_ in points}
            assert len(points) <= SCATTER_BINS ** 2 + len(front)
            # Each bin's best model stands for the bin; a Pareto-optimal model that is not its bin's best adds 1.
            assert len(models) <= sum(archs for *_, archs in points) <= len(models) + len(front)
            for arch_id, x_value, y_value, archs in points:
                if archs > 1:  # a representative: nothing in its bin is better
                    assert (arch_id, x_value, y_value) in models
