"""Read a NATS-tss ``-simple`` folder: ``meta.pickle.pbz2`` plus one bz2 pickle per architecture.

The per-arch files are independent, so they are decompressed, unpickled and turned into rows in
a process pool (bz2 decompression dominates); the parent only inserts rows. Each file is
decompressed up to a cap far above what a release file holds (a bz2 bomb stops there), and
unpickled with the C unpickler only in pool workers, whose memory is limited (``child_process``);
a worker that crashes on a hostile file makes the conversion fail, it does not wait forever.
"""
from __future__ import annotations

import bz2
import gc
import hashlib
import io
import os
import re
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Iterator

from generators.common import InputError
from generators.common.unpickle import restricted_load

from .child_process import become_reader
from .release import RELEASE_GLOBALS, Release, check_meta_dict
from .rows import ArchRows, arch_rows

META_FILE = "meta.pickle.pbz2"
#: The loader accepts both ``000042.pickle.pbz2`` and ``42.pickle.pbz2``.
_ARCH_FILE = re.compile(r"^(\d+)\.pickle\.pbz2$")
#: Below this many files a pool costs more than it saves.
_POOL_THRESHOLD = 64
#: Most bytes one file may decompress to, ten times the largest real file: ~0.35 MB (an architecture), ~1.6 MB
#: (meta: 15,625 arch strings).
MAX_DECOMPRESSED = 16 << 20
#: Memory a pool worker may use beyond what it has at start (a real file and its rows take a few MB).
_WORKER_MEMORY = 256 << 20
#: Memory one file's unpickling may take in this process (a real file needs a few MB; a pickle of empty
#: dicts builds ~70 bytes per byte, so 16 MB of them would take a gigabyte).
_LOAD_MEMORY = 64 << 20


def load_bz2_pickle(path: Path, fast: bool = False) -> tuple[object, str]:
    """Decompress (at most ``MAX_DECOMPRESSED`` bytes) and unpickle one .pbz2 file; returns the object
    and the file's sha256. ``fast``: the C unpickler (only in a memory-limited worker)."""
    try:
        compressed = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        with bz2.open(io.BytesIO(compressed)) as stream:
            data = stream.read(MAX_DECOMPRESSED + 1)
    except (OSError, ValueError, EOFError) as exc:
        raise InputError(f"{path}: not a valid bz2 file ({exc}); download the file again") from None
    if len(data) > MAX_DECOMPRESSED:
        raise InputError(f"{path}: decompresses to more than {MAX_DECOMPRESSED >> 20} MB, far more than a "
                         "release file holds; not an original release file")
    obj = restricted_load(io.BytesIO(data), RELEASE_GLOBALS, str(path), fast=fast, max_memory=_LOAD_MEMORY)
    return obj, hashlib.sha256(compressed).hexdigest()


_worker_archs: tuple[list[str], list[str]] = ([], [])
_in_pool = False


def _init_worker(arch_strings: list[str], arch_jsons: list[str], parent_pid: int | None = None) -> None:
    global _worker_archs, _in_pool
    _worker_archs = (arch_strings, arch_jsons)
    if parent_pid is not None:
        become_reader(parent_pid, _WORKER_MEMORY)
        _in_pool = True
        gc.disable()  # see generators.common.gc_pause; pool workers only unpickle


def _convert_file(job: tuple[int, Path]) -> tuple[ArchRows, str, str]:
    index, path = job
    hp_results, digest = load_bz2_pickle(path, fast=_in_pool)
    arch_strings, arch_jsons = _worker_archs
    return arch_rows(index, arch_strings[index], arch_jsons[index], hp_results, str(path)), path.name, digest


class NatsSimpleRelease(Release):
    input_format = "nats-simple"

    def __init__(self, folder: Path, processes: int | None = None):
        self.folder = folder
        self.processes = processes
        meta_path = folder / META_FILE
        if not meta_path.is_file():
            raise InputError(f"{folder}: no {META_FILE}; a NATS-tss '-simple' folder holds {META_FILE} and "
                             "one {index:06d}.pickle.pbz2 per architecture")
        meta, _ = load_bz2_pickle(meta_path)
        self.arch_strings = check_meta_dict(meta, str(meta_path))
        self.files = self._arch_files()
        self.expected_archs = len(self.files)
        self._digests: dict[str, str] = {}

    def _arch_files(self) -> list[tuple[int, Path]]:
        files: dict[int, Path] = {}
        for path in self.folder.iterdir():
            match = _ARCH_FILE.match(path.name)
            if not match:
                continue
            index = int(match.group(1))
            if index >= len(self.arch_strings):
                raise InputError(f"{path}: arch index {index} is beyond meta_archs "
                                 f"({len(self.arch_strings)} archs)")
            if index in files:
                raise InputError(f"{path}: arch {index} also has {files[index].name}; keep one of them")
            files[index] = path
        if not files:
            raise InputError(f"{self.folder}: no per-architecture files ({{index:06d}}.pickle.pbz2) next to "
                             f"{META_FILE}")
        return sorted(files.items())

    @property
    def sources(self) -> list[Path]:
        return [self.folder / META_FILE]

    def extra_metadata(self) -> dict[str, str]:
        listing = "".join(f"{name} {digest}\n" for name, digest in sorted(self._digests.items()))
        return {"source_arch_files": str(len(self._digests)),
                "source_arch_files_sha256": hashlib.sha256(listing.encode()).hexdigest()}

    def rows(self, arch_jsons: list[str]) -> Iterator[ArchRows]:
        if len(self.files) < _POOL_THRESHOLD or self.processes == 1:
            _init_worker(self.arch_strings, arch_jsons)
            results = map(_convert_file, self.files)
            yield from self._collect(results)
            return
        pool = ProcessPoolExecutor(self.processes, initializer=_init_worker,
                                   initargs=(self.arch_strings, arch_jsons, os.getpid()))
        try:
            yield from self._collect(pool.map(_convert_file, self.files, chunksize=8))
        except BrokenProcessPool:
            raise InputError(f"{self.folder}: a reader process crashed on one of the per-architecture files "
                             "(a damaged or hostile file); not an original release") from None
        finally:
            # On an error or Ctrl-C, files not yet started are dropped instead of read first.
            pool.shutdown(wait=True, cancel_futures=True)

    def _collect(self, results) -> Iterator[ArchRows]:
        for rows, name, digest in results:
            self._digests[name] = digest
            yield rows
