"""TFRecord framing without TensorFlow: every record's payload, both masked CRC-32C checks done.

A TFRecord file is records back to back, no header: ``uint64 length`` (little-endian), ``uint32``
masked CRC-32C of those 8 bytes, ``length`` payload bytes, ``uint32`` masked CRC-32C of the payload.
The file is read in large blocks (one system call per ``BLOCK_BYTES``); the CRCs come from the ``crc32c``
package (hardware CRC32 instructions), since a Python CRC would take half an hour on the 2 GB release.
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Iterator

from crc32c import crc32c

from generators.common import InputError

#: No NAS-Bench-101 record is much over 500 bytes; a larger length means a corrupt or foreign file,
#: and refusing it bounds what one record can make us allocate.
MAX_RECORD_BYTES = 64 * 1024
BLOCK_BYTES = 16 * 1024 * 1024
_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")
_LARGEST_RECORD = _HEADER.size + MAX_RECORD_BYTES + _FOOTER.size
_MASK_DELTA = 0xA282EAD8
_FIX = "the file is damaged or not a TFRecord file: download it again and compare its sha256 with the nasbench README"


def masked_crc32c(data: bytes | memoryview) -> int:
    """TensorFlow's masked CRC-32C: the CRC rotated right by 15 bits plus a constant (mod 2^32)."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def iter_tfrecords(path: Path | str) -> Iterator[tuple[int, int, bytes]]:
    """``(byte offset, record number, payload)`` of every record, numbers from 0, in file order.

    Raises ``InputError`` naming the file, offset and record number for a CRC mismatch, a truncated
    header or payload, or a length over ``MAX_RECORD_BYTES``.
    """
    path = Path(path)
    # One buffer for the whole file: the unread tail moves to its front and the next block is read in
    # behind it, so memory stays at one block (plus room for a whole record) however large the file.
    buffer = bytearray(BLOCK_BYTES + _LARGEST_RECORD)
    view = memoryview(buffer)
    position = filled = buffer_offset = number = 0
    at_end = False
    with open(path, "rb", buffering=0) as file:
        while True:
            while not at_end and filled - position < _LARGEST_RECORD:
                rest = filled - position
                buffer[:rest] = buffer[position:filled]
                buffer_offset += position
                position = 0
                count = file.readinto(view[rest:])
                at_end = count == 0
                filled = rest + count
            available = filled - position
            if available == 0:
                return
            offset = buffer_offset + position
            if available < _HEADER.size:
                raise _error(path, number, offset, f"truncated record header ({available} of {_HEADER.size} "
                                                   "bytes at the end of the file)")
            length, length_crc = _HEADER.unpack_from(buffer, position)
            crc = crc32c(view[position:position + 8])  # masked_crc32c inlined: twice per record, 5 million records
            if (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF != length_crc:
                raise _error(path, number, offset, f"the length field's CRC-32C does not match (it reads {length})")
            if length > MAX_RECORD_BYTES:
                raise _error(path, number, offset, f"record length {length} bytes is over the {MAX_RECORD_BYTES} "
                                                   "bytes any NAS-Bench-101 record needs")
            end = position + _HEADER.size + length
            if end + _FOOTER.size > filled:
                raise _error(path, number, offset, f"truncated record: the header announces {length} payload bytes "
                                                   f"and a 4-byte CRC, only {available - _HEADER.size} bytes follow")
            payload = bytes(view[position + _HEADER.size:end])
            crc = crc32c(payload)
            if (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF != _FOOTER.unpack_from(buffer, end)[0]:
                raise _error(path, number, offset, f"the payload's CRC-32C does not match ({length} bytes)")
            yield offset, number, payload
            position = end + _FOOTER.size
            number += 1


def _error(path: Path, number: int, offset: int, reason: str) -> InputError:
    return InputError(f"{path}: record {number} at byte offset {offset}: {reason}; {_FIX}")
