"""The synthetic NDS release: every documented detail of the 34 files, determinism, zip, scale.

Checked with the standard library's ``json`` only (the reader has its own tests), against the
format as documented in formats.md section 3 and NNI's ``db_gen.py``.
"""
from __future__ import annotations

import ast
import hashlib
import inspect
import json
import math
import zipfile
from collections import Counter, defaultdict

import pytest

from generators.fixtures import nds as fixture
from nasbenchmark.nds import OPS, SWEEP_FILES

SCALE = 0.004
RECORD_KEYS = ["job_id", "rng_seed", "exp_mem", "params", "flops", "net", "optim", "act_mem", "prec_time",
               "iter_time", "min_test_top1", "train_ep_loss", "train_ep_top1", "test_ep_top1", "train_it_loss",
               "train_it_top1"]
CELL_FILES_PREFIXES = ("Amoeba", "DARTS", "ENAS", "NASNet", "PNAS")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return fixture.write_folder(tmp_path_factory.mktemp("nds") / "nds_data", scale=SCALE, seed=1)


@pytest.fixture(scope="module")
def release(folder):
    """File name -> parsed content (NaN / Infinity as floats, as Python's json reads them)."""
    return {path.name: json.loads(path.read_text()) for path in sorted(folder.iterdir())}


def records_of(content) -> list:
    return content["top"] + content["mid"] if isinstance(content, dict) else content


def all_records(release):
    for name, content in release.items():
        for record in records_of(content):
            yield name, record


def test_the_34_files_and_their_shapes(release, folder):
    assert sorted(release) == sorted(SWEEP_FILES)
    assert not list(folder.glob("*.tmp"))
    for name, content in release.items():
        if name.endswith("_reruns.json"):
            assert list(content) == ["top", "mid"] and content["top"] and content["mid"]
        else:
            assert isinstance(content, list) and content


def test_files_are_what_json_dumps_writes(release, folder):
    for name, content in release.items():
        assert (folder / name).read_text() == json.dumps(content), name


def test_records_have_the_release_keys_and_types(release):
    for name, record in all_records(release):
        cell_imagenet = name.startswith(CELL_FILES_PREFIXES) and "_in" in name
        expected = [key for key in RECORD_KEYS if not (cell_imagenet and key == "prec_time")]
        assert list(record) == expected, name
        assert type(record["params"]) is int and type(record["flops"]) is int
        assert record["params"] > 0 and record["flops"] > 0
        assert type(record["rng_seed"]) is int and type(record["job_id"]) is int
        assert set(record["optim"]) >= {"base_lr", "wd", "max_ep"}
        assert record["min_test_top1"] == min(record["test_ep_top1"])
        for key in ("train_ep_top1", "test_ep_top1"):
            assert all(0 <= error <= 100 for error in record[key])


def test_schedules_are_100_epochs_on_cifar_and_50_on_imagenet(release):
    for name, record in all_records(release):
        epochs = 50 if "_in" in name else 100
        assert record["optim"]["max_ep"] == epochs
        for key in ("train_ep_loss", "train_ep_top1", "test_ep_top1"):
            assert len(record[key]) == epochs


def test_losses_hold_nan_and_infinity_tokens_of_diverged_runs(release, folder):
    texts = {name: (folder / name).read_text() for name in release}
    assert any("NaN" in text for text in texts.values())
    assert any("Infinity" in text for text in texts.values())
    diverged = 0
    for name, record in all_records(release):
        for key in ("exp_mem", "params", "flops", "iter_time", "min_test_top1"):
            assert math.isfinite(record[key])
        assert all(math.isfinite(v) for key in ("train_ep_top1", "test_ep_top1") for v in record[key])
        losses = record["train_ep_loss"]
        bad = [i for i, loss in enumerate(losses) if not math.isfinite(loss)]
        if bad:
            diverged += 1
            assert losses[bad[0]] == math.inf and all(math.isnan(v) for v in losses[bad[0] + 1:])
            assert bad == list(range(bad[0], len(losses)))
            assert record["test_ep_top1"][-1] == (99.9 if "_in" in name else 90.0)
    assert diverged


def test_nas_cell_genotypes(release):
    ops_used = defaultdict(set)
    for name, record in all_records(release):
        net = record["net"]
        if not name.startswith(CELL_FILES_PREFIXES):
            continue
        space = name.split(".")[0].split("_")[0]
        assert list(net) == ["genotype", "width", "depth", "aux", "drop_prob"]
        genotype = net["genotype"]
        assert list(genotype) == ["normal", "normal_concat", "reduce", "reduce_concat"]
        num_nodes = 4 if space == "DARTS" else 5
        for cell in ("normal", "reduce"):
            edges = genotype[cell]
            assert len(edges) == 2 * num_nodes
            used = set()
            for position, (op, source) in enumerate(edges):
                assert 0 <= source <= position // 2 + 1
                used.add(source)
                ops_used[space].add(op)
            states = list(range(2, num_nodes + 2))
            loose_ends = [state for state in states if state not in used]
            assert genotype[cell + "_concat"] == (states if space in ("PNAS", "DARTS") else loose_ends)
        if "fix-w-d" in name:
            assert (net["width"], net["depth"]) == (16, 20)
    assert set().union(*ops_used.values()) <= set(OPS)
    assert set().union(*(ops for ops, _, _ in fixture.CELL_SPACES.values())) == set(OPS)
    assert len(ops_used["ENAS"]) <= 5 and "none" not in ops_used["NASNet"] | ops_used["Amoeba"]


def test_resnet_resnext_vanilla_nets(release):
    block_types = {"ResNet": "res_basic_block", "ResNet-B": "res_bottleneck_block",
                   "ResNeXt-A": "res_bottleneck_block", "ResNeXt-B": "res_bottleneck_block",
                   "Vanilla": "double_plain_block"}
    for name, record in all_records(release):
        space = name.split(".")[0].split("_")[0]
        if space not in block_types:
            continue
        net = record["net"]
        assert net["block_type"] == block_types[space]
        stages = len(net["ds"])
        assert stages == len(net["ws"]) == len(net["ss"]) == 4
        assert (net["ds"][0], net["ws"][0], net["ss"][0]) == (1, 16, 1)
        assert net["ss"] == ([1, 2, 2, 2] if "_in" in name else [1, 1, 2, 2])
        if space == "Vanilla":
            assert list(net) == ["block_type", "ds", "ws", "ss"]
        elif space == "ResNet":
            assert net["bot_muls"] is None and net["num_gs"] is None
        else:
            assert len(net["bot_muls"]) == len(net["num_gs"]) == stages
            assert net["bot_muls"][0] == 0.0 and net["num_gs"][0] == 1


def test_reruns_and_rng_files_retrain_the_random_sweeps_configurations(release):
    for family in ("ResNet", "Vanilla"):
        base = release[f"{family}.json"]
        base_configs = [json.dumps([r["net"], r["optim"]]) for r in base]
        assert {r["rng_seed"] for r in base} == {1}
        for k in (1, 2, 3):
            rng = release[f"{family}_rng{k}.json"]
            assert [json.dumps([r["net"], r["optim"]]) for r in rng] == base_configs[:len(rng)]
            assert {r["rng_seed"] for r in rng} == {k + 1}
        reruns = release[f"{family}_reruns.json"]
        for group in ("top", "mid"):
            seeds = defaultdict(list)
            for record in reruns[group]:
                seeds[json.dumps([record["net"], record["optim"]])].append(record["rng_seed"])
            assert set(seeds) <= set(base_configs)
            assert all(sorted(s) == list(range(1, fixture.RERUNS_PER_CONFIG + 1)) for s in seeds.values())
        top_error = min(min(r["test_ep_top1"]) for r in reruns["top"])
        assert top_error <= min(min(r["test_ep_top1"]) for r in reruns["mid"])
    job_ids = [record["job_id"] for _, record in all_records(release)]
    assert len(job_ids) == len(set(job_ids))


def test_lr_wd_sweeps_vary_the_optimiser_and_the_others_do_not(release):
    tuned = set()
    for name, content in release.items():
        settings = {(r["optim"]["base_lr"], r["optim"]["wd"]) for r in records_of(content)}
        if "lr-wd" in name:
            assert len(settings) == len(records_of(content))
            tuned |= settings
        else:
            assert len(settings) == 1
    assert len(tuned) > 10


def test_deterministic_from_the_seed(folder, tmp_path):
    again = fixture.write_folder(tmp_path / "again", scale=SCALE, seed=1)
    other = fixture.write_folder(tmp_path / "other", scale=SCALE, seed=2)
    for name in SWEEP_FILES:
        assert (again / name).read_bytes() == (folder / name).read_bytes(), name
        assert (other / name).read_bytes() != (folder / name).read_bytes(), name


def test_zip_holds_nds_data_with_the_same_bytes(folder, tmp_path):
    path = fixture.write_zip(tmp_path / "data.zip", scale=SCALE, seed=1)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert names == ["nds_data/"] + [f"nds_data/{name}" for name in (s.name for s in fixture.SWEEPS)]
        for name in SWEEP_FILES:
            info = archive.getinfo(f"nds_data/{name}")
            assert info.compress_type == zipfile.ZIP_DEFLATED and info.compress_size < info.file_size
            assert archive.read(info) == (folder / name).read_bytes()
    again = fixture.write_zip(tmp_path / "again.zip", scale=SCALE, seed=1)
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(path.read_bytes()).digest()


def test_sizes_at_full_and_small_scale(release):
    assert fixture.release_size(1.0) == (152_624, 15_200_500)
    full = {s.name: fixture.count_at(s, 1.0) for s in fixture.SWEEPS}
    assert full["Amoeba.json"] + full["Amoeba_in.json"] == 5107           # NNI's count of Amoeba trials
    records, epochs = fixture.release_size(SCALE)
    assert records == sum(len(records_of(content)) for content in release.values())
    assert epochs == sum(len(record["test_ep_top1"]) for _, record in all_records(release))
    assert Counter(fixture.count_at(s, 1e-9) for s in fixture.SWEEPS) == Counter({1: 34})


def _imports(nodes) -> set[str]:
    imported = {node.module for node in nodes if isinstance(node, ast.ImportFrom)}
    return imported | {alias.name for node in nodes if isinstance(node, ast.Import) for alias in node.names}


def test_writer_does_not_import_the_readers_constants():
    """The files are written from the format alone; only the DB builders run the converter on them."""
    tree = ast.parse(inspect.getsource(fixture))
    builders = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "build_sample_db"]
    writer = [node for node in ast.walk(tree) if not any(node in ast.walk(b) for b in builders)]
    assert not {name for name in _imports(writer) if name and ("nds" in name.split(".") or name.startswith("nasbenchmark"))}
    assert _imports(ast.walk(builders[0])) == {"generators.nds"}
