"""The NDS reader (folder / zip / nested layouts, bounds, errors) and the record -> rows builder.

No real NDS data is reachable from the build machines, so the input is the fixture writer's
release (``generators.fixtures.nds``) and hand-written records with the values NNI printed from
the real files (nni-reference.md section 5.2, formats.md section 3.5).
"""
from __future__ import annotations

import copy
import json
import math
import time
import zipfile

import pytest

from generators.common import InputError
from generators.fixtures import nds as fixture
from generators.nds import JobRecord, Limits, build_rows, open_release
from generators.nds.rows import identity_key
from nasbenchmark.nds import OPS, SWEEP_FILES

SCALE = 0.002
EPOCHS = 100
RESNEXT_A_NET = {"block_type": "res_bottleneck_block", "ds": [1, 16, 1, 4], "ws": [16, 64, 128, 16],
                 "ss": [1, 1, 2, 2], "bot_muls": [0.0, 0.25, 0.25, 0.25], "num_gs": [1, 2, 1, 2]}
AMOEBA_GENOTYPE = {
    "normal": [["avg_pool_3x3", 0], ["conv_7x1_1x7", 1], ["sep_conv_3x3", 2], ["sep_conv_5x5", 0],
               ["dil_sep_conv_3x3", 2], ["dil_sep_conv_3x3", 2], ["skip_connect", 0], ["sep_conv_3x3", 4],
               ["max_pool_3x3", 1], ["skip_connect", 3]],
    "normal_concat": [3, 5, 6],
    "reduce": [["avg_pool_3x3", 0], ["max_pool_3x3", 1], ["sep_conv_7x7", 1], ["conv_7x1_1x7", 2],
               ["sep_conv_3x3", 1], ["skip_connect", 3], ["sep_conv_5x5", 4], ["avg_pool_3x3", 2],
               ["dil_sep_conv_3x3", 0], ["max_pool_3x3", 5]],
    "reduce_concat": [6],
}


def job(**changes) -> dict:
    """A ResNeXt-A cifar10 record shaped like the release's, with the values NNI printed from it:
    final test accuracy 90.39, best 90.48, 0.083002 M parameters, 69.890986 MFLOPs, iter_time 0.065."""
    test_errors = [60 - 0.5 * epoch for epoch in range(EPOCHS)]
    test_errors[-2:] = [9.52, 9.61]
    record = {
        "job_id": 1234, "rng_seed": 1, "exp_mem": 512.5, "params": 83002, "flops": 69890986,
        "net": copy.deepcopy(RESNEXT_A_NET), "optim": {"base_lr": 0.1, "max_ep": EPOCHS, "wd": 0.0005},
        "act_mem": 3.2, "prec_time": 1.5, "iter_time": 0.065, "min_test_top1": 9.52,
        "train_ep_loss": [2.0 / (epoch + 1) for epoch in range(EPOCHS)],
        "train_ep_top1": [50 - 0.45 * epoch for epoch in range(EPOCHS)],
        "test_ep_top1": test_errors,
        "train_it_loss": [1.0] * EPOCHS, "train_it_top1": [10.0] * EPOCHS,
    }
    record.update(changes)
    return record


def cell_job(genotype=AMOEBA_GENOTYPE, **changes) -> dict:
    """The Amoeba record NNI's docs show (depth 12, width 32, no aux head, no drop path)."""
    net = {"genotype": copy.deepcopy(genotype), "width": 32, "depth": 12, "aux": False, "drop_prob": 0.0}
    return job(net=net, params=4190314, flops=664400586, **changes)


def rows_of(data: dict, file: str = "ResNeXt-A.json", group=None):
    return build_rows(JobRecord(file, 7, group, data))


def minimal_release(folder, files: dict = {}) -> None:
    """All 34 files as empty lists, except ``files`` (name -> text)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in SWEEP_FILES:
        (folder / name).write_text(files.get(name, "[]"))


def read_all(path, limits: Limits = Limits()) -> list:
    return list(open_release(path, limits).records())


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    """The same synthetic release as a folder, in nds_data/, as data.zip and as a folder holding data.zip."""
    root = tmp_path_factory.mktemp("nds")
    fixture.write_folder(root / "extracted" / "nds_data", scale=SCALE, seed=3)
    fixture.write_zip(root / "zipped" / "data.zip", scale=SCALE, seed=3)
    return {"folder": root / "extracted" / "nds_data", "nds_data layout": root / "extracted",
            "zip": root / "zipped" / "data.zip", "folder with data.zip": root / "zipped"}


def test_every_layout_reads_the_same_records_in_nni_order(layouts):
    reads = {name: read_all(path) for name, path in layouts.items()}
    reference = reads.pop("folder")
    expected_records, _ = fixture.release_size(SCALE)
    assert len(reference) == expected_records
    files_in_order = list(dict.fromkeys(record.file for record in reference))
    assert files_in_order == list(SWEEP_FILES)
    for name, records in reads.items():
        assert records == reference, name


def test_reruns_dicts_yield_top_then_mid_and_other_files_have_no_group(layouts):
    records = read_all(layouts["zip"])
    groups = {}
    for record in records:
        groups.setdefault(record.file, []).append(record.group)
    for name, seen in groups.items():
        if name.endswith("_reruns.json"):
            assert seen[0] == "top" and seen[-1] == "mid" and set(seen) == {"top", "mid"}
        else:
            assert set(seen) == {None}
    mid = [r for r in records if r.file == "Vanilla_reruns.json" and r.group == "mid"]
    assert [r.index for r in mid] == list(range(len(mid)))
    assert mid[0].where == "Vanilla_reruns.json: mid record 0"


def test_labels_of_the_34_files_are_nni_s(layouts):
    # NNI's rules (nds/db_gen.py), applied here independently of the constants table.
    for name, labels in SWEEP_FILES.items():
        generator = "fix_w_d" if "fix-w-d" in name else "tune_lr_wd" if "lr-wd" in name else "random"
        assert labels.proposer == name.split(".")[0].split("_")[0].lower()
        assert labels.generator == generator
        assert labels.dataset == ("imagenet" if "_in" in name else "cifar10")
    assert len(SWEEP_FILES) == 34 and len(OPS) == 16 == len(set(OPS))


def test_nan_and_infinity_tokens_become_none_never_nan(tmp_path):
    text = json.dumps([job()])
    text = text.replace("[2.0, 1.0,", "[NaN, Infinity,").replace('"exp_mem": 512.5', '"exp_mem": -Infinity')
    assert text.count("NaN") == 1 and text.count("Infinity") == 2
    minimal_release(tmp_path, {"ResNet.json": text})
    [record] = read_all(tmp_path)
    assert record.data["train_ep_loss"][:3] == [None, None, 2.0 / 3]
    assert record.data["exp_mem"] is None
    rows = build_rows(record)
    assert rows.epochs[0][1] is None and rows.epochs[1][1] is None
    assert rows.trial.exp_mem is None
    assert rows.trial.best_train_loss == 2.0 / EPOCHS
    floats = [v for v in (*rows.trial, *(value for epoch in rows.epochs for value in epoch)) if isinstance(v, float)]
    assert floats and all(math.isfinite(v) for v in floats)


def test_overflowed_and_last_epoch_nan_losses_are_null(tmp_path):
    text = json.dumps([job(train_ep_loss=[0.5] * (EPOCHS - 2) + [math.inf, math.nan])])
    text = text.replace("Infinity, NaN]", "1e999, NaN]")   # a number too large for a double, then NaN
    minimal_release(tmp_path, {"ResNeXt-A.json": text})
    rows = build_rows(read_all(tmp_path)[0])
    assert rows.trial.final_train_loss is None
    assert rows.epochs[-2][1] is None and rows.trial.best_train_loss == 0.5


def test_reruns_file_may_be_a_list_but_other_files_may_not_be_a_dict(tmp_path):
    minimal_release(tmp_path, {"ResNet_reruns.json": json.dumps([job()])})
    assert [(r.file, r.group) for r in read_all(tmp_path)] == [("ResNet_reruns.json", None)]
    minimal_release(tmp_path, {"ResNet.json": json.dumps({"top": [], "mid": []})})
    with pytest.raises(InputError, match=r"ResNet\.json: expected a list of job records, found '\{'"):
        read_all(tmp_path)


@pytest.mark.parametrize("content, message", [
    ({"top": [], "low": []}, r"key 'low' unknown; a reruns file is a dict with exactly the keys \['top', 'mid'\]"),
    ({"top": [], "top ": []}, r"key 'top ' unknown"),
    ({"top": []}, r"has only \['top'\]; a reruns dict has both"),
])
def test_reruns_dict_must_have_exactly_top_and_mid(tmp_path, content, message):
    minimal_release(tmp_path, {"Vanilla_reruns.json": json.dumps(content)})
    with pytest.raises(InputError, match=message):
        read_all(tmp_path)


def test_unknown_missing_or_duplicated_files_are_refused(tmp_path):
    minimal_release(tmp_path)
    (tmp_path / "ResNet_rng4.json").write_text("[]")
    with pytest.raises(InputError, match=r"ResNet_rng4\.json: 'ResNet_rng4\.json' is not one of the 34 files"):
        open_release(tmp_path)
    (tmp_path / "ResNet_rng4.json").unlink()
    (tmp_path / "._Amoeba.json").write_text("macOS metadata")     # ignored, as are non-JSON files
    (tmp_path / "data.zip.part").write_bytes(b"\0")
    (tmp_path / "PNAS_in.json").unlink()
    (tmp_path / "DARTS.json").unlink()
    with pytest.raises(InputError, match=r"2 of the 34 NDS files missing \(DARTS\.json, PNAS_in\.json\)"):
        open_release(tmp_path)

    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in SWEEP_FILES:
            zf.writestr(f"nds_data/{name}", "[]")
        zf.writestr("Amoeba.json", "[]")
    with pytest.raises(InputError, match=r"data\.zip:Amoeba\.json: Amoeba\.json is in the zip twice"):
        open_release(archive)


def test_inputs_that_are_not_a_release(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        open_release(tmp_path / "missing")
    (tmp_path / "Amoeba.json").write_text("[]")
    with pytest.raises(InputError, match="not a zip file; pass the NDS data.zip itself"):
        open_release(tmp_path / "Amoeba.json")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no NDS files here"):
        open_release(empty)


@pytest.mark.parametrize("text, message", [
    ('[{"a": [[', r"ResNet\.json: record 0: malformed JSON at character 9"),         # a 9-byte file
    ("", r"ResNet\.json: expected a list of job records, found an empty file"),
    ("[1, 2]", r"ResNet\.json: record 0: a job record must be a JSON object, got int"),
    ('[{"rng_seed": 1} {"rng_seed": 2}]', r"record 0: expected ',' or '\]' after the record, found '\{'"),
    ('[{"rng_seed": 1}, {"rng_seed": 2',
     r"ResNet\.json: record 1: malformed JSON at character 32 \(Expecting .,. delimiter\)"),
    ('[{"rng_seed": 1}] []', r"unexpected data after the end of the JSON at character 18"),
    ('[{"rng_seed": nan}]', r"record 0: malformed JSON at character 14 \(Expecting value\)"),
    ("[" + "[" * 100_000, r"record 0: JSON nested too deeply"),
])
def test_malformed_json_names_file_record_and_position(tmp_path, text, message):
    minimal_release(tmp_path, {"ResNet.json": text})
    started = time.perf_counter()
    with pytest.raises(InputError, match=message):
        read_all(tmp_path)
    assert time.perf_counter() - started < 2


def test_records_and_files_over_the_limits_are_refused(tmp_path):
    text = json.dumps([job(), job()])
    minimal_release(tmp_path, {"Amoeba.json": text})
    with pytest.raises(InputError, match=r"Amoeba\.json: record 0: [\d,]+ characters, more than the 1,000"):
        read_all(tmp_path, Limits(max_record_chars=1000))
    with pytest.raises(InputError, match=r"Amoeba\.json: .* bytes, more than the 1,000 one release file may hold"):
        open_release(tmp_path, Limits(max_file_bytes=1000))
    with pytest.raises(InputError, match=r"bytes in the 34 files, more than the 1,000 the release may hold"):
        open_release(tmp_path, Limits(max_total_bytes=1000))
    (tmp_path / "Amoeba.json").write_bytes(b'[{"job_id": "\xff"}]')
    with pytest.raises(InputError, match=r"Amoeba\.json: not UTF-8 text near byte 13"):
        read_all(tmp_path)


def test_a_zip_bomb_is_refused_before_inflating(tmp_path):
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in SWEEP_FILES:
            zf.writestr(f"nds_data/{name}", "[]" if name != "Vanilla.json" else "[" + " " * (20 << 20) + "]")
    assert archive.stat().st_size < 1 << 20
    started = time.perf_counter()
    with pytest.raises(InputError, match=r"nds_data/Vanilla\.json: inflates [\d,]+-fold .* \(a zip bomb\?\)"):
        open_release(archive)
    assert time.perf_counter() - started < 1


def test_zip_members_in_unexpected_places_are_refused(tmp_path):
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("__MACOSX/nds_data/._Amoeba.json", "metadata")           # skipped
        for name in SWEEP_FILES:
            zf.writestr(f"deep/nds_data/{name}", "[]")
    with pytest.raises(InputError, match=r"deep/nds_data/Amoeba\.json: nested 2 folders deep"):
        open_release(archive)


def test_progress_reports_every_byte(layouts):
    seen = []
    release = open_release(layouts["zip"])
    records = list(release.records(progress=seen.append))
    assert records and sum(seen) == release.total_bytes


# ---- rows ----------------------------------------------------------------------------------------

def test_values_nni_printed_from_the_real_resnext_a_file():
    rows = rows_of(job())
    assert rows.trial.final_test_acc == pytest.approx(90.39)
    assert rows.trial.best_test_acc == pytest.approx(90.48) == rows.trial.reported_best_test_acc
    assert rows.trial.parameters == pytest.approx(0.083002)
    assert rows.trial.flops == pytest.approx(69.890986)
    assert rows.trial.iter_time == 0.065
    assert rows.trial.final_train_acc == pytest.approx(100 - (50 - 0.45 * 99))
    assert rows.trial.best_train_loss == rows.trial.final_train_loss == 2.0 / EPOCHS
    assert (rows.trial.seed, rows.trial.job_id, rows.trial.prec_time, rows.trial.exp_mem, rows.trial.act_mem) == (
        1, 1234, 1.5, 512.5, 3.2)
    assert (rows.trial.sweep, rows.trial.rerun_group) == ("ResNeXt-A", None)
    assert len(rows.epochs) == EPOCHS
    assert rows.epochs[0] == (1, 2.0, 50, 40)
    assert rows.epochs[-1][0] == EPOCHS and rows.epochs[-1][3] == pytest.approx(90.39)
    config = rows.config
    assert (config.model_family, config.proposer, config.generator, config.dataset) == (
        "residual_bottleneck", "resnext-a", "random", "cifar10")
    assert (config.base_lr, config.weight_decay, config.num_epochs) == (0.1, 0.0005, EPOCHS)
    assert config.optim == '{"base_lr":0.1,"max_ep":100,"wd":0.0005}'


def test_model_spec_of_residual_families_is_nni_s():
    # nni-reference.md 5.2 items 4 and 5: the specs NNI's notebook queries with.
    assert json.loads(rows_of(job()).config.model_spec) == {
        "bot_muls": [0.0, 0.25, 0.25, 0.25], "ds": [1, 16, 1, 4], "num_gs": [1, 2, 1, 2], "ss": [1, 1, 2, 2],
        "ws": [16, 64, 128, 16]}
    basic = {"block_type": "res_basic_block", "ds": [1, 12, 12, 12], "ws": [16, 24, 24, 40], "ss": [1, 1, 2, 2]}
    variants = [dict(basic), dict(basic, bot_muls=None, num_gs=None), dict(basic, bot_muls=[], num_gs=[])]
    specs = {rows_of(job(net=net), "ResNet.json").config.model_spec for net in variants}
    assert specs == {'{"ds":[1,12,12,12],"ss":[1,1,2,2],"ws":[16,24,24,40]}'}
    vanilla = rows_of(job(net=dict(basic, block_type="double_plain_block")), "Vanilla.json").config
    assert (vanilla.model_family, vanilla.cell_spec) == ("vanilla", "{}")


def test_cell_spec_of_a_five_node_genotype_is_nni_s_42_keys():
    config = rows_of(cell_job(), "Amoeba.json").config
    cell_spec = json.loads(config.cell_spec)
    assert len(cell_spec) == 42
    assert (cell_spec["normal_0_op_x"], cell_spec["normal_0_input_x"]) == ("avg_pool_3x3", 0)
    assert (cell_spec["normal_0_op_y"], cell_spec["normal_0_input_y"]) == ("conv_7x1_1x7", 1)
    assert (cell_spec["reduce_4_op_y"], cell_spec["reduce_4_input_y"]) == ("max_pool_3x3", 5)
    assert cell_spec["normal_concat"] == [3, 5, 6] and cell_spec["reduce_concat"] == [6]
    assert json.loads(config.model_spec) == {"num_nodes_normal": 5, "num_nodes_reduce": 5, "depth": 12,
                                             "width": 32, "aux": False, "drop_prob": 0.0}
    assert config.cell_spec == json.dumps(cell_spec, sort_keys=True, separators=(",", ":"))
    assert config.model_family == "nas_cell"


def test_each_cell_is_flattened_with_its_own_node_count():
    darts_like = {"normal": AMOEBA_GENOTYPE["normal"][:8], "normal_concat": [2, 3, 4, 5],
                  "reduce": AMOEBA_GENOTYPE["reduce"], "reduce_concat": [6]}
    spec = json.loads(rows_of(cell_job(darts_like), "DARTS.json").config.cell_spec)
    assert len(spec) == 4 * 4 + 5 * 4 + 2       # op and input of x and y per node, and the two concats
    assert "normal_3_op_y" in spec and "normal_4_op_x" not in spec
    assert spec["reduce_4_op_y"] == "max_pool_3x3"       # NNI's range(num_nodes_normal) would drop node 4
    model_spec = json.loads(rows_of(cell_job(darts_like), "DARTS.json").config.model_spec)
    assert (model_spec["num_nodes_normal"], model_spec["num_nodes_reduce"]) == (4, 5)


def test_reruns_of_one_configuration_share_its_identity_key():
    key = rows_of(job(), "ResNet.json").config.key
    shuffled = job(rng_seed=3, job_id="other", net=dict(reversed(list(RESNEXT_A_NET.items()))),
                   optim={"wd": 0.0005, "max_ep": EPOCHS, "base_lr": 0.1})
    assert rows_of(shuffled, "ResNet_rng2.json").config.key == key
    assert rows_of(job(), "ResNet_reruns.json", "top").config.key == key
    assert rows_of(job(), "ResNet_lr-wd.json").config.key != key                # another generator
    assert rows_of(job(optim={"base_lr": 0.1, "max_ep": EPOCHS, "wd": 0.0005, "mom": 0.8}),
                   "ResNet.json").config.key != key                             # another optimiser setting
    config = rows_of(job(), "ResNet.json").config
    identity = {"model_family": config.model_family, "proposer": config.proposer, "generator": config.generator,
                "dataset": config.dataset, "model_spec": json.loads(config.model_spec),
                "cell_spec": json.loads(config.cell_spec), "optim": json.loads(config.optim)}
    assert key == json.dumps(identity, sort_keys=True, separators=(",", ":"))
    assert identity_key("a", "b", "c", "d", "[]", "{}", "{}") == (
        '{"cell_spec":{},"dataset":"d","generator":"c","model_family":"a","model_spec":[],"optim":{},"proposer":"b"}')


@pytest.mark.parametrize("changes, message", [
    ({"net": dict(RESNEXT_A_NET, block_type="res_dense_block")},
     r"ResNeXt-A\.json: record 7: key 'net\.block_type' = 'res_dense_block' is unknown; expected a name "
     r"starting with one of \['res_bottleneck', 'res_basic', 'double_plain'\]"),
    ({"test_ep_top1": [10.0] * (EPOCHS - 1)},
     r"record 7: mismatched epoch counts: train_ep_top1 has 100 values, test_ep_top1 99, train_ep_loss 100, "
     r"but optim\.max_ep is 100"),
    ({"optim": {"base_lr": 0.1, "max_ep": 50, "wd": 0.0005}}, r"record 7: mismatched epoch counts"),
    ({"optim": {"base_lr": 0.1, "max_ep": 0, "wd": 0.0005}}, r"key 'optim\.max_ep' must be an integer .* 1\.\.1000"),
    ({"optim": {"max_ep": EPOCHS, "wd": 0.0005}}, r"key 'optim\.base_lr' must be a finite number, got None"),
    ({"train_ep_top1": [50.0] * (EPOCHS - 1) + [100.5]},
     r"key 'train_ep_top1' epoch 100: 100\.5 is not a top-1 error in percent"),
    ({"test_ep_top1": ["9.6"] * EPOCHS}, r"key 'test_ep_top1' epoch 1: '9\.6' is not a top-1 error"),
    ({"train_ep_loss": [1.0, -0.5] + [1.0] * (EPOCHS - 2)}, r"key 'train_ep_loss' epoch 2: -0\.5 is not a loss"),
    ({"params": -5}, r"key 'params' = -5 is outside >= 0"),
    ({"flops": "many"}, r"key 'flops' must be a finite number, got 'many'"),
    ({"iter_time": -0.1}, r"key 'iter_time' = -0\.1 is outside >= 0"),
    ({"min_test_top1": 101}, r"key 'min_test_top1' = 101 is outside 0\.\.100"),
    ({"rng_seed": True}, r"key 'rng_seed' must be an integer, got True"),
    ({"job_id": [1]}, r"key 'job_id' must be an integer or a string"),
    ({"net": dict(RESNEXT_A_NET, ws=[16, 64, 128])}, r"key 'net\.ws' must list one number >= 1 per stage"),
    ({"net": dict(RESNEXT_A_NET, num_gs=None)}, r"key 'net\.num_gs' missing: res_bottleneck_block blocks need"),
    ({"net": dict(RESNEXT_A_NET, se_r=0.25)}, r"record 7: net: unknown key 'se_r'"),
    ({"test_ep_loss": [1.0]}, r"record 7: unknown key 'test_ep_loss'"),
    ({"train_it_top1": 5}, r"key 'train_it_top1' must be a list, got int"),
])
def test_bad_records_name_the_record_and_key(changes, message):
    with pytest.raises(InputError, match=message):
        rows_of(job(**changes))


def test_missing_required_key_is_named():
    record = job()
    del record["flops"]
    with pytest.raises(InputError, match=r"record 7: key 'flops' missing"):
        rows_of(record)
    without_optional = {k: v for k, v in job().items() if k not in ("prec_time", "job_id", "min_test_top1")}
    trial = rows_of(without_optional, "ResNet_lr-wd_in.json").trial
    assert (trial.prec_time, trial.job_id, trial.reported_best_test_acc) == (None, None, None)


@pytest.mark.parametrize("edit, message", [
    (lambda g: g["normal"][3].__setitem__(0, "conv_9x9"),
     r"key 'net\.genotype\.normal\[3\]' has unknown op 'conv_9x9'"),
    (lambda g: g["reduce"][2].__setitem__(1, 3), r"'net\.genotype\.reduce\[2\]' input 3 of node 1 must be .* 0\.\.2"),
    (lambda g: g["normal"].pop(), r"'net\.genotype\.normal' must be a non-empty list of \[op, input\] pairs"),
    (lambda g: g.__setitem__("reduce_concat", [7]), r"'net\.genotype\.reduce_concat' must be .* states in 0\.\.6"),
    (lambda g: g.pop("normal_concat"), r"net\.genotype: key 'normal_concat' missing"),
])
def test_bad_genotypes_name_the_entry(edit, message):
    genotype = copy.deepcopy(AMOEBA_GENOTYPE)
    edit(genotype)
    with pytest.raises(InputError, match=message):
        rows_of(cell_job(genotype), "Amoeba.json")


def test_whole_synthetic_release_builds_checked_rows(layouts):
    records = read_all(layouts["folder"])
    rows = [build_rows(record) for record in records]
    for row in rows:
        assert len(row.epochs) == row.config.num_epochs == (50 if row.config.dataset == "imagenet" else 100)
        for _, loss, train_acc, test_acc in row.epochs:
            assert loss is None or 0 <= loss < math.inf
            assert 0 <= train_acc <= 100 and 0 <= test_acc <= 100
        assert row.trial.best_test_acc == row.trial.reported_best_test_acc
    assert any(loss is None for row in rows for _, loss, _, _ in row.epochs)
    configs = {}
    for row in rows:
        configs.setdefault(row.config.key, []).append(row)
    # rng1-3 and the reruns re-train ResNet.json's configurations: they add trials, not configs.
    resnet_files = {"ResNet.json", "ResNet_rng1.json", "ResNet_rng2.json", "ResNet_rng3.json", "ResNet_reruns.json"}
    resnet_keys = {row.config.key for row, record in zip(rows, records) if record.file in resnet_files}
    assert len(resnet_keys) == sum(record.file == "ResNet.json" for record in records)
    reruns = [key for key in resnet_keys if len(configs[key]) > 4]
    assert reruns and all({r.trial.seed for r in configs[key]} >= set(range(1, 11)) for key in reruns)
    families = {row.config.proposer: row.config.model_family for row in rows}
    assert families == {"amoeba": "nas_cell", "darts": "nas_cell", "enas": "nas_cell", "nasnet": "nas_cell",
                        "pnas": "nas_cell", "resnext-a": "residual_bottleneck", "resnext-b": "residual_bottleneck",
                        "resnet-b": "residual_bottleneck", "resnet": "residual_basic", "vanilla": "vanilla"}
