"""NAS-Bench-101 cells: their spellings, pruning, validity and the module hash of the release.

A cell is a DAG of at most 7 vertices: vertex 0 is the input, the last vertex the output, every other
vertex has an op of ``AVAILABLE_OPS``. It is spelled either as

* nasbench's ``(matrix, ops)``: ``matrix[i][j] == 1`` for an edge i -> j (upper-triangular, nested
  lists or anything with ``.tolist()`` such as a numpy array), ``ops`` one name per vertex;
* NNI's dict: ``op1``..``op{V-2}`` (the inner vertices' ops) and ``input1``..``input{V-1}`` (the sorted
  predecessors of each vertex).

Many spellings describe one model: vertices can be numbered in any topological order, and vertices off
every input -> output path are pruned before training, as nasbench's ``ModelSpec`` does. The release
keys each model by its module hash, an MD5 of iterated neighbourhood hashes that every renumbering
leaves unchanged; ``canonical_hash`` maps any spelling to it. ``spec_problems`` gives the reasons a
spelling is not in the space, with the same wording as the site's ``nb101_cell.js``.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
from typing import Any, Sequence

from .constants import AVAILABLE_OPS, INPUT, LABEL2ID, MAX_EDGES, MAX_VERTICES, OUTPUT

Matrix = list[list[int]]

_HASH = re.compile(r"[0-9a-fA-F]{32}")
_NO_PATH = "no path from the input to the output"
_BIT_TYPES = (int, bool)  # exactly: numpy ints arrive as int through .tolist(), floats are refused


def _quoted(value: Any) -> str:
    """A value as JSON, so that messages read the same as those of the JavaScript module."""
    return json.dumps(value, ensure_ascii=False, default=str)


def _unknown_op(vertex: int, op: Any) -> str:
    expected = f"{', '.join(AVAILABLE_OPS[:-1])} or {AVAILABLE_OPS[-1]}"
    return f"vertex {vertex} has unknown op {_quoted(op)} (expected {expected})"


def checked_spec(matrix: Any, ops: Any) -> tuple[Matrix, list]:
    """``matrix`` as lists of 0/1 ints and ``ops`` as a list; ValueError unless square, one op per
    vertex and strictly upper-triangular (nasbench's ``ModelSpec`` constructor checks)."""
    if hasattr(matrix, "tolist"):
        matrix = matrix.tolist()
    if hasattr(ops, "tolist"):
        ops = ops.tolist()
    if not isinstance(matrix, (list, tuple)) or not all(isinstance(row, (list, tuple)) for row in matrix):
        raise ValueError(f"the matrix must be a list of rows of 0/1 entries, got {type(matrix).__name__}")
    if isinstance(ops, str) or not isinstance(ops, (list, tuple)):
        raise ValueError(f"ops must be a list of op names, one per vertex, got {type(ops).__name__}")
    size = len(matrix)
    if size < 2:
        raise ValueError(f"a cell needs at least 2 vertices (input and output), got {size}")
    rows = []
    for i, row in enumerate(matrix):
        if len(row) != size:
            raise ValueError(f"the matrix must be square: row {i} has {len(row)} entries for {size} vertices")
        if not all(type(entry) in _BIT_TYPES and entry in (0, 1) for entry in row):
            j, entry = next((j, entry) for j, entry in enumerate(row)
                            if not (type(entry) in _BIT_TYPES and entry in (0, 1)))
            raise ValueError(f"matrix entries must be 0 or 1, got {_quoted(entry)} at row {i}, column {j}")
        rows.append(list(map(int, row)))
    if len(ops) != size:
        raise ValueError(f"the matrix has {size} vertices but there are {len(ops)} ops")
    backwards = [f"{i}->{j}" for i in range(size) for j in range(i + 1) if rows[i][j]]
    if backwards:
        raise ValueError(f"edges must go from a lower to a higher vertex (an upper-triangular matrix), "
                         f"but {', '.join(backwards)} do not")
    return rows, list(ops)


def _reachable(start: int, successors: list[list[int]]) -> set[int]:
    seen, stack = {start}, [start]
    while stack:
        for vertex in successors[stack.pop()]:
            if vertex not in seen:
                seen.add(vertex)
                stack.append(vertex)
    return seen


def _kept_vertices(matrix: Matrix) -> list[int] | None:
    """Vertices on some input -> output path, ascending; None when the output is unreachable."""
    size = len(matrix)
    successors = [[j for j in range(size) if matrix[i][j]] for i in range(size)]
    predecessors = [[i for i in range(size) if matrix[i][j]] for j in range(size)]
    on_path = _reachable(0, successors) & _reachable(size - 1, predecessors)
    if size - 1 not in on_path:
        return None
    return sorted(on_path)


def _analyse(matrix: Any, ops: Any) -> tuple[list[str], Matrix | None, list | None]:
    """``(problems, pruned matrix, pruned ops)``; the pruned spec is None when it cannot be formed."""
    try:
        matrix, ops = checked_spec(matrix, ops)
    except ValueError as exc:
        return [str(exc)], None, None
    kept = _kept_vertices(matrix)
    if kept is None:
        return [_NO_PATH], None, None
    pruned = [[matrix[i][j] for j in kept] for i in kept]
    pruned_ops = [ops[v] for v in kept]
    problems = []
    if len(kept) > MAX_VERTICES:
        problems.append(f"{len(kept)} vertices after pruning, more than the {MAX_VERTICES} allowed")
    edges = sum(map(sum, pruned))
    if edges > MAX_EDGES:
        problems.append(f"{edges} edges after pruning, more than the {MAX_EDGES} allowed")
    if pruned_ops[0] != INPUT:
        problems.append(f"the first vertex must be the input, got {_quoted(pruned_ops[0])}")
    if pruned_ops[-1] != OUTPUT:
        problems.append(f"the last vertex must be the output, got {_quoted(pruned_ops[-1])}")
    for vertex in kept[1:-1]:
        if ops[vertex] not in AVAILABLE_OPS:
            problems.append(_unknown_op(vertex, ops[vertex]))
    return problems, pruned, pruned_ops


def spec_problems(matrix: Any, ops: Any) -> list[str]:
    """Every reason the spec is not a NAS-Bench-101 model (empty when it is), judged after pruning as
    nasbench does: an 8-vertex spec with a dangling vertex is fine, one unknown op on a pruned vertex too."""
    return _analyse(matrix, ops)[0]


def prune(matrix: Any, ops: Any) -> tuple[Matrix, list]:
    """Remove the vertices off every input -> output path (nasbench's ``ModelSpec._prune``).

    Raises ``ValueError`` for a malformed spec or when no path joins the input to the output.
    """
    problems, pruned, pruned_ops = _analyse(matrix, ops)
    if pruned is None:
        raise ValueError(problems[0])
    return pruned, pruned_ops


def validate(matrix: Any, ops: Any) -> tuple[Matrix, list[str]]:
    """The pruned ``(matrix, ops)`` of a valid spec; ``ValueError`` naming every problem otherwise."""
    problems, pruned, pruned_ops = _analyse(matrix, ops)
    if problems:
        raise ValueError("; ".join(problems))
    return pruned, pruned_ops


@functools.lru_cache(maxsize=1024)  # few (degrees, label) triples exist; hashing is the converter's hot path
def _initial_hash(out_degree: int, in_degree: int, label: int) -> str:
    return hashlib.md5(str((out_degree, in_degree, label)).encode()).hexdigest()


def nasbench_hash_module(matrix: Matrix, labeling: Sequence[int]) -> str:
    """google nasbench's ``graph_util.hash_module(matrix, labeling)``: ``matrix`` lists of 0/1 ints,
    ``labeling`` ints (input -1, output -2, inner ops their ``AVAILABLE_OPS`` index). No checks.

    Every vertex starts from the MD5 of the repr of ``(out-degree, in-degree, label)``; then, as many
    rounds as there are vertices, it becomes the MD5 of its predecessors' sorted hashes, ``|``, its
    successors' sorted hashes, ``|``, its own (all vertices at once). The module hash is the MD5 of the
    repr of the sorted list. The reprs are CPython's (``"(1, 0, -1)"``, ``"['ab', 'cd']"``), which the
    release hashed.
    """
    vertices = range(len(matrix))
    predecessors = [[w for w in vertices if matrix[w][v]] for v in vertices]
    successors = [[w for w in vertices if matrix[v][w]] for v in vertices]
    hashes = [_initial_hash(len(successors[v]), len(predecessors[v]), labeling[v]) for v in vertices]
    # Most vertices have one predecessor or successor: no list to sort and join then. This loop is the
    # converter's hot path (423,624 cells x up to 49 vertex rounds).
    neighbourhoods = [(before, after, v, len(before) > 1, len(after) > 1)
                      for before, after, v in zip(predecessors, successors, vertices)]
    md5, join = hashlib.md5, "".join
    for _ in vertices:
        previous, hashes = hashes, []
        for before, after, v, sort_before, sort_after in neighbourhoods:
            incoming = join(sorted([previous[w] for w in before])) if sort_before else (
                previous[before[0]] if before else "")
            outgoing = join(sorted([previous[w] for w in after])) if sort_after else (
                previous[after[0]] if after else "")
            hashes.append(md5(f"{incoming}|{outgoing}|{previous[v]}".encode()).hexdigest())
    return md5(str(sorted(hashes)).encode()).hexdigest()


def _labeling(ops: Sequence[str]) -> list[int]:
    """nasbench's labeling: input -1, output -2 by position, inner ops by ``AVAILABLE_OPS`` index."""
    inner = []
    for vertex, op in enumerate(ops[1:-1], 1):
        if op not in AVAILABLE_OPS:
            raise ValueError(_unknown_op(vertex, op))
        inner.append(LABEL2ID[op])
    return [LABEL2ID[INPUT], *inner, LABEL2ID[OUTPUT]]


def spec_hash(matrix: Any, ops: Sequence[str]) -> str:
    """The module hash of the spec exactly as given (no pruning, no validity check but the ops')."""
    matrix, ops = checked_spec(matrix, ops)
    return nasbench_hash_module(matrix, _labeling(ops))


def infer_num_vertices(architecture: dict) -> int:
    """Vertices of an NNI arch dict: its ``op1``..``opN`` keys plus input and output."""
    if not isinstance(architecture, dict):
        raise ValueError(f"an NNI architecture is a dict of op1.. and input1.. keys, got {type(architecture).__name__}")
    op_keys = sorted(key for key in architecture if isinstance(key, str) and key.startswith("op"))
    expected = sorted(f"op{i}" for i in range(1, len(op_keys) + 1))
    if op_keys != expected:
        raise ValueError(f"the op keys of an NNI architecture must be op1..op{len(op_keys)}, got {op_keys}")
    return len(op_keys) + 2


def architecture_to_nasbench_format(architecture: dict) -> tuple[Matrix, list[str]]:
    """NNI's dict -> nasbench's ``(matrix, ops)``, unpruned. ValueError for missing or extra keys and
    predecessors that are not earlier vertices."""
    vertices = infer_num_vertices(architecture)
    input_keys = [f"input{i}" for i in range(1, vertices)]
    unexpected = sorted(map(str, set(architecture) - {f"op{i}" for i in range(1, vertices - 1)} - set(input_keys)))
    missing = [key for key in input_keys if key not in architecture]
    if unexpected or missing:
        raise ValueError(f"an NNI architecture with {vertices - 2} ops has exactly the keys op1..op{vertices - 2} "
                         f"and input1..input{vertices - 1}; unexpected {unexpected}, missing {missing}")
    matrix = [[0] * vertices for _ in range(vertices)]
    for vertex in range(1, vertices):
        sources = architecture[f"input{vertex}"]
        if isinstance(sources, (str, bytes)) or not isinstance(sources, (list, tuple)):
            raise ValueError(f"input{vertex} must be a list of earlier vertex indices, got {_quoted(sources)}")
        for source in sources:
            if isinstance(source, bool) or not isinstance(source, int) or not 0 <= source < vertex:
                raise ValueError(f"input{vertex} lists {_quoted(source)}; predecessors of vertex {vertex} "
                                 f"are vertex indices 0..{vertex - 1}")
            matrix[source][vertex] = 1
    ops = [INPUT, *(architecture[f"op{i}"] for i in range(1, vertices - 1)), OUTPUT]
    return matrix, ops


def nasbench_format_to_architecture_repr(adjacency_matrix: Any, labeling: Sequence[str]) -> tuple[int, dict]:
    """nasbench's ``(matrix, ops)`` -> ``(num_vertices, NNI dict)``, with the vertices as they are."""
    matrix, ops = checked_spec(adjacency_matrix, labeling)
    vertices = len(matrix)
    architecture: dict[str, Any] = {}
    for vertex in range(1, vertices - 1):
        if ops[vertex] in (INPUT, OUTPUT):
            raise ValueError(f"vertex {vertex} is an inner vertex and cannot be {_quoted(ops[vertex])}")
        architecture[f"op{vertex}"] = ops[vertex]
    for vertex in range(1, vertices):
        architecture[f"input{vertex}"] = [source for source in range(vertex) if matrix[source][vertex]]
    return vertices, architecture


def hash_module(architecture: dict, vertices: int) -> str:
    """NNI's ``hash_module``: google nasbench's module hash of an NNI dict, as given (not pruned)."""
    if vertices != infer_num_vertices(architecture):
        raise ValueError(f"vertices = {vertices}, but the architecture has {infer_num_vertices(architecture)}")
    return spec_hash(*architecture_to_nasbench_format(architecture))


def canonical_hash(arch: Any) -> str:
    """The module hash the release stores for any spelling of a model.

    ``arch`` is NNI's dict, a ``(matrix, ops)`` pair (numbered in any topological order, with or without
    dangling vertices) or a module hash (32 hex digits). The spec is pruned, checked (``ValueError``
    naming every problem) and hashed, so isomorphic spellings give one hash.
    """
    if isinstance(arch, str):
        if not _HASH.fullmatch(arch):
            raise ValueError(f"a module hash is 32 hex digits, got {arch!r}")
        return arch.lower()
    if isinstance(arch, dict):
        matrix, ops = architecture_to_nasbench_format(arch)
    elif isinstance(arch, (list, tuple)) and len(arch) == 2:
        matrix, ops = arch
    else:
        raise ValueError("a NAS-Bench-101 architecture is NNI's dict {'op1': ..., 'input1': [0], ...}, "
                         f"a (matrix, ops) pair or a 32-hex-digit module hash; got {type(arch).__name__}")
    pruned, pruned_ops = validate(matrix, ops)
    return nasbench_hash_module(pruned, _labeling(pruned_ops))
