"""NAS-Bench-Graph converter on the real release files: contents, provenance, bad input, CLI, full wheel."""
from __future__ import annotations

import json
import os
import pickle
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import REPO, real_data
from generators.common import InputError, sha256_file
from generators.nasbenchgraph import convert
from generators.nasbenchgraph.inputs import installed_light_dir
from nasbenchmark.cli import main
from nasbenchmark.provenance import read_provenance

# docs/formats.md section 4.4: dataset -> (best test perf, its key, mean test perf, best valid perf).
FORMATS_TABLE = {
    "cora": (0.831333, 77016, 0.754320, 0.819333),
    "citeseer": (0.715667, 47206, 0.610653, 0.728000),
    "pubmed": (0.786000, 21512, 0.730745, 0.811333),
    "cs": (0.912624, 21506, 0.833746, 0.921333),
    "physics": (0.930049, 45155, 0.871203, 0.940000),
    "photo": (0.927896, 30747, 0.869828, 0.940667),
    "computers": (0.855834, 20407, 0.757538, 0.919000),
    "arxiv": (0.723865, 81344, 0.695469, 0.736667),
    "proteins": (0.792634, 85414, 0.766296, 0.853333),
}


def real_files() -> list[Path]:
    return [real_data("nas-bench-graph", "light", "cora.bench"), real_data("nas-bench-graph", "light", "proteins.bench")]


@pytest.fixture(scope="module")
def real_db(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("nbgraph") / "nasbenchgraph.db"
    convert(real_files(), output, progress=False)
    return output


def load_real(name: str) -> dict:
    with open(real_data("nas-bench-graph", "light", f"{name}.bench"), "rb") as f:
        return pickle.load(f)  # the trusted real file, read the original way for comparison


def rows(db: Path, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def test_counts(real_db):
    assert rows(real_db, "select dataset, count(*) from nbgraphresult group by dataset order by dataset") == [
        ("cora", 26206), ("proteins", 2021)]
    assert rows(real_db, "select count(*) from nbgrapharch") == [(26206,)]
    assert rows(real_db, "select dataset, num_archs, num_ops, ops, metric from nbgraphdataset order by dataset") == [
        ("cora", 26206, 9, json.dumps(["gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip"]), "accuracy"),
        ("proteins", 2021, 5, json.dumps(["gcn", "sage", "arma", "fc", "skip"]), "roc_auc (unverified)")]


def test_known_values(real_db):
    result = "select valid_perf, test_perf, latency, parameters from nbgraphresult where dataset = ? and key = ?"
    (valid, test, latency, params), = rows(real_db, result, "cora", 61237)
    assert (valid, test, latency) == (0.79, 0.8046666666666668, 0.003651857376098633)
    assert params == pytest.approx(0.765191, abs=1e-12)
    assert rows(real_db, result, "cora", 0) == [(0.7733333333333334, 0.797, 0.005922238032023112, 1.736711)]
    assert rows(real_db, "select arch_str, link_index, link, op_1, op_2, op_3, op_4, op_index_1, op_index_2, "
                         "op_index_3, op_index_4 from nbgrapharch where key = 61237") == [
        ("[0,1,1,2] gcn-gin-cheb-fc", 6, "[0,1,1,2]", "gcn", "gin", "cheb", "fc", 1, 2, 3, 7)]


@pytest.mark.parametrize("dataset", ["cora", "proteins"])
def test_every_value_equals_the_file(real_db, dataset):
    original = load_real(dataset)
    stored = {key: values for key, *values in rows(
        real_db, "select key, valid_perf, test_perf, latency, parameters from nbgraphresult where dataset = ?", dataset)}
    assert stored == {key: [float(v["valid_perf"]), float(v["perf"]), float(v["latency"]), float(v["para"])]
                      for key, v in original.items()}
    assert all(type(value) is float for values in stored.values() for value in values)


@pytest.mark.parametrize("dataset", ["cora", "proteins"])
def test_best_test_perf_equals_direct_computation(real_db, dataset):
    original = load_real(dataset)
    best_key = max(original, key=lambda key: original[key]["perf"])
    (key, test), = rows(real_db, "select key, test_perf from nbgraphresult where dataset = ? "
                                 "order by test_perf desc, key limit 1", dataset)
    assert (key, test) == (best_key, float(original[best_key]["perf"]))
    assert (round(test, 6), key) == FORMATS_TABLE[dataset][:2]


def test_metadata(real_db):
    meta = read_provenance(real_db).values
    assert meta["benchmark"] == "nbgraph" and meta["synthetic"] == "false"
    assert meta["datasets"] == "cora,proteins"
    assert "source_package" not in meta  # these files are copies, not the installed package
    assert json.loads(meta["sources"]) == [
        {"path": path.name, "size": path.stat().st_size, "sha256": sha256_file(path)} for path in real_files()]
    assert sha256_file(real_files()[0]) == "5e69b2f9bb08d8927d9ffd4921f8494a3cea349c9c3a461334cb9dc9e11701a8"


def test_folder_input_reads_light_subfolder(tmp_path):
    summary = convert([real_data("nas-bench-graph")], tmp_path / "out.db", progress=False)
    assert summary["datasets"] == {"cora": 26206, "proteins": 2021}
    assert summary["architectures"] == 26206 and summary["results"] == 28227


def test_locating_the_package_does_not_import_it():
    pytest.importorskip("nas_bench_graph")
    code = ("import sys; from generators.nasbenchgraph.inputs import resolve_inputs; "
            "files = resolve_inputs(None); assert 'nas_bench_graph' not in sys.modules, 'imported'; "
            "print(len(files), files['cora'].parent.name)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["9", "light"]


def test_full_installed_wheel_matches_formats_table(tmp_path):
    """All 9 datasets of the installed package (the default input), against docs/formats.md section 4.4."""
    pytest.importorskip("nas_bench_graph")
    output = tmp_path / "nasbenchgraph.db"
    summary = convert(None, output, progress=False)
    assert summary["datasets"] == {name: (2021 if name == "proteins" else 26206) for name in FORMATS_TABLE}
    assert summary["results"] == 8 * 26206 + 2021
    for dataset, (best, best_key, mean, best_valid) in FORMATS_TABLE.items():
        (key, test), = rows(output, "select key, test_perf from nbgraphresult where dataset = ? "
                                    "order by test_perf desc, key limit 1", dataset)
        (avg, max_valid), = rows(output, "select avg(test_perf), max(valid_perf) from nbgraphresult "
                                         "where dataset = ?", dataset)
        assert (key, round(test, 6), round(avg, 6), round(max_valid, 6)) == (best_key, best, mean, best_valid), dataset
    meta = read_provenance(output).values
    assert meta["source_package"] == "nas-bench-graph 1.4.0"
    assert [source["path"] for source in json.loads(meta["sources"])] == [f"{name}.bench" for name in FORMATS_TABLE]
    assert rows(output, "pragma integrity_check") == [("ok",)]
    # Every stored key is in every non-proteins dataset: the arch table is the whole space.
    assert rows(output, "select count(*) from nbgrapharch a where not exists "
                        "(select 1 from nbgraphresult r where r.dataset = 'cora' and r.key = a.key)") == [(0,)]
    assert installed_light_dir().is_dir()


# --- bad input -------------------------------------------------------------------------------------------

def write_pickle(path: Path, obj) -> Path:
    path.write_bytes(pickle.dumps(obj, protocol=3))
    return path


GOOD_RECORD = {"valid_perf": 0.5, "perf": 0.5, "latency": 0.001, "para": 0.1}


def bad_inputs(tmp: Path) -> dict[str, tuple[Path, str]]:
    cora = real_data("nas-bench-graph", "light", "cora.bench")
    truncated = tmp / "truncated" / "cora.bench"
    truncated.parent.mkdir()
    truncated.write_bytes(cora.read_bytes()[:100_000])
    trailing = tmp / "trailing" / "cora.bench"
    trailing.parent.mkdir()
    trailing.write_bytes(cora.read_bytes() + b"junk")
    unknown = tmp / "mnist.bench"
    shutil.copy(cora, unknown)
    cases = {"truncated": (truncated, "truncated pickle"),
             "trailing bytes": (trailing, "unexpected bytes after the pickle"),
             "unknown dataset": (unknown, "unknown dataset 'mnist'")}
    for name, obj, message in [
        ("wrong type", [1, 2, 3], "expected a non-empty dict of architecture key -> results, got list"),
        ("empty", {}, "expected a non-empty dict"),
        ("disallowed global", {0: {**GOOD_RECORD, "perf": os.system}}, "refusing to unpickle global posix.system"),
        ("string key", {"0": GOOD_RECORD}, "keys must be int architecture hashes"),
        ("undecodable key", {99999: GOOD_RECORD}, "not a NAS-Bench-Graph key"),
        ("non-canonical key", {10100: GOOD_RECORD}, "not a canonical key"),
        ("missing field", {0: {"perf": 0.5}}, "expected a dict with exactly the fields"),
        ("extra field", {0: {**GOOD_RECORD, "seed": 1}}, "expected a dict with exactly the fields"),
        ("not a number", {0: {**GOOD_RECORD, "perf": "0.5"}}, "perf: expected a number, got str"),
        ("a bool", {0: {**GOOD_RECORD, "para": True}}, "para: expected a number, got bool"),
        ("nan", {0: {**GOOD_RECORD, "latency": float("nan")}}, "latency: expected a finite number"),
        ("infinite", {0: {**GOOD_RECORD, "valid_perf": float("inf")}}, "valid_perf: expected a finite number"),
        ("negative", {0: {**GOOD_RECORD, "para": -1.0}}, "para: -1.0 is outside 0..10000 millions"),
        ("percent", {0: {**GOOD_RECORD, "perf": 80.5}}, "perf: 80.5 is outside 0..1 fraction of 1"),
    ]:
        folder = tmp / name.replace(" ", "_")
        folder.mkdir()
        cases[name] = (write_pickle(folder / "cora.bench", obj), message)
    proteins = tmp / "proteins_gat" / "proteins.bench"
    proteins.parent.mkdir()
    cases["op outside proteins"] = (write_pickle(proteins, {0: GOOD_RECORD}), "proteins was benchmarked only with")
    text = tmp / "text" / "cora.bench"
    text.parent.mkdir()
    text.write_text("key,perf\n0,0.5\n")
    cases["not a pickle"] = (text, "not a valid pickle")
    return cases


def test_bad_inputs_raise_one_line_input_error_and_write_nothing(tmp_path):
    output = tmp_path / "out" / "nasbenchgraph.db"
    for name, (path, message) in bad_inputs(tmp_path).items():
        with pytest.raises(InputError) as error:
            convert([path], output, progress=False, force=True)
        assert message in str(error.value), name
        assert str(path) in str(error.value) and "\n" not in str(error.value), name
        assert not output.exists(), name
    assert not output.parent.exists() or list(output.parent.iterdir()) == []


def test_input_resolution_errors(tmp_path):
    cora = real_data("nas-bench-graph", "light", "cora.bench")
    copy = tmp_path / "copy" / "cora.bench"
    copy.parent.mkdir()
    shutil.copy(cora, copy)
    (tmp_path / "empty").mkdir()
    for inputs, message in [([cora, copy], "dataset 'cora' given twice"),
                            ([tmp_path / "empty"], "no .bench files"),
                            ([tmp_path / "missing.bench"], "no such file or folder")]:
        with pytest.raises(InputError, match=message):
            convert(inputs, tmp_path / "out.db", progress=False)
    assert not (tmp_path / "out.db").exists()


def test_cli_generate_and_failure_keeps_earlier_db(nasbenchmark_dir, tmp_path):
    runner = CliRunner()
    cora = real_data("nas-bench-graph", "light", "cora.bench")
    done = runner.invoke(main, ["generate", "nbgraph", "--input", str(cora), "--quiet"])
    assert done.exit_code == 0, done.output
    output = nasbenchmark_dir / "nasbenchgraph.db"
    assert f"wrote {output}: 26,206 architectures, 26,206 results (cora 26,206)" in done.output
    before = sha256_file(output)

    cases = bad_inputs(tmp_path)
    failed = runner.invoke(main, ["generate", "nbgraph", "--input", str(cases["truncated"][0]), "--quiet"])
    assert failed.exit_code == 1 and failed.output.startswith("Error: ") and "sha256" in failed.output
    assert len(failed.output.strip().splitlines()) == 1, failed.output
    for name in ("truncated", "disallowed global", "unknown dataset"):
        path, message = cases[name]  # --force: past the checksum check (one WARNING line), to the reader's error
        failed = runner.invoke(main, ["generate", "nbgraph", "--input", str(path), "--quiet", "--force"])
        assert failed.exit_code == 1, name
        *warnings, error = failed.output.strip().splitlines()
        assert message in error and error.startswith("Error: "), name
        assert all(line.startswith("WARNING: ") for line in warnings) and len(warnings) <= 1, failed.output
        assert sha256_file(output) == before, name
    assert sorted(p.name for p in nasbenchmark_dir.iterdir()) == ["nasbenchgraph.db"]  # no temp files left
    assert rows(output, "select count(*) from nbgraphresult where dataset = 'cora'") == [(26206,)]
