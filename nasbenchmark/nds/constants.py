"""NDS ("On Network Design Spaces for Visual Recognition") constants with NNI's names.

The op names are the strings of the NAS-cell genotypes in the release; ``SWEEP_FILES`` lists the
34 JSON files of ``data.zip`` in the order NNI's converter reads them, each with the labels NNI
derives from the file name:

* ``proposer``: the name up to the first ``_``, lower-cased (``ResNeXt-A_in.json`` -> ``resnext-a``),
* ``generator``: ``fix_w_d`` if the name has ``fix-w-d``, ``tune_lr_wd`` if it has ``lr-wd``, else
  ``random`` (so the ``_rng1-3`` and ``_reruns`` files, which re-train configurations of the
  ``random`` sweep with other seeds, share its label),
* ``dataset``: ``imagenet`` if the name has ``_in``, else ``cifar10``.

The model family is not in the file name: it comes from each record's ``net``.
"""
from typing import NamedTuple

NONE = "none"
SKIP_CONNECT = "skip_connect"
AVG_POOL_3X3 = "avg_pool_3x3"
MAX_POOL_3X3 = "max_pool_3x3"
MAX_POOL_5X5 = "max_pool_5x5"
MAX_POOL_7X7 = "max_pool_7x7"
CONV_1X1 = "conv_1x1"
CONV_3X3 = "conv_3x3"
CONV_3X1_1X3 = "conv_3x1_1x3"
CONV_7X1_1X7 = "conv_7x1_1x7"
DIL_CONV_3X3 = "dil_conv_3x3"
DIL_CONV_5X5 = "dil_conv_5x5"
SEP_CONV_3X3 = "sep_conv_3x3"
SEP_CONV_5X5 = "sep_conv_5x5"
SEP_CONV_7X7 = "sep_conv_7x7"
DIL_SEP_CONV_3X3 = "dil_sep_conv_3x3"

#: Every op a NAS-cell genotype of the release may use (the union of the five cell design spaces).
OPS = [NONE, SKIP_CONNECT, AVG_POOL_3X3, MAX_POOL_3X3, MAX_POOL_5X5, MAX_POOL_7X7, CONV_1X1, CONV_3X3,
       CONV_3X1_1X3, CONV_7X1_1X7, DIL_CONV_3X3, DIL_CONV_5X5, SEP_CONV_3X3, SEP_CONV_5X5, SEP_CONV_7X7,
       DIL_SEP_CONV_3X3]

NAS_CELL = "nas_cell"
RESIDUAL_BOTTLENECK = "residual_bottleneck"
RESIDUAL_BASIC = "residual_basic"
VANILLA = "vanilla"
MODEL_FAMILIES = [NAS_CELL, RESIDUAL_BOTTLENECK, RESIDUAL_BASIC, VANILLA]

PROPOSERS = ["amoeba", "darts", "enas", "nasnet", "pnas", "resnext-a", "resnext-b", "resnet-b", "resnet", "vanilla"]
GENERATORS = ["random", "fix_w_d", "tune_lr_wd"]
DATASETS = ["cifar10", "imagenet"]


class SweepLabels(NamedTuple):
    """What a release file's name says about every record in it."""
    proposer: str
    generator: str
    dataset: str


_C10, _IN = "cifar10", "imagenet"
_RANDOM, _FIX, _TUNE = "random", "fix_w_d", "tune_lr_wd"

#: The 34 files of the release -> their labels, in NNI's processing order.
SWEEP_FILES = {
    "Amoeba.json": SweepLabels("amoeba", _RANDOM, _C10),
    "Amoeba_in.json": SweepLabels("amoeba", _RANDOM, _IN),
    "DARTS.json": SweepLabels("darts", _RANDOM, _C10),
    "DARTS_fix-w-d.json": SweepLabels("darts", _FIX, _C10),
    "DARTS_in.json": SweepLabels("darts", _RANDOM, _IN),
    "DARTS_lr-wd.json": SweepLabels("darts", _TUNE, _C10),
    "DARTS_lr-wd_in.json": SweepLabels("darts", _TUNE, _IN),
    "ENAS.json": SweepLabels("enas", _RANDOM, _C10),
    "ENAS_fix-w-d.json": SweepLabels("enas", _FIX, _C10),
    "ENAS_in.json": SweepLabels("enas", _RANDOM, _IN),
    "NASNet.json": SweepLabels("nasnet", _RANDOM, _C10),
    "NASNet_in.json": SweepLabels("nasnet", _RANDOM, _IN),
    "PNAS.json": SweepLabels("pnas", _RANDOM, _C10),
    "PNAS_fix-w-d.json": SweepLabels("pnas", _FIX, _C10),
    "PNAS_in.json": SweepLabels("pnas", _RANDOM, _IN),
    "ResNeXt-A.json": SweepLabels("resnext-a", _RANDOM, _C10),
    "ResNeXt-A_in.json": SweepLabels("resnext-a", _RANDOM, _IN),
    "ResNeXt-B.json": SweepLabels("resnext-b", _RANDOM, _C10),
    "ResNeXt-B_in.json": SweepLabels("resnext-b", _RANDOM, _IN),
    "ResNet-B.json": SweepLabels("resnet-b", _RANDOM, _C10),
    "ResNet.json": SweepLabels("resnet", _RANDOM, _C10),
    "ResNet_lr-wd.json": SweepLabels("resnet", _TUNE, _C10),
    "ResNet_lr-wd_in.json": SweepLabels("resnet", _TUNE, _IN),
    "ResNet_reruns.json": SweepLabels("resnet", _RANDOM, _C10),
    "ResNet_rng1.json": SweepLabels("resnet", _RANDOM, _C10),
    "ResNet_rng2.json": SweepLabels("resnet", _RANDOM, _C10),
    "ResNet_rng3.json": SweepLabels("resnet", _RANDOM, _C10),
    "Vanilla.json": SweepLabels("vanilla", _RANDOM, _C10),
    "Vanilla_lr-wd.json": SweepLabels("vanilla", _TUNE, _C10),
    "Vanilla_lr-wd_in.json": SweepLabels("vanilla", _TUNE, _IN),
    "Vanilla_reruns.json": SweepLabels("vanilla", _RANDOM, _C10),
    "Vanilla_rng1.json": SweepLabels("vanilla", _RANDOM, _C10),
    "Vanilla_rng2.json": SweepLabels("vanilla", _RANDOM, _C10),
    "Vanilla_rng3.json": SweepLabels("vanilla", _RANDOM, _C10),
}


class DesignSpace(NamedTuple):
    """One design space of the release: the configurations that share (proposer, generator, dataset).

    ``name`` is the stem of the release file that samples it (``DARTS_lr-wd_in``); the ``_rng1-3`` and
    ``_reruns`` files re-train configurations of the ``random`` space of their proposer and add none.
    """
    id: int
    name: str
    proposer: str
    generator: str
    dataset: str


def _design_spaces() -> tuple[DesignSpace, ...]:
    spaces: dict[SweepLabels, DesignSpace] = {}
    for file_name, labels in SWEEP_FILES.items():
        if labels not in spaces:
            spaces[labels] = DesignSpace(len(spaces) + 1, file_name[:-len(".json")], *labels)
    return tuple(spaces.values())


#: The 26 design spaces, numbered in NNI's file order (``ndsdesignspace.id``).
DESIGN_SPACES = _design_spaces()

#: Longest schedule a converter accepts (the release trains 100 epochs on CIFAR-10, fewer on ImageNet).
MAX_EPOCHS = 1000

DB_FILENAME = "nds.db"
GENERATE_COMMAND = "nasbenchmark generate nds --input PATH"
