"""The served DBs (``conftest.served_dir``) are the ones the serving tests mean to cover."""
from __future__ import annotations

from nasbenchmark import serving
from nasbenchmark.provenance import read_provenance


def test_served_dbs_say_whether_they_are_synthetic(served_dir):
    # The NB201, NDS and NB101 test DBs are fixture samples; cora.bench is real.
    expected = {"nb201": True, "nbgraph": False, "nds": True, "nb101": True}
    found = serving.available_databases(served_dir)
    assert found, "no benchmark DB could be built"
    for key, path in found.items():
        assert read_provenance(path).synthetic is expected[key], key
