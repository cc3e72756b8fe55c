"""The served DBs (``conftest.served_dir``) are the ones the serving tests mean to cover."""
from __future__ import annotations

from nasbenchmark import serving
from nasbenchmark.provenance import read_provenance


def test_served_dbs_say_whether_they_are_synthetic(served_dir):
    expected = {"nb201": True, "nbgraph": False}  # the NB201 sample is synthetic, cora.bench is real
    found = serving.available_databases(served_dir)
    assert found, "no benchmark DB could be built"
    for key, path in found.items():
        assert read_provenance(path).synthetic is expected[key], key
