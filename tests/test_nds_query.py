"""``query_nds_computed_stats`` with NNI's semantics, the queries of NNI's example notebook, NNI-shaped models
reading our tables, and ``nasbenchmark query nds``.

The release is the fixture writer's at a small scale, with the two Amoeba files at full scale (NNI's
notebook counts 5,107 Amoeba trials) and the records NNI's notebook and docs print, with their real values
(nni-reference.md section 5.2, formats.md section 3.5), put into their files.
"""
from __future__ import annotations

import copy
import json
import random
import sqlite3
import statistics

import peewee
import pytest
from click.testing import CliRunner
from playhouse.shortcuts import model_to_dict

from generators.fixtures import nds as fixture
from generators.nds import convert
from nasbenchmark import database
from nasbenchmark.cli import main as cli
from nasbenchmark.nds import bind, query_nds_computed_stats, query_nds_trial_stats
from test_nds_reader import AMOEBA_GENOTYPE, RESNEXT_A_NET, cell_job, job

RESNEXT_A_SPEC = {key: value for key, value in RESNEXT_A_NET.items() if key != "block_type"}
RESNET_SPEC = {"ds": [1, 12, 12, 12], "ss": [1, 1, 2, 2], "ws": [16, 24, 24, 40]}
AMOEBA_MODEL_SPEC = {"aux": False, "depth": 12, "drop_prob": 0.0, "num_nodes_normal": 5, "num_nodes_reduce": 5,
                     "width": 32}


def amoeba_cell_spec() -> dict:
    spec = {}
    for cell in ("normal", "reduce"):
        for index, (op, source) in enumerate(AMOEBA_GENOTYPE[cell]):
            node, side = divmod(index, 2)
            spec[f"{cell}_{node}_op_{'xy'[side]}"] = op
            spec[f"{cell}_{node}_input_{'xy'[side]}"] = source
        spec[f"{cell}_concat"] = AMOEBA_GENOTYPE[f"{cell}_concat"]
    return spec


def _resnet_record() -> dict:
    """The ResNet record NNI printed: final test accuracy 93.49, 0.594138 M parameters."""
    test_errors = [40 - 0.3 * epoch for epoch in range(100)]
    test_errors[-1] = 6.51
    net = {"block_type": "res_basic_block", **RESNET_SPEC, "bot_muls": None, "num_gs": None}
    return job(net=net, params=594138, flops=89000000, test_ep_top1=test_errors, min_test_top1=min(test_errors))


@pytest.fixture(scope="module")
def notebook_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nds-notebook") / "nds_data"
    fixture.write_folder(folder, scale=0.002, seed=11)
    for sweep in fixture.SWEEPS:
        if sweep.space == "Amoeba":
            (folder / sweep.name).write_text("".join(fixture.file_text(sweep, 1.0, 11)))

    def edit(name, change):
        data = json.loads((folder / name).read_text())
        change(data)
        (folder / name).write_text(json.dumps(data))

    edit("Amoeba.json", lambda records: records.__setitem__(0, cell_job(rng_seed=1)))
    edit("ResNeXt-A.json", lambda records: records.append(job()))
    edit("ResNet.json", lambda records: records.append(_resnet_record()))
    path = folder.parent / "nds.db"
    convert(folder, path, progress=False)
    bind(path)
    yield path
    database.close_all()


def test_notebook_4_a_resnext_model_spec_with_its_intermediates(notebook_db):
    runs = list(query_nds_trial_stats("residual_bottleneck", None, None, RESNEXT_A_SPEC, None, "cifar10"))
    assert len(runs) == 1
    run = runs[0]
    assert run["config"]["proposer"] == "resnext-a" and run["config"]["model_spec"] == RESNEXT_A_SPEC
    assert run["config"]["cell_spec"] == {} and run["config"]["generator"] == "random"
    assert run["final_test_acc"] == pytest.approx(90.39) and run["best_test_acc"] == pytest.approx(90.48)
    assert run["parameters"] == pytest.approx(0.083002) and run["flops"] == pytest.approx(69.890986)
    assert run["iter_time"] == 0.065 and run["seed"] == 1
    with_epochs = next(query_nds_trial_stats("residual_bottleneck", None, None, RESNEXT_A_SPEC, None, "cifar10",
                                             include_intermediates=True))
    first_ten = with_epochs["intermediates"][:10]
    assert [row["current_epoch"] for row in first_ten] == list(range(1, 11))
    assert first_ten[0]["test_acc"] == pytest.approx(40.0) and first_ten[0]["train_acc"] == pytest.approx(50.0)
    assert first_ten[0]["train_loss"] == pytest.approx(2.0)
    assert len(with_epochs["intermediates"]) == 100


def test_notebook_5_a_resnet_with_cell_spec_empty(notebook_db):
    runs = list(query_nds_trial_stats("residual_basic", "resnet", "random", RESNET_SPEC, {}, "cifar10"))
    assert [(r["final_test_acc"], r["parameters"]) for r in runs] == [(pytest.approx(93.49), 0.594138)]


def test_notebook_6_the_first_vanilla_run(notebook_db):
    first = next(query_nds_trial_stats("vanilla", None, None, None, None, None))
    assert first["config"]["model_family"] == "vanilla" and first["config"]["cell_spec"] == {}
    with sqlite3.connect(notebook_db) as conn:
        expected = conn.execute("select min(s.id) from ndstrialstats s join ndstrialconfig c on c.id = s.config_id "
                                "where c.model_family = 'vanilla'").fetchone()[0]
    assert first["id"] == expected


def test_notebook_7_a_full_amoeba_cell_returns_its_specs(notebook_db):
    cell_spec = amoeba_cell_spec()
    assert len(cell_spec) == 42
    runs = list(query_nds_trial_stats("nas_cell", None, None, AMOEBA_MODEL_SPEC, cell_spec, None))
    assert len(runs) == 1
    config = runs[0]["config"]
    assert config["model_spec"] == AMOEBA_MODEL_SPEC and config["cell_spec"] == cell_spec
    assert (config["proposer"], runs[0]["parameters"], runs[0]["flops"]) == ("amoeba", 4.190314, 664.400586)


def test_notebook_8_counts_5107_amoeba_runs(notebook_db):
    assert len(list(query_nds_trial_stats(None, "amoeba", None, None, None, None, None))) == 5107


def test_specs_match_whatever_their_key_order(notebook_db):
    shuffled = dict(reversed(list(amoeba_cell_spec().items())))
    model = dict(sorted(AMOEBA_MODEL_SPEC.items(), key=lambda item: random.Random(3).random()))
    assert len(list(query_nds_computed_stats(None, None, None, model, shuffled, None))) == 1


def test_cell_spec_empty_selects_exactly_the_families_without_cells(notebook_db):
    runs = list(query_nds_computed_stats(None, None, None, None, {}, "imagenet"))
    assert runs and {r["config"]["model_family"] for r in runs} == {"residual_bottleneck", "residual_basic", "vanilla"}
    with sqlite3.connect(notebook_db) as conn:
        expected = conn.execute("select count(*) from ndstrialstats s join ndstrialconfig c on c.id = s.config_id "
                                "where c.dataset = 'imagenet' and c.model_family <> 'nas_cell'").fetchone()[0]
    assert len(runs) == expected


def test_mean_is_over_seeds_with_per_epoch_means(notebook_db):
    runs = list(query_nds_computed_stats("residual_basic", "resnet", "random", None, None, "cifar10",
                                         include_intermediates=True))
    by_config = {}
    for run in runs:
        by_config.setdefault(run["config"]["id"], []).append(run)
    config_id, seeds = max(by_config.items(), key=lambda item: len(item[1]))
    assert len(seeds) > 1  # a configuration re-trained by the _rng / _reruns files
    means = [m for m in query_nds_computed_stats("residual_basic", "resnet", "random", None, None, "cifar10",
                                                 reduction="mean", include_intermediates=True)]
    assert len(means) == len(by_config)
    mean = next(m for m in means if m["config"]["id"] == config_id)
    assert mean["id"] is None and "seed" not in mean and "sweep" not in mean
    for column in ("final_test_acc", "best_test_acc", "final_train_loss", "parameters", "reported_best_test_acc"):
        values = [s[column] for s in seeds if s[column] is not None]
        assert mean[column] == pytest.approx(statistics.fmean(values), rel=1e-12), column
    assert len(mean["intermediates"]) == 100
    for epoch in (0, 49, 99):
        values = [s["intermediates"][epoch]["test_acc"] for s in seeds]
        assert mean["intermediates"][epoch]["test_acc"] == pytest.approx(statistics.fmean(values), rel=1e-12)


def test_runs_carry_the_fields_nni_drops(notebook_db):
    run = next(query_nds_computed_stats("residual_bottleneck", None, None, RESNEXT_A_SPEC, None, "cifar10"))
    assert run["reported_best_test_acc"] == pytest.approx(90.48) and run["prec_time"] == 1.5
    assert (run["exp_mem"], run["act_mem"], run["job_id"], run["sweep"], run["rerun_group"]) == \
        (512.5, 3.2, "1234", "ResNeXt-A", None)
    assert run["config"]["optim"] == {"base_lr": 0.1, "max_ep": 100, "wd": 0.0005}


def test_one_statement_per_query_and_one_for_the_intermediates(notebook_db):
    statements = []
    conn = database.open_readonly(notebook_db).connection()
    conn.set_trace_callback(statements.append)
    try:
        list(query_nds_computed_stats(None, "resnet", None, None, None, None))
        assert len(statements) == 1
        list(query_nds_computed_stats(None, "resnet", None, None, None, None, include_intermediates=True))
        assert len(statements) == 3
    finally:
        conn.set_trace_callback(None)


@pytest.mark.parametrize("args,kwargs,message", [
    (("cell", None, None, None, None, None), {}, "unsupported model_family 'cell'; expected one of ['nas_cell'"),
    ((None, "resnet50", None, None, None, None), {}, "unsupported proposer 'resnet50'; expected one of ['amoeba'"),
    ((None, None, "grid", None, None, None), {}, "unsupported generator 'grid'; expected one of ['random'"),
    ((None, None, None, None, None, "cifar100"), {}, "unsupported dataset 'cifar100'; expected one of ['cifar10'"),
    ((None, None, None, "[1, 2]", None, None), {}, "model_spec must be a dict"),
    ((None, None, None, None, [], None), {}, "cell_spec must be a dict (cell_spec={} for families without cells)"),
    ((None, None, None, None, None, None, 0), {}, "unsupported num_epochs 0; expected a positive number"),
    ((None, None, None, None, None, None), {"reduction": "max"}, "Unsupported reduction: 'max'; expected None"),
])
def test_bad_values_name_the_accepted_ones(notebook_db, args, kwargs, message):
    with pytest.raises(ValueError) as caught:
        next(query_nds_computed_stats(*args, **kwargs))
    assert message in str(caught.value)


# --- NNI's own models read our tables ----------------------------------------------------------------
# The fields as NNI's nds/model.py declares them (nni-reference.md 2.3), with NNI's JSONField settings and
# no table names: peewee derives NNI's from the class names.


def nni_models(db: peewee.SqliteDatabase):
    from playhouse.sqlite_ext import JSONField

    json_field = {"json_dumps": lambda value: json.dumps(value, sort_keys=True)}

    class NdsTrialConfig(peewee.Model):
        model_family = peewee.CharField(max_length=20, index=True)
        model_spec = JSONField(index=True, **json_field)
        cell_spec = JSONField(index=True, null=True, **json_field)
        dataset = peewee.CharField(max_length=15, index=True)
        generator = peewee.CharField(max_length=15, index=True)
        proposer = peewee.CharField(max_length=15, index=True)
        base_lr = peewee.FloatField()
        weight_decay = peewee.FloatField()
        num_epochs = peewee.IntegerField()

        class Meta:
            database = db

    class NdsTrialStats(peewee.Model):
        config = peewee.ForeignKeyField(NdsTrialConfig, backref="trial_stats", index=True)
        seed = peewee.IntegerField()
        final_train_acc = peewee.FloatField()
        final_train_loss = peewee.FloatField(null=True)
        final_test_acc = peewee.FloatField()
        best_train_acc = peewee.FloatField()
        best_train_loss = peewee.FloatField(null=True)
        best_test_acc = peewee.FloatField()
        parameters = peewee.FloatField()
        flops = peewee.FloatField()
        iter_time = peewee.FloatField()

        class Meta:
            database = db

    class NdsIntermediateStats(peewee.Model):
        trial = peewee.ForeignKeyField(NdsTrialStats, backref="intermediates", index=True)
        current_epoch = peewee.IntegerField(index=True)
        train_loss = peewee.FloatField(null=True)
        train_acc = peewee.FloatField()
        test_acc = peewee.FloatField()

        class Meta:
            database = db

    return NdsTrialConfig, NdsTrialStats, NdsIntermediateStats


def nni_query(models, model_family, proposer, generator, model_spec, cell_spec, dataset):
    """NNI's query_nds_trial_stats (v1.8+): equality per given filter, one dict per trial, N+1 intermediates."""
    config, stats, _ = models
    query = stats.select(stats, config).join(config)
    for name, value in (("model_family", model_family), ("proposer", proposer), ("generator", generator),
                        ("model_spec", model_spec), ("cell_spec", cell_spec), ("dataset", dataset)):
        if value is not None:
            query = query.where(getattr(config, name) == value)
    for trial in query:
        data = model_to_dict(trial)
        data["intermediates"] = [{k: v for k, v in model_to_dict(t).items() if k != "trial"}
                                 for t in trial.intermediates]
        yield data


def test_nni_models_read_our_tables_and_agree_with_our_api(notebook_db):
    assert peewee.__version__  # NNI's code targets peewee 3; the fields it uses are the same in 4
    db = peewee.SqliteDatabase(f"file:{notebook_db}?mode=ro", uri=True)
    models = nni_models(db)
    assert [m._meta.table_name for m in models] == ["ndstrialconfig", "ndstrialstats", "ndsintermediatestats"]
    cases = [("residual_bottleneck", None, None, RESNEXT_A_SPEC, None, "cifar10"),
             ("residual_basic", "resnet", "random", RESNET_SPEC, {}, "cifar10"),
             ("nas_cell", None, None, AMOEBA_MODEL_SPEC, amoeba_cell_spec(), None)]
    for case in cases:
        theirs = list(nni_query(models, *case))
        ours = list(query_nds_computed_stats(*case, include_intermediates=True))
        assert len(theirs) == len(ours) == 1, case
        for their, our in zip(theirs, ours):
            assert their["config"] == {k: v for k, v in our["config"].items() if k != "optim"}
            assert {k: v for k, v in their.items() if k not in ("config", "intermediates")} == \
                {k: our[k] for k in their if k not in ("config", "intermediates")}
            assert their["intermediates"] == [{k: row[k] for k in their["intermediates"][0]} for row in our["intermediates"]]
    count = models[1].select().join(models[0]).where(models[0].proposer == "amoeba").count()
    assert count == 5107
    db.close()


# --- the CLI ---------------------------------------------------------------------------------------------


def test_cli_prints_json_lines(notebook_db):
    result = CliRunner().invoke(cli, ["query", "nds", "--family", "residual_basic", "--proposer", "resnet",
                                      "--model-spec", json.dumps(RESNET_SPEC), "--cell-spec", "{}",
                                      "--dataset", "cifar10", "--db", str(notebook_db)])
    assert result.exit_code == 0, result.output
    (line,) = result.output.splitlines()
    row = json.loads(line)
    assert row["final_test_acc"] == pytest.approx(93.49) and row["config"]["model_spec"] == RESNET_SPEC
    mean = CliRunner().invoke(cli, ["query", "nds", "--proposer", "vanilla", "--reduction", "mean", "--intermediates",
                                    "--limit", "2", "--db", str(notebook_db)])
    rows = [json.loads(text) for text in mean.output.splitlines()]
    assert len(rows) == 2 and all(r["id"] is None and len(r["intermediates"]) == 100 for r in rows)


def test_cli_refuses_bad_json_and_says_when_nothing_matched(notebook_db):
    bad = CliRunner().invoke(cli, ["query", "nds", "--model-spec", "{ds: 1}", "--db", str(notebook_db)])
    assert bad.exit_code == 2 and "--model-spec" in bad.output and "not valid JSON" in bad.output
    listed = CliRunner().invoke(cli, ["query", "nds", "--cell-spec", "[]", "--db", str(notebook_db)])
    assert listed.exit_code == 2 and "must be a JSON object" in listed.output
    spec = copy.deepcopy(RESNET_SPEC)
    spec["ds"][0] = 2
    none = CliRunner().invoke(cli, ["query", "nds", "--model-spec", json.dumps(spec), "--db", str(notebook_db)])
    assert none.exit_code == 1
    assert "no results for this architecture with these filters in this DB (real;" in none.output
