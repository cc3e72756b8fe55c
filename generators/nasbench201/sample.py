"""A small synthetic NB201 DB for demos and tests: a fixture written to a temp dir, then converted."""
from __future__ import annotations

import tempfile
from pathlib import Path

from .convert import ConvertSummary, convert
from .fixtures import write_fixture

#: 300 archs x 4 datasets x {12, 200} epochs: ~2,400 configs, ~4,700 trials, ~0.9 M per-epoch rows.
SAMPLE_ARCHS = 300


def build_sample_db(output_path: Path | str, num_archs: int = SAMPLE_ARCHS, seed: int = 0,
                    progress: bool = False) -> ConvertSummary:
    """Write a NATS-tss '-simple' fixture of the first ``num_archs`` archs and convert it (synthetic=True)."""
    with tempfile.TemporaryDirectory(prefix="nb201-sample-") as tmp:
        folder = write_fixture(Path(tmp) / "NATS-tss-sample-simple", "nats-simple", num_archs, seed)
        return convert(folder, output_path, progress=progress, synthetic=True)
