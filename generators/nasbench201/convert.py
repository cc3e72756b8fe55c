"""``convert(input, output)``: any NB201 / NATS-tss release -> the nasbenchmark SQLite DB."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from generators.common import InputError, atomic_database, write_metadata

from .dbwriter import Nb201Writer
from .detect import open_release
from .gcpause import gc_paused
from .release import Release


@dataclass(frozen=True)
class ConvertSummary:
    input_format: str
    archs: int
    configs: int
    trials: int
    per_epoch_rows: int
    seconds: float

    def __str__(self) -> str:
        return (f"{self.input_format}: {self.archs:,} archs, {self.configs:,} configs, {self.trials:,} trials, "
                f"{self.per_epoch_rows:,} per-epoch rows in {self.seconds:.1f} s")


def convert(input_path: Path | str, output_path: Path | str, progress: bool = True,
            synthetic: bool = False) -> ConvertSummary:
    """Convert a NAS-Bench-201 .pth (legacy or zip), a NATS-tss '-simple' folder or the single NATS-tss
    .pickle.pbz2 into ``output_path`` (written atomically; an existing file is replaced only on success).

    Raises ``InputError`` (one line naming the file and the fix) for anything that is not such a release.
    """
    started = time.perf_counter()
    input_path, output_path = Path(input_path).expanduser(), Path(output_path).expanduser()
    if output_path.is_dir():
        raise InputError(f"{output_path}: is a folder; --output must be a .db file path")
    if output_path.exists() and input_path.exists() and output_path.resolve() == input_path.resolve():
        raise InputError(f"{output_path}: output would overwrite the input; choose another --output")
    with gc_paused(), open_release(input_path) as release:
        return write_release(release, output_path, str(input_path), synthetic, progress, started)


def write_release(release: Release, output_path: Path, source: str, synthetic: bool, progress: bool,
                  started: float) -> ConvertSummary:
    """Write every row of an opened ``release`` to a new DB at ``output_path`` (atomically)."""
    with atomic_database(output_path) as conn:
        writer = Nb201Writer(conn, source)
        arch_jsons = writer.add_archs(release.arch_strings)
        bar = tqdm(release.rows(arch_jsons), total=release.expected_archs, disable=not progress,
                   unit="arch", desc=f"nb201 {release.input_format}")
        for rows in bar:
            writer.add(rows)
        bar.close()
        counts = writer.finish()
        if counts.trials == 0:
            raise InputError(f"{source}: contains no training results")
        write_metadata(conn, benchmark="nb201", sources=release.sources, synthetic=synthetic,
                       input_format=release.input_format,
                       valid_acc_cifar10="NULL: cifar10 has no validation split",
                       **release.extra_metadata())
    return ConvertSummary(release.input_format, counts.archs, counts.configs, counts.trials, counts.epochs,
                          time.perf_counter() - started)
