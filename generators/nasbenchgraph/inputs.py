"""Find the ``.bench`` files to convert: the installed package, folders or single files."""
from __future__ import annotations

import importlib.metadata
import importlib.util
import os
from pathlib import Path
from typing import Iterable

from generators.common import InputError
from nasbenchmark.nasbenchgraph.constants import DATASETS

PACKAGE = "nas_bench_graph"
DISTRIBUTION = "nas-bench-graph"
_INSTALL_HINT = "pip install nas-bench-graph==1.4.0, or pass --input with the .bench files or their folder"


def installed_light_dir() -> Path:
    """The ``light/`` folder of the installed ``nas_bench_graph`` package, found without importing it.

    ``find_spec`` of a top-level package only locates it; the package's code (which imports
    ``random``, reads files, etc.) never runs.
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"the {DISTRIBUTION} package is not installed; {_INSTALL_HINT}")
    for location in spec.submodule_search_locations:
        light = Path(location) / "light"
        if light.is_dir():
            return light
    raise InputError(f"the installed {DISTRIBUTION} package has no light/ folder; reinstall it or {_INSTALL_HINT}")


def installed_version() -> str:
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def resolve_inputs(inputs: str | Path | Iterable[str | Path] | None) -> dict[str, Path]:
    """Dataset name -> ``.bench`` file, in the paper's dataset order.

    ``inputs``: None (the installed package), or paths: a ``.bench`` file named after its dataset,
    or a folder holding such files directly or in a ``light/`` subfolder (the package's layout).
    """
    if inputs is None:
        paths = [installed_light_dir()]
    elif isinstance(inputs, (str, Path)):
        paths = [Path(inputs)]
    else:
        paths = [Path(p) for p in inputs] or [installed_light_dir()]
    files: list[Path] = []
    for path in paths:
        path = path.expanduser()
        if path.is_dir():
            folder = path / "light" if (path / "light").is_dir() else path
            found = sorted(folder.glob("*.bench"))
            if not found:
                raise InputError(f"{path}: no .bench files here or in {path / 'light'}; pass the nas_bench_graph "
                                 "package folder, its light/ folder or the .bench files")
            files.extend(map(_regular_file, found))
        else:
            files.append(_regular_file(path))
    by_dataset: dict[str, Path] = {}
    for file in files:
        dataset = file.name.split(".")[0]
        if dataset not in DATASETS:
            raise InputError(f"{file}: unknown dataset {dataset!r} (taken from the file name); expected "
                             f"<dataset>.bench with dataset one of {DATASETS}")
        if dataset in by_dataset and by_dataset[dataset].resolve() != file.resolve():
            raise InputError(f"{file}: dataset {dataset!r} given twice (also {by_dataset[dataset]}); pass each once")
        by_dataset[dataset] = file
    return {dataset: by_dataset[dataset] for dataset in DATASETS if dataset in by_dataset}


def _regular_file(path: Path) -> Path:
    """``path`` when it is a regular file (or a link to one); InputError saying what it is otherwise."""
    if path.is_file():
        return path
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a .bench file; remove or rename it, or pass the .bench files")
    if path.is_symlink():
        raise InputError(f"{path}: a symbolic link that loops or leads nowhere (-> {os.readlink(path)}); "
                         "fix or remove the link")
    if path.exists():      # a FIFO or a device: reading it could block or never end
        raise InputError(f"{path}: not a regular file; pass the .bench files")
    raise InputError(f"{path}: no such file or folder")
