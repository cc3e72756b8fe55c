"""Write synthetic NAS-Bench-201 / NATS-tss release files in every input format, at any scale.

``write_fixture(path, fmt, num_archs)`` writes the first ``num_archs`` official architectures
(all 15,625 gives the full v1_1 shape) with values from ``synthetic``, deterministic in ``seed``:

* ``pth-legacy``: torch's legacy ``torch.save`` stream (five back-to-back protocol-2 pickles),
* ``pth-zip``: torch >= 1.6 zip container (``<name>/data.pkl``, ``<name>/version``),
* ``nats-simple``: a ``-simple`` folder (``meta.pickle.pbz2`` + ``{index:06d}.pickle.pbz2``),
* ``nats-single``: one bz2-compressed protocol-4 pickle of everything.

The .pth and single-file objects are written as one pickle with one memo over the whole object,
streamed arch by arch so memory stays bounded at full scale (see ``pickle_writer``); the .pth
pickle is byte for byte what CPython's pickler, hence ``torch.save``, writes (tested).

``build_full_scale_db(path)`` skips the file: full-size synthetic rows straight into a DB.
"""
from __future__ import annotations

import bz2
import gc
import multiprocessing
import os
import pickle
import time
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Iterator

from tqdm import tqdm

from .archs import official_arch_strings
from .convert import ConvertSummary, write_release
from .gcpause import gc_paused
from .numpy_pickle import numpy_globals, real_numpy_names
from .pickle_writer import StreamingPickler
from .records import ArchRows, arch_rows
from .release import Release
from .streamed import TORCH_MAGIC, TORCH_PROTOCOL_VERSION
from .synthetic import arch_results, seed_counts

FORMATS = ("pth-legacy", "pth-zip", "nats-simple", "nats-single")
NUM_ARCHS = 15625
#: NATS per-arch OrderedDict keys and the NB201 .pth per-arch dict keys, in release order.
NATS_HPS = ("12", "200")
PTH_HPS = ("less", "full")


def arch_entries(num_archs: int, seed: int, hps: tuple[str, str]) -> Iterator[tuple[int, dict]]:
    """``(index, {hp: ArchResults state dict})`` for the first ``num_archs`` official archs."""
    arch_strings = official_arch_strings()
    counts = seed_counts(num_archs, seed)
    for index in range(num_archs):
        container = OrderedDict() if hps == NATS_HPS else {}
        for hp in hps:
            container[hp] = arch_results(index, arch_strings[index], hp, counts[index], seed)
        yield index, container


def _meta(num_archs: int, arch2infos, evaluated) -> dict:
    return {"meta_archs": list(official_arch_strings()), "total_archs": NUM_ARCHS,
            "arch2infos": arch2infos, "evaluated_indexes": evaluated}


def _pickle_bz2(obj, path: Path, protocol: int = 4) -> None:
    with numpy_globals():
        data = real_numpy_names(pickle.dumps(obj, protocol=protocol))
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(bz2.compress(data, 9))
    os.replace(tmp, path)


def _write_nats_arch(job: tuple[Path, int, int, int]) -> None:
    folder, num_archs, seed, index = job
    # Regenerating one entry is cheap and keeps the workers' inputs tiny.
    counts = seed_counts(num_archs, seed)
    arch_str = official_arch_strings()[index]
    entry = OrderedDict((hp, arch_results(index, arch_str, hp, counts[index], seed)) for hp in NATS_HPS)
    _pickle_bz2(entry, folder / f"{index:06d}.pickle.pbz2")


def write_nats_simple(folder: Path, num_archs: int, seed: int = 0, progress: bool = False,
                      processes: int | None = None) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _pickle_bz2(_meta(num_archs, None, set()), folder / "meta.pickle.pbz2")
    jobs = [(folder, num_archs, seed, index) for index in range(num_archs)]
    bar = tqdm(total=num_archs, disable=not progress, unit="arch", desc="nats-simple fixture")
    if num_archs < 64:
        for job in jobs:
            _write_nats_arch(job)
            bar.update()
    else:
        with multiprocessing.Pool(processes) as pool:
            for _ in pool.imap_unordered(_write_nats_arch, jobs, chunksize=16):
                bar.update()
    bar.close()
    return folder


def write_nats_single(path: Path, num_archs: int, seed: int = 0, progress: bool = False) -> Path:
    """One bz2 pickle (protocol 4) of ``{meta_archs, total_archs, arch2infos, evaluated_indexes}``."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with bz2.open(tmp, "wb", 9) as out:
        entries = tqdm(arch_entries(num_archs, seed, NATS_HPS), total=num_archs, disable=not progress,
                       unit="arch", desc="nats-single fixture")
        StreamingPickler(out, protocol=4).dump_streaming(_meta(num_archs, None, set(range(num_archs))),
                                                         "arch2infos", entries)
    os.replace(tmp, path)
    return path


TORCH_SYS_INFO = {"protocol_version": TORCH_PROTOCOL_VERSION, "little_endian": True,
                  "type_sizes": {"short": 2, "int": 4, "long": 8}}


def write_pth(path: Path, num_archs: int, seed: int = 0, zip_container: bool = False,
              progress: bool = False) -> Path:
    """What ``torch.save(final_infos, path)`` writes for the NB201 dict (no tensors: weights are cleared).

    Legacy: magic, protocol version and sys_info pickles, the object, then the (empty) list of
    storage keys. Zip (``_use_new_zipfile_serialization``): ``<stem>/data.pkl`` and friends, stored.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    entries = tqdm(arch_entries(num_archs, seed, PTH_HPS), total=num_archs, disable=not progress,
                   unit="arch", desc=("pth-zip" if zip_container else "pth-legacy") + " fixture")
    meta = _meta(num_archs, None, list(range(num_archs)))
    if zip_container:
        archive = path.name.split(".")[0] or "archive"
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as zf:
            with zf.open(f"{archive}/data.pkl", "w", force_zip64=True) as out:
                StreamingPickler(out, protocol=2).dump_streaming(meta, "arch2infos", entries)
            zf.writestr(f"{archive}/byteorder", "little")
            zf.writestr(f"{archive}/version", "3\n")
    else:
        with open(tmp, "wb") as out:
            for header in (TORCH_MAGIC, TORCH_PROTOCOL_VERSION, TORCH_SYS_INFO):
                pickle.dump(header, out, protocol=2)
            StreamingPickler(out, protocol=2).dump_streaming(meta, "arch2infos", entries)
            pickle.dump([], out, protocol=2)
    os.replace(tmp, path)
    return path


def write_fixture(path: Path | str, fmt: str, num_archs: int = NUM_ARCHS, seed: int = 0,
                  progress: bool = False) -> Path:
    """Write ``fmt`` (one of ``FORMATS``) with the first ``num_archs`` archs to ``path``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown fixture format {fmt!r}; expected one of {FORMATS}")
    if not 1 <= num_archs <= NUM_ARCHS:
        raise ValueError(f"num_archs must be in 1..{NUM_ARCHS}, got {num_archs}")
    path = Path(path)
    with gc_paused():
        if fmt == "nats-simple":
            return write_nats_simple(path, num_archs, seed, progress)
        if fmt == "nats-single":
            return write_nats_single(path, num_archs, seed, progress)
        return write_pth(path, num_archs, seed, zip_container=fmt == "pth-zip", progress=progress)


# -- the full-scale DB without a file in between --------------------------------------------------
# ``build_full_scale_db`` gives the full v1_1 row counts (15,625 archs x 4 datasets x 12/200 epochs,
# real seed counts and sparse per-epoch coverage) through the converter's own row code
# (``records.arch_rows``), generating in a process pool: ~75 s instead of writing ~5 GB and
# converting it. For a run through a real file format, ``write_fixture`` and ``convert`` instead.

_counts: list[int] = []


def _init_worker(num_archs: int, seed: int) -> None:
    global _counts
    _counts = seed_counts(num_archs, seed)
    gc.disable()  # see gcpause.py


def _arch_rows(job: tuple[int, int, str]) -> ArchRows:
    index, seed, json_text = job
    arch_str = official_arch_strings()[index]
    results = OrderedDict((hp, arch_results(index, arch_str, hp, _counts[index], seed)) for hp in NATS_HPS)
    return arch_rows(index, arch_str, json_text, results, "synthetic")


class SyntheticRelease(Release):
    """Rows of the first ``num_archs`` archs with ``synthetic`` values, made in a process pool."""

    input_format = "synthetic (no release file)"

    def __init__(self, num_archs: int = NUM_ARCHS, seed: int = 0, processes: int | None = None):
        self.num_archs, self.seed, self.processes = num_archs, seed, processes
        self.arch_strings = list(official_arch_strings())
        self.expected_archs = num_archs

    @property
    def sources(self) -> list[Path]:
        return []

    def extra_metadata(self) -> dict[str, str]:
        return {"generated_by": f"generators.nasbench201.fixtures.build_full_scale_db (seed {self.seed})"}

    def rows(self, arch_jsons: list[str]) -> Iterator[ArchRows]:
        jobs = [(index, self.seed, arch_jsons[index]) for index in range(self.num_archs)]
        with multiprocessing.Pool(self.processes, _init_worker, (self.num_archs, self.seed)) as pool:
            yield from pool.imap(_arch_rows, jobs, chunksize=16)


def build_full_scale_db(output_path: Path | str, num_archs: int = NUM_ARCHS, seed: int = 0,
                        progress: bool = False) -> ConvertSummary:
    """A synthetic DB (``synthetic=true``) with the full v1_1 row counts (``num_archs`` archs)."""
    if not 1 <= num_archs <= NUM_ARCHS:
        raise ValueError(f"num_archs must be in 1..{NUM_ARCHS}, got {num_archs}")
    started = time.perf_counter()
    with gc_paused(), SyntheticRelease(num_archs, seed) as release:
        return write_release(release, Path(output_path).expanduser(), "synthetic", True, progress, started)
