"""One NDS job record -> the rows of three tables: configuration, trial, per-epoch.

``build_rows(record)`` checks the record and returns ``JobRows(config, trial, epochs)``:
``ConfigRow`` and ``TrialRow`` are named tuples in column order, ``epochs`` a list of plain
tuples ``EpochRow``; the DB writer assigns ids (trial -> config, epoch -> trial). Names and
conversions follow NNI's ``nds/db_gen.py`` (so NNI's models and queries read the tables), with
NNI's two slips fixed: the reduce cell is flattened with its own node count, and the fields NNI
drops are kept.

Configuration identity
----------------------
Re-runs of one configuration (the ``_rng1-3`` and ``_reruns`` files re-train configurations of
the ``random`` sweep with other seeds) become extra trials of one config. ``ConfigRow.key``
identifies a config; it is the JSON text, keys sorted, no spaces, of::

    {"cell_spec": <cell_spec>, "dataset": ..., "generator": ..., "model_family": ...,
     "model_spec": <model_spec>, "optim": <the record's whole optim dict>, "proposer": ...}

i.e. NNI's ``get_or_create`` fields, with the whole ``optim`` dict in place of its
``base_lr``/``wd``/``max_ep``, so two records that differ in any optimiser setting stay apart.
Everything else in a config row is a function of the key. The labels come from the file name, so
a ``_lr-wd`` run (``tune_lr_wd``) is never merged with a ``random`` one even if its spec and
settings match. A config may have two trials with the same seed (the release's seeds per file are
unverified): ``(config, seed)`` is not unique.

Columns (units; "release" = the record's key)
---------------------------------------------
Config (NNI ``NdsTrialConfig``):

* ``model_family``: ``nas_cell`` (the net has a ``genotype``), else from ``net.block_type``:
  ``res_bottleneck*`` -> ``residual_bottleneck``, ``res_basic*`` -> ``residual_basic``,
  ``double_plain*`` -> ``vanilla``.
* ``model_spec``: JSON, sorted keys. ``nas_cell``: ``num_nodes_normal``, ``num_nodes_reduce``
  (nodes per cell = genotype entries / 2), ``depth`` (cells), ``width`` (channels of the first
  stage), ``aux`` (auxiliary head, bool), ``drop_prob`` (drop-path probability). Other families:
  ``net`` minus ``block_type`` minus empty values, as NNI does: ``ds`` (blocks per stage),
  ``ws`` (channels per stage), ``ss`` (stride per stage), and for bottleneck blocks
  ``bot_muls`` (bottleneck width / stage width) and ``num_gs`` (groups); the first stage is the stem.
* ``cell_spec``: JSON, sorted keys; ``{}`` except for ``nas_cell``: for cell ``c`` in
  ``normal``/``reduce``, node ``i`` and its two inputs ``x``/``y``: ``c_i_op_x`` (op name, one of
  ``nasbenchmark.nds.OPS``), ``c_i_input_x`` (int: 0 and 1 are the two previous cells' outputs,
  ``k >= 2`` is node ``k - 2``), and ``c_concat`` (list of the states concatenated as output).
* ``dataset`` (``cifar10``/``imagenet``), ``generator`` (``random``/``fix_w_d``/``tune_lr_wd``),
  ``proposer``: from the file name (``nasbenchmark.nds.SWEEP_FILES``).
* ``base_lr`` (release ``optim.base_lr``), ``weight_decay`` (``optim.wd``), ``num_epochs``
  (``optim.max_ep``, the cosine schedule's length in epochs).
* ``optim`` (ours): the release's whole ``optim`` dict, JSON, sorted keys.
* ``key`` (ours): the identity above.

Trial (NNI ``NdsTrialStats``), one per record:

* ``seed``: release ``rng_seed``.
* ``final_train_acc``, ``final_test_acc``: percent, ``100 - train_ep_top1[-1]`` /
  ``100 - test_ep_top1[-1]`` (the release stores top-1 error in percent).
* ``best_train_acc``, ``best_test_acc``: percent, the highest accuracy over the epochs.
* ``final_train_loss``, ``best_train_loss``: cross-entropy of the last epoch / the lowest over the
  epochs; NULL where the release has ``NaN``/``Infinity`` (diverged runs).
* ``parameters``: millions (``params / 1e6``); ``flops``: millions of FLOPs (``flops / 1e6``).
* ``iter_time``: seconds per training iteration.
* ``reported_best_test_acc`` (ours): percent, ``100 - min_test_top1``, the release's own best test
  error (the paper's metric); NULL if absent. Equal to ``best_test_acc`` unless the release
  computed it differently (unverified).
* ``prec_time`` (ours): seconds, as released (pycls timing; missing in some ``_in`` files -> NULL).
* ``exp_mem``, ``act_mem`` (ours): memory statistics as released (unit unverified); NULL if absent.
* ``job_id`` (ours): the release's job id (integer or text, as released); NULL if absent.
* ``sweep`` (ours): the file the record came from, without ``.json`` (``ResNet_rng1``).
* ``rerun_group`` (ours): ``top``/``mid`` for the two lists of a ``_reruns`` file, else NULL.

Per-epoch (NNI ``NdsIntermediateStats``), ``num_epochs`` rows per trial:

* ``current_epoch``: 1-based.
* ``train_loss``: ``train_ep_loss[epoch - 1]``, NULL for ``NaN``/``Infinity``.
* ``train_acc``, ``test_acc``: percent, ``100 -`` the epoch's top-1 error.

Checks: every per-epoch list has ``optim.max_ep`` entries; accuracies lie in [0, 100]; losses,
times, memory, parameters and FLOPs are >= 0; genotype ops are known and inputs in range; an
unknown ``block_type`` or key fails. Per-iteration curves (``train_it_*``) are not stored.
"""
from __future__ import annotations

import functools
import json
import math
from typing import NamedTuple, Optional, Union

from generators.common import InputError
from nasbenchmark.nds.constants import (MAX_EPOCHS, NAS_CELL, OPS, RESIDUAL_BASIC, RESIDUAL_BOTTLENECK,
                                        SWEEP_FILES, VANILLA)

from .reader import JobRecord

_REQUIRED_KEYS = ("rng_seed", "net", "optim", "params", "flops", "iter_time",
                  "train_ep_loss", "train_ep_top1", "test_ep_top1")
_OPTIONAL_KEYS = ("job_id", "exp_mem", "act_mem", "prec_time", "min_test_top1", "train_it_loss", "train_it_top1")
_RECORD_KEYS = frozenset(_REQUIRED_KEYS + _OPTIONAL_KEYS)
_CELL_NET_KEYS = frozenset({"genotype", "width", "depth", "aux", "drop_prob"})
_ANYNET_KEYS = frozenset({"block_type", "ds", "ws", "ss", "bot_muls", "num_gs"})
_GENOTYPE_KEYS = frozenset({"normal", "normal_concat", "reduce", "reduce_concat"})
#: ``net.block_type`` prefix -> model family (NNI's mapping).
BLOCK_TYPE_FAMILIES = {"res_bottleneck": RESIDUAL_BOTTLENECK, "res_basic": RESIDUAL_BASIC, "double_plain": VANILLA}
_OP_SET = frozenset(OPS)
_FIX = "not a record of the NDS release; re-extract data.zip"

Number = Union[int, float]


class ConfigRow(NamedTuple):
    model_family: str
    model_spec: str
    cell_spec: str
    dataset: str
    generator: str
    proposer: str
    base_lr: float
    weight_decay: float
    num_epochs: int
    optim: str
    key: str


class TrialRow(NamedTuple):
    seed: int
    final_train_acc: Optional[float]
    final_train_loss: Optional[float]
    final_test_acc: Optional[float]
    best_train_acc: Optional[float]
    best_train_loss: Optional[float]
    best_test_acc: Optional[float]
    parameters: float
    flops: float
    iter_time: Optional[float]
    reported_best_test_acc: Optional[float]
    prec_time: Optional[float]
    exp_mem: Optional[float]
    act_mem: Optional[float]
    job_id: Union[int, str, None]
    sweep: str
    rerun_group: Optional[str]


#: ``(current_epoch, train_loss, train_acc, test_acc)``
EpochRow = tuple


class JobRows(NamedTuple):
    config: ConfigRow
    trial: TrialRow
    epochs: list


def build_rows(record: JobRecord) -> JobRows:
    """The config, trial and per-epoch rows of one record; ``InputError`` naming the record and key if bad."""
    data, where = record.data, record.where
    unknown = sorted(set(data) - _RECORD_KEYS)
    if unknown:
        raise InputError(f"{where}: unknown key {unknown[0]!r}; a job record has the keys "
                         f"{sorted(_RECORD_KEYS)}; {_FIX}")
    missing = [key for key in _REQUIRED_KEYS if key not in data]
    if missing:
        raise InputError(f"{where}: key {missing[0]!r} missing; every job record has {list(_REQUIRED_KEYS)}; {_FIX}")
    labels = SWEEP_FILES[record.file]
    net = data["net"]
    if not isinstance(net, dict):
        raise _bad(where, "net", f"must be a dict, got {type(net).__name__}")
    if "genotype" in net:
        family, model_spec, cell_spec = NAS_CELL, *_cell_specs(net, where)
    else:
        family, model_spec = _anynet_spec(net, where)
        cell_spec = {}
    optim = data["optim"]
    if not isinstance(optim, dict):
        raise _bad(where, "optim", f"must be a dict, got {type(optim).__name__}")
    base_lr = _number(optim.get("base_lr"), where, "optim.base_lr")
    weight_decay = _number(optim.get("wd"), where, "optim.wd")
    num_epochs = optim.get("max_ep")
    if type(num_epochs) is not int or not 1 <= num_epochs <= MAX_EPOCHS:
        raise _bad(where, "optim.max_ep", f"must be an integer number of epochs in 1..{MAX_EPOCHS}, got {num_epochs!r}")

    train_errors, test_errors, losses = data["train_ep_top1"], data["test_ep_top1"], data["train_ep_loss"]
    for key, values in (("train_ep_top1", train_errors), ("test_ep_top1", test_errors), ("train_ep_loss", losses)):
        if not isinstance(values, list):
            raise _bad(where, key, f"must be a list with one value per epoch, got {type(values).__name__}")
    if not len(train_errors) == len(test_errors) == len(losses) == num_epochs:
        raise InputError(f"{where}: mismatched epoch counts: train_ep_top1 has {len(train_errors)} values, "
                         f"test_ep_top1 {len(test_errors)}, train_ep_loss {len(losses)}, but optim.max_ep is "
                         f"{num_epochs}; each per-epoch list has max_ep values; {_FIX}")
    for key in ("train_it_loss", "train_it_top1"):
        if key in data and not isinstance(data[key], list):
            raise _bad(where, key, f"must be a list, got {type(data[key]).__name__}")
    train_acc = _accuracies(train_errors, where, "train_ep_top1")
    test_acc = _accuracies(test_errors, where, "test_ep_top1")
    losses = _losses(losses, where)

    model_spec_json, cell_spec_json, optim_json = _canonical(model_spec), _canonical(cell_spec), _canonical(optim)
    config = ConfigRow(
        model_family=family, model_spec=model_spec_json, cell_spec=cell_spec_json, dataset=labels.dataset,
        generator=labels.generator, proposer=labels.proposer, base_lr=base_lr, weight_decay=weight_decay,
        num_epochs=num_epochs, optim=optim_json,
        key=identity_key(family, labels.proposer, labels.generator, labels.dataset,
                         model_spec_json, cell_spec_json, optim_json))
    min_test_top1 = _number(data.get("min_test_top1"), where, "min_test_top1", maximum=100.0, optional=True)
    trial = TrialRow(
        seed=_seed(data["rng_seed"], where),
        final_train_acc=train_acc[-1], final_train_loss=losses[-1], final_test_acc=test_acc[-1],
        best_train_acc=_best(train_acc, max), best_train_loss=_best(losses, min), best_test_acc=_best(test_acc, max),
        parameters=_number(data["params"], where, "params") / 1e6,
        flops=_number(data["flops"], where, "flops") / 1e6,
        iter_time=_number(data["iter_time"], where, "iter_time", optional=True),
        reported_best_test_acc=None if min_test_top1 is None else 100 - min_test_top1,
        prec_time=_number(data.get("prec_time"), where, "prec_time", optional=True),
        exp_mem=_number(data.get("exp_mem"), where, "exp_mem", optional=True),
        act_mem=_number(data.get("act_mem"), where, "act_mem", optional=True),
        job_id=_job_id(data.get("job_id"), where),
        sweep=record.file[:-len(".json")], rerun_group=record.group)
    return JobRows(config, trial, list(zip(range(1, num_epochs + 1), losses, train_acc, test_acc)))


def identity_key(model_family: str, proposer: str, generator: str, dataset: str,
                 model_spec_json: str, cell_spec_json: str, optim_json: str) -> str:
    """The config identity (module doc): the same text as ``json.dumps`` of the identity dict with
    sorted keys and no spaces, assembled from the parts' canonical JSON instead of encoding them twice."""
    return (f'{{"cell_spec":{cell_spec_json},"dataset":{_json_string(dataset)},'
            f'"generator":{_json_string(generator)},"model_family":{_json_string(model_family)},'
            f'"model_spec":{model_spec_json},"optim":{optim_json},"proposer":{_json_string(proposer)}}}')


# The labels are a few dozen constants: encode each once.
_json_string = functools.lru_cache(maxsize=64)(json.dumps)


def _canonical(value) -> str:
    """JSON with sorted keys and no spaces: the text NNI's JSONField stores (SQLite ``json()`` minifies)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _bad(where: str, key: str, problem: str) -> InputError:
    return InputError(f"{where}: key {key!r} {problem}; {_FIX}")


def _number(value, where: str, key: str, *, maximum: Optional[float] = None, optional: bool = False):
    """A finite number >= 0 (and <= ``maximum``); None only if ``optional`` (absent, or NaN in the release)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _bad(where, key, f"must be a finite number, got {value!r}")
    if value < 0 or (maximum is not None and value > maximum):
        bounds = f"0..{maximum:g}" if maximum is not None else ">= 0"
        raise _bad(where, key, f"= {value} is outside {bounds}")
    return value


def _seed(value, where: str) -> int:
    if type(value) is not int:
        raise _bad(where, "rng_seed", f"must be an integer, got {value!r}")
    return value


def _job_id(value, where: str):
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, str))):
        raise _bad(where, "job_id", f"must be an integer or a string, got {value!r}")
    return value


def _accuracies(errors: list, where: str, key: str) -> list:
    """Per-epoch top-1 errors (percent) -> accuracies ``100 - error``; None (NaN in the release) stays None."""
    has_none = None in errors
    present = [error for error in errors if error is not None] if has_none else errors
    try:
        in_range = not present or (0 <= min(present) and max(present) <= 100)
    except TypeError:
        in_range = False
    if not in_range:
        epoch, value = next((i, e) for i, e in enumerate(errors, 1) if e is not None and (
            isinstance(e, bool) or not isinstance(e, (int, float)) or not 0 <= e <= 100))
        raise _bad(where, key, f"epoch {epoch}: {value!r} is not a top-1 error in percent (0..100)")
    if has_none:
        return [None if error is None else 100 - error for error in errors]
    return [100 - error for error in errors]


def _losses(losses: list, where: str) -> list:
    """Per-epoch training losses; None (NaN / Infinity in the release) and overflowed ``1e999`` become None."""
    present = [loss for loss in losses if loss is not None] if None in losses else losses
    try:
        valid = not present or min(present) >= 0
        finite = not present or max(present) < math.inf
    except TypeError:
        valid = finite = False
    if not valid:
        epoch, value = next((i, v) for i, v in enumerate(losses, 1) if v is not None and (
            isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0))
        raise _bad(where, "train_ep_loss", f"epoch {epoch}: {value!r} is not a loss (a number >= 0)")
    if present is losses and finite:
        return losses
    return [loss if loss is not None and loss < math.inf else None for loss in losses]


def _best(values: list, pick) -> Optional[float]:
    present = [value for value in values if value is not None] if None in values else values
    return pick(present) if present else None


def _cell_specs(net: dict, where: str) -> tuple[dict, dict]:
    """(model_spec, cell_spec) of a NAS-cell net, as NNI builds them."""
    _check_keys(net, _CELL_NET_KEYS, _CELL_NET_KEYS, where, "net")
    genotype = net["genotype"]
    if not isinstance(genotype, dict):
        raise _bad(where, "net.genotype", f"must be a dict, got {type(genotype).__name__}")
    _check_keys(genotype, _GENOTYPE_KEYS, _GENOTYPE_KEYS, where, "net.genotype")
    cell_spec: dict = {}
    num_nodes = {}
    for cell in ("normal", "reduce"):
        num_nodes[cell] = _flatten_cell(genotype, cell, cell_spec, where)
    for key in ("depth", "width"):
        if type(net[key]) is not int or net[key] < 1:
            raise _bad(where, f"net.{key}", f"must be a positive integer, got {net[key]!r}")
    if type(net["aux"]) is not bool:
        raise _bad(where, "net.aux", f"must be true or false, got {net['aux']!r}")
    _number(net["drop_prob"], where, "net.drop_prob", maximum=1.0)
    model_spec = {"num_nodes_normal": num_nodes["normal"], "num_nodes_reduce": num_nodes["reduce"],
                  "depth": net["depth"], "width": net["width"], "aux": net["aux"], "drop_prob": net["drop_prob"]}
    return model_spec, cell_spec


def _flatten_cell(genotype: dict, cell: str, cell_spec: dict, where: str) -> int:
    """Add ``cell``'s ``<cell>_<i>_op_<x|y>``, ``_input_`` and ``_concat`` keys; return its node count."""
    edges = genotype[cell]
    if not isinstance(edges, list) or not edges or len(edges) % 2:
        raise _bad(where, f"net.genotype.{cell}", "must be a non-empty list of [op, input] pairs, two per node")
    num_nodes = len(edges) // 2
    for node in range(num_nodes):
        for side, edge in zip("xy", edges[2 * node:2 * node + 2]):
            key = f"net.genotype.{cell}[{2 * node + (side == 'y')}]"
            if not isinstance(edge, list) or len(edge) != 2:
                raise _bad(where, key, f"must be an [op, input] pair, got {edge!r}")
            op, source = edge
            if op not in _OP_SET:
                raise _bad(where, key, f"has unknown op {op!r}; the release's ops are {OPS}")
            if type(source) is not int or not 0 <= source <= node + 1:
                raise _bad(where, key, f"input {source!r} of node {node} must be an integer in 0..{node + 1} "
                                       "(0, 1: previous cells; k >= 2: node k - 2)")
            cell_spec[f"{cell}_{node}_op_{side}"] = op
            cell_spec[f"{cell}_{node}_input_{side}"] = source
    concat = genotype[f"{cell}_concat"]
    if not isinstance(concat, list) or not concat or any(
            type(state) is not int or not 0 <= state <= num_nodes + 1 for state in concat):
        raise _bad(where, f"net.genotype.{cell}_concat",
                   f"must be a non-empty list of states in 0..{num_nodes + 1}, got {concat!r}")
    cell_spec[f"{cell}_concat"] = concat
    return num_nodes


def _anynet_spec(net: dict, where: str) -> tuple[str, dict]:
    """(model_family, model_spec) of a ResNet / ResNeXt / Vanilla net, as NNI builds them."""
    _check_keys(net, _ANYNET_KEYS, {"block_type", "ds", "ws", "ss"}, where, "net")
    block_type = net["block_type"]
    family = next((family for prefix, family in BLOCK_TYPE_FAMILIES.items()
                   if isinstance(block_type, str) and block_type.startswith(prefix)), None)
    if family is None:
        raise _bad(where, "net.block_type", f"= {block_type!r} is unknown; expected a name starting with one of "
                                            f"{list(BLOCK_TYPE_FAMILIES)} (or a net with a 'genotype')")
    num_stages = len(net["ds"]) if isinstance(net["ds"], list) else 0
    for key, minimum, kind in (("ds", 1, int), ("ws", 1, int), ("ss", 1, int),
                               ("bot_muls", 0, (int, float)), ("num_gs", 1, int)):
        values = net.get(key)
        if key in ("bot_muls", "num_gs") and not values:
            if family == RESIDUAL_BOTTLENECK:
                raise _bad(where, f"net.{key}", f"missing: {block_type} blocks need one value per stage")
            continue
        if not isinstance(values, list) or not values or len(values) != num_stages or any(
                isinstance(v, bool) or not isinstance(v, kind) or not v >= minimum for v in values):
            raise _bad(where, f"net.{key}", f"must list one number >= {minimum} per stage (as many as net.ds), "
                                            f"got {values!r}")
    # NNI keeps the truthy values only: null / [] bot_muls and num_gs of basic and plain blocks go.
    return family, {key: value for key, value in net.items() if value and key != "block_type"}


def _check_keys(mapping: dict, allowed: frozenset, required, where: str, name: str) -> None:
    unknown = sorted(set(mapping) - allowed)
    missing = sorted(set(required) - set(mapping))
    if unknown or missing:
        problem = f"unknown key {unknown[0]!r}" if unknown else f"key {missing[0]!r} missing"
        raise InputError(f"{where}: {name}: {problem}; it has the keys {sorted(allowed)}; {_FIX}")
