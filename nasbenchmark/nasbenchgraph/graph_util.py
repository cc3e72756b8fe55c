"""NAS-Bench-Graph architectures: spellings, the canonical key, and the readable arch string.

An architecture is ``(link, ops)``: four computing nodes, ``link[i]`` the input of node ``i + 1``
(0 = graph input, k = node k) and ``ops[i]`` its operation. Many spellings describe the same network
(node order, skip placement, order of interchangeable nodes); the release stores each architecture
once under an integer key. ``arch_key`` maps any spelling to that key with the same rules as the
original ``Arch.valid_hash()``:

1. relabel the nodes so that the link is one of the 9 canonical ``LINKS``;
2. hoist skip nodes to the front (see ``_hoist_skips``), then relabel again;
3. sort the ops of interchangeable nodes (or node pairs) by op index;
4. key = link index followed by the four op indices as decimal digits (``61237`` = link 6, ops 1 2 3 7).

So a key decodes from its digits alone (``decode_key``). The rules are reproduced exactly, quirks
included, because the key is how the release indexes its results: e.g. a skip leaf that sends the raw
input to the output is dropped, so ``[0,0,0,0] skip-gat-gat-gat`` gets the key 58000 of
``[0,1,1,1] skip-gat-gat-gat``, which has no such shortcut. Tests compare ``arch_key`` with the original
on every possible spelling.
"""
from __future__ import annotations

import itertools
import re
from typing import NamedTuple, Sequence

from ..errors import shown
from .constants import LINKS, NUM_NODES, OP_INDEX, OPS, SKIP

_LINK_INDEX = {tuple(link): index for index, link in enumerate(LINKS)}
_KEY_BASE = 10  # len(OPS) + 1: the release hashes in base 10, so every digit is one index
MAX_KEY = int("8" * (NUM_NODES + 1))


class Arch(NamedTuple):
    """One spelling of an architecture: ``link`` (4 input node ids) and ``ops`` (4 op names)."""

    link: tuple[int, ...]
    ops: tuple[str, ...]

    def __str__(self) -> str:
        return format_arch_str(self.link, self.ops)


def validate_arch(link: Sequence[int], ops: Sequence[str]) -> Arch:
    """Check one spelling; raise ``ValueError`` naming the accepted values."""
    if isinstance(link, (str, bytes)) or not isinstance(link, Sequence) or len(link) != NUM_NODES:
        raise ValueError(f"link must be a list of {NUM_NODES} input node ids like [0, 1, 2, 1], got {shown(link)}")
    for position, parent in enumerate(link):
        if isinstance(parent, bool) or not isinstance(parent, int) or not 0 <= parent <= position:
            raise ValueError(f"link[{position}] must be an int in 0..{position} (0 = graph input, k = node k), "
                             f"got {shown(parent)}")
    if isinstance(ops, (str, bytes)) or not isinstance(ops, Sequence) or len(ops) != NUM_NODES:
        raise ValueError(f"ops must be a list of {NUM_NODES} operation names, got {shown(ops)}")
    for op in ops:
        if not isinstance(op, str) or op not in OP_INDEX:
            raise ValueError(f"unknown operation {shown(op)}; expected one of {OPS}")
    if all(op == SKIP for op in ops):
        raise ValueError("an architecture of four skip operations is not in the NAS-Bench-Graph space")
    return Arch(tuple(link), tuple(ops))


def _relabel_order(link: tuple[int, ...]) -> tuple[int, ...]:
    """The first node order (as old positions) under which ``link`` becomes a canonical link."""
    for order in itertools.permutations(range(NUM_NODES)):
        if _relabel(link, order) in _LINK_INDEX:
            return order
    raise AssertionError(f"no canonical relabelling of {link}")  # every valid link has one


def _relabel(link: Sequence[int], order: Sequence[int]) -> tuple[int, ...] | None:
    """``link`` with node ``order[i] + 1`` renamed ``i + 1``, or None if a node would precede its input."""
    new_id = {0: 0, **{old + 1: new + 1 for new, old in enumerate(order)}}
    relabelled = tuple(new_id[link[old]] for old in order)
    if any(parent > position for position, parent in enumerate(relabelled)):
        return None
    return relabelled


#: Every one of the 24 possible links -> the node order that makes it canonical (identity if it is).
_CANONICAL_ORDER = {link: _relabel_order(link)
                    for link in itertools.product(*(range(position + 1) for position in range(NUM_NODES)))}


def _canonical_link(link: Sequence[int], ops: Sequence[str]) -> tuple[tuple[int, ...], list[str]]:
    link = tuple(link)
    if link in _LINK_INDEX:
        return link, list(ops)
    order = _CANONICAL_ORDER[link]
    return _relabel(link, order), [ops[old] for old in order]


def _hoist_skips(link: Sequence[int], ops: Sequence[str]) -> tuple[list[int], list[str]]:
    """Move skip nodes to the front, visiting positions 0..3 once each as the lists change.

    A skip at the visited position moves when it has a successor, has no sibling (no other node
    with the same input), or passes the raw graph input through (it and all its ancestors are
    skips). The moved skip becomes node 1 on the graph input; every node that read the graph input
    now reads node 1, and the skip's successors read its former input.
    """
    link, ops = list(link), list(ops)
    for position in range(NUM_NODES):
        if ops[position] != SKIP:
            continue
        node, parent = position + 1, link[position]
        has_successor = node in link
        has_sibling = any(other != position and link[other] == parent for other in range(NUM_NODES))
        if has_successor or not has_sibling or _passes_graph_input(position, link, ops):
            link, ops = _move_to_front(position, link, ops)
    return link, ops


def _passes_graph_input(position: int, link: Sequence[int], ops: Sequence[str]) -> bool:
    while position >= 0:
        if ops[position] != SKIP:
            return False
        position = link[position] - 1
    return True


def _move_to_front(position: int, link: Sequence[int], ops: Sequence[str]) -> tuple[list[int], list[str]]:
    def shifted(parent: int) -> int:  # the graph input and nodes before the moved one: one id later
        return parent + 1 if parent <= position else parent

    moved = position + 1
    rest = [other for other in range(NUM_NODES) if other != position]
    new_link = [0] + [shifted(link[position]) if link[other] == moved else shifted(link[other]) for other in rest]
    return new_link, [ops[position]] + [ops[other] for other in rest]


#: Per canonical link index: groups of positions that are interchangeable (sibling leaves, or in link 3
#: the two parallel two-node chains). Their ops are sorted so the smallest op indices come first.
_INTERCHANGEABLE = {
    0: ((0,), (1,), (2,), (3,)),
    1: ((1,), (2,)),
    2: ((2,), (3,)),
    3: ((0, 2), (1, 3)),
    5: ((1,), (2,), (3,)),
    7: ((2,), (3,)),
}


def _sort_interchangeable(link_index: int, op_indices: list[int]) -> list[int]:
    units = _INTERCHANGEABLE.get(link_index)
    if not units:
        return op_indices
    values = sorted(tuple(op_indices[position] for position in unit) for unit in units)
    result = list(op_indices)
    for unit, value in zip(units, values):
        for position, op_index in zip(unit, value):
            result[position] = op_index
    return result


def encode_key(link_index: int, op_indices: Sequence[int]) -> int:
    key = link_index
    for op_index in op_indices:
        key = key * _KEY_BASE + op_index
    return key


def arch_key(link: Sequence[int], ops: Sequence[str]) -> int:
    """The release's key of any spelling: ``arch_key([0, 1, 2, 1], ['gcn', 'gin', 'fc', 'cheb']) == 61237``."""
    arch = validate_arch(link, ops)
    link, ops = _canonical_link(arch.link, arch.ops)
    link, ops = _hoist_skips(link, ops)
    link, ops = _canonical_link(link, ops)
    link_index = _LINK_INDEX[link]
    return encode_key(link_index, _sort_interchangeable(link_index, [OP_INDEX[op] for op in ops]))


def decode_key(key: int) -> Arch:
    """Key -> its (canonical) spelling: first digit = link index, then one digit per op."""
    in_range = isinstance(key, int) and not isinstance(key, bool) and 0 <= key <= MAX_KEY
    digits = f"{key:0{NUM_NODES + 1}d}" if in_range else ""
    if not digits or int(digits[0]) >= len(LINKS) or any(int(d) >= len(OPS) for d in digits):
        raise ValueError(f"{shown(key)} is not a NAS-Bench-Graph key; expected an int 0..{MAX_KEY} whose first "
                         f"digit is a link index 0..{len(LINKS) - 1} and whose other four digits are op indices "
                         f"0..{len(OPS) - 1}")
    return Arch(tuple(LINKS[int(digits[0])]), tuple(OPS[int(d)] for d in digits[1:]))


def is_canonical_key(key: int) -> bool:
    """True when ``key`` decodes and is the key of its own spelling (the release stores only these)."""
    try:
        return arch_key(*decode_key(key)) == key
    except ValueError:
        return False


def link_index(link: Sequence[int]) -> int:
    try:
        return _LINK_INDEX[tuple(link)]
    except KeyError:
        raise ValueError(f"{list(link)} is not a canonical link; expected one of {LINKS}") from None


def format_arch_str(link: Sequence[int], ops: Sequence[str]) -> str:
    """``'[0,1,1,2] gcn-gin-cheb-fc'``: the link, then the op of each node in order."""
    return f"[{','.join(str(parent) for parent in link)}] {'-'.join(ops)}"


_ARCH_STR = re.compile(r"^\s*\[\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\]\s*"
                       r"([a-z]+)\s*-\s*([a-z]+)\s*-\s*([a-z]+)\s*-\s*([a-z]+)\s*$")


def parse_arch_str(text: str) -> Arch:
    """``'[0,1,2,1] gcn-gin-fc-cheb'`` (any spelling, spaces allowed) -> ``Arch``; ValueError if malformed."""
    match = _ARCH_STR.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"malformed NAS-Bench-Graph arch string {shown(text)}; expected like "
                         f"'[0,1,2,1] gcn-gin-fc-cheb' (link of 4 input node ids, then 4 ops from {OPS} joined by '-')")
    groups = match.groups()
    return validate_arch([int(parent) for parent in groups[:NUM_NODES]], list(groups[NUM_NODES:]))
