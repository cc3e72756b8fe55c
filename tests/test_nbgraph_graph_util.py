"""NAS-Bench-Graph spellings -> keys: our canonicalisation against the original package and the real keys."""
from __future__ import annotations

import itertools
import pickle

import pytest

from conftest import real_data
from nasbenchmark.nasbenchgraph.constants import LINKS, NUM_ARCHS, OPS, SKIP
from nasbenchmark.nasbenchgraph.graph_util import (MAX_KEY, Arch, arch_key, decode_key, format_arch_str,
                                                   is_canonical_key, parse_arch_str, validate_arch)

ALL_LINKS = [list(link) for link in itertools.product(range(1), range(2), range(3), range(4))]


@pytest.fixture(scope="module")
def cora_keys():
    with open(real_data("nas-bench-graph", "light", "cora.bench"), "rb") as f:
        return set(pickle.load(f))  # the trusted real file, read with the real unpickler


def test_readme_example():
    assert arch_key([0, 1, 2, 1], ["gcn", "gin", "fc", "cheb"]) == 61237
    # Another spelling of it: node order 1, 4, 2, 3.
    assert arch_key([0, 1, 1, 3], ["gcn", "cheb", "gin", "fc"]) == 61237
    # The README calls [0, 1, 1, 2] gcn-cheb-gin-fc the same architecture, but there fc follows cheb,
    # not gin: a different network, and the original valid_hash() gives it another key too.
    assert arch_key([0, 1, 1, 2], ["gcn", "cheb", "gin", "fc"]) == 61327
    assert decode_key(61237) == Arch((0, 1, 1, 2), ("gcn", "gin", "cheb", "fc"))
    assert str(decode_key(61237)) == "[0,1,1,2] gcn-gin-cheb-fc"


def test_every_spelling_matches_the_original_valid_hash():
    """All 24 links x 9^4 op tuples (157,440 spellings without the all-skip ones), not a sample."""
    architecture = pytest.importorskip("nas_bench_graph.architecture")
    mismatches = []
    for link in ALL_LINKS:
        for ops in itertools.product(OPS, repeat=4):
            if all(op == SKIP for op in ops):
                continue
            expected = architecture.Arch(list(link), list(ops)).valid_hash()
            if arch_key(link, ops) != expected:
                mismatches.append((link, ops, expected))
    assert mismatches == []


def test_canonical_keys_are_exactly_the_release_keys(cora_keys):
    assert len(cora_keys) == NUM_ARCHS
    canonical = {key for key in range(MAX_KEY + 1) if is_canonical_key(key)}
    assert canonical == cora_keys


def test_every_stored_key_decodes_and_reencodes_to_itself(cora_keys):
    for key in cora_keys:
        link, ops = decode_key(key)
        assert list(link) in LINKS
        assert arch_key(link, ops) == key
        assert parse_arch_str(format_arch_str(link, ops)) == (link, ops)


def test_key_digits():
    assert decode_key(0) == Arch((0, 0, 0, 0), ("gat",) * 4)
    assert decode_key(88887) == Arch((0, 1, 2, 3), ("skip", "skip", "skip", "fc"))
    # Keys of non-canonical spellings decode but are not stored keys.
    assert decode_key(10100).ops == ("gat", "gcn", "gat", "gat")
    assert not is_canonical_key(10100) and arch_key(*decode_key(10100)) == 10010


@pytest.mark.parametrize("key", [-1, 88889, 90000, 19000, 100000, 1.0, "61237", True])
def test_undecodable_keys(key):
    with pytest.raises(ValueError, match="not a NAS-Bench-Graph key"):
        decode_key(key)
    assert not is_canonical_key(key)


def test_arch_strings():
    assert parse_arch_str("[0, 1, 2, 1]  gcn - gin - fc - cheb") == Arch((0, 1, 2, 1), ("gcn", "gin", "fc", "cheb"))
    with pytest.raises(ValueError, match="malformed NAS-Bench-Graph arch string"):
        parse_arch_str("0,1,2,1 gcn-gin-fc-cheb")
    with pytest.raises(ValueError, match="unknown operation 'gru'"):
        parse_arch_str("[0,1,2,1] gcn-gin-fc-gru")
    with pytest.raises(ValueError, match=r"link\[3\] must be an int in 0..3"):
        parse_arch_str("[0,1,2,4] gcn-gin-fc-cheb")


@pytest.mark.parametrize("link, ops, message", [
    ([0, 1, 2], ["gcn"] * 4, "link must be a list of 4"),
    ("0121", ["gcn"] * 4, "link must be a list of 4"),
    ([0, 2, 0, 0], ["gcn"] * 4, r"link\[1\] must be an int in 0..1"),
    ([0, 0, True, 0], ["gcn"] * 4, r"link\[2\] must be an int"),
    ([0, 0, 0, 0], ["gcn"] * 3, "ops must be a list of 4"),
    ([0, 0, 0, 0], "gcn-gcn-gcn-gcn", "ops must be a list of 4"),
    ([0, 0, 0, 0], ["gcn", "gcn", "gcn", "GCN"], r"unknown operation 'GCN'; expected one of \['gat'"),
    ([0, 1, 2, 3], ["skip"] * 4, "four skip operations"),
])
def test_invalid_spellings(link, ops, message):
    with pytest.raises(ValueError, match=message):
        validate_arch(link, ops)
    with pytest.raises(ValueError, match=message):
        arch_key(link, ops)
