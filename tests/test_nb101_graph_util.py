"""NAS-Bench-101 cells: the real module hashes, nasbench's pruning and validity rules, NNI's dict spelling,
and properties over generated cells (renumbering and dangling vertices keep the hash)."""
from __future__ import annotations

import json

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conftest import real_data
from nasbenchmark.nasbench101 import (AVAILABLE_OPS, INPUT, LABEL2ID, OUTPUT, architecture_to_nasbench_format,
                                      canonical_hash, hash_module, infer_num_vertices,
                                      nasbench_format_to_architecture_repr, nasbench_hash_module, prune,
                                      spec_hash, spec_problems, validate)

C3, C1, MP = AVAILABLE_OPS
KNOWN = json.loads(real_data("nasbench101", "nb101_known_values.json").read_text())
#: NNI's documentation example: the arch of the real record (nni-reference.md 2.1).
NNI_EXAMPLE = {"op1": C3, "op2": MP, "op3": C3, "op4": C3, "op5": C1, "input1": [0], "input2": [1],
               "input3": [2], "input4": [0], "input5": [0, 3, 4], "input6": [2, 5]}


def _stored_matrix(raw_adjacency: str) -> list[list[int]]:
    size = int(len(raw_adjacency) ** 0.5)
    return [[int(bit) for bit in raw_adjacency[row * size:(row + 1) * size]] for row in range(size)]


def test_constants_follow_nasbench_and_nni():
    assert AVAILABLE_OPS == ["conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"]
    assert LABEL2ID == {INPUT: -1, OUTPUT: -2, C3: 0, C1: 1, MP: 2}


@pytest.mark.parametrize("vector", KNOWN["hash_test_vectors"], ids=lambda v: v["hash"][:8])
def test_known_hash_vectors(vector):
    matrix, ops = vector["matrix"], vector["ops"]
    assert spec_hash(matrix, ops) == vector["hash"]
    assert canonical_hash((matrix, ops)) == vector["hash"]
    vertices, arch = nasbench_format_to_architecture_repr(matrix, ops)
    assert hash_module(arch, vertices) == vector["hash"]
    assert canonical_hash(arch) == vector["hash"]


@pytest.mark.parametrize("model", KNOWN["models"], ids=lambda m: m["module_hash"][:8])
def test_real_stored_cells_hash_to_their_stored_hash(model):
    matrix = _stored_matrix(model["raw_adjacency"])
    ops = model["raw_operations"].split(",")
    assert spec_hash(matrix, ops) == model["module_hash"]
    assert validate(matrix, ops) == (matrix, ops)  # stored cells are pruned already
    if "stored_matrix" in model:
        assert model["stored_matrix"] == matrix


def test_nni_documentation_example():
    assert infer_num_vertices(NNI_EXAMPLE) == 7
    assert hash_module(NNI_EXAMPLE, 7) == "00005c142e6f48ac74fdcf73e3439874"
    matrix, ops = architecture_to_nasbench_format(NNI_EXAMPLE)
    assert matrix == KNOWN["hash_test_vectors"][0]["matrix"]
    assert nasbench_format_to_architecture_repr(matrix, ops) == (7, NNI_EXAMPLE)


def test_numpy_arrays_are_accepted():
    np = pytest.importorskip("numpy")
    vector = KNOWN["hash_test_vectors"][1]
    for dtype in (np.int8, np.int64, bool):
        matrix = np.array(vector["matrix"], dtype=dtype)
        assert canonical_hash((matrix, np.array(vector["ops"]))) == vector["hash"]
        assert nasbench_format_to_architecture_repr(matrix, vector["ops"])[0] == 7


def test_canonical_hash_of_a_hash_and_of_wrong_spellings():
    assert canonical_hash("00005C142E6F48AC74FDCF73E3439874") == "00005c142e6f48ac74fdcf73e3439874"
    for bad in ("00005c14", "00005c142e6f48ac74fdcf73e3439874\n", 42, [[0, 1], [0, 0]], ([[0, 1], [0, 0]],)):
        with pytest.raises(ValueError, match="module hash|matrix|ops"):
            canonical_hash(bad)


# -- formats.md 1.6: ModelSpec pruning (model_spec_test.py cases) ------------------------------------

def test_prune_removes_a_dead_end_vertex():
    assert prune([[0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]], [1, 2, 3, 4]) == (
        [[0, 1, 0], [0, 0, 1], [0, 0, 0]], [1, 2, 4])


def test_prune_removes_an_unreachable_vertex():
    assert prune([[0, 1, 1, 0], [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]], [1, 2, 3, 4]) == (
        [[0, 1, 0], [0, 0, 1], [0, 0, 0]], [1, 3, 4])


def test_prune_refuses_a_cell_without_input_output_path():
    with pytest.raises(ValueError, match="no path from the input to the output"):
        prune([[0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]], [1, 2, 3, 4])


def _chain(vertices: int) -> list[list[int]]:
    return [[int(j == i + 1) for j in range(vertices)] for i in range(vertices)]


def _ops(vertices: int) -> list[str]:
    return [INPUT, *[C3] * (vertices - 2), OUTPUT]


@pytest.mark.parametrize("matrix, ops, reason", [
    (_chain(8), _ops(8), "8 vertices after pruning, more than the 7 allowed"),
    # 10 edges, every vertex on a path: input -> each of 1..5 -> output.
    ([[0, 1, 1, 1, 1, 1, 0], *[[0] * 6 + [1] for _ in range(5)], [0] * 7], _ops(7),
     "10 edges after pruning, more than the 9 allowed"),
    ([[0, 1, 0], [0, 0, 1], [0, 1, 0]], _ops(3), "but 2->1 do not"),
    ([[1, 1], [0, 0]], _ops(2), "but 0->0 do not"),
    ([[0, 1, 0], [0, 0, 0], [0, 0, 0]], _ops(3), "no path from the input to the output"),
    (_chain(3), [C3, C3, OUTPUT], 'the first vertex must be the input, got "conv3x3-bn-relu"'),
    (_chain(3), [INPUT, C3, MP], 'the last vertex must be the output, got "maxpool3x3"'),
    (_chain(3), [INPUT, "conv5x5", OUTPUT], 'vertex 1 has unknown op "conv5x5" (expected conv3x3-bn-relu, '
                                            'conv1x1-bn-relu or maxpool3x3)'),
    (_chain(3), [INPUT, INPUT, OUTPUT], 'vertex 1 has unknown op "input"'),
    ([[0, 1], [0]], _ops(2), "row 1 has 1 entries for 2 vertices"),
    ([[0, 2], [0, 0]], _ops(2), "matrix entries must be 0 or 1, got 2 at row 0, column 1"),
    (_chain(3), _ops(4), "the matrix has 3 vertices but there are 4 ops"),
    ([[0]], [INPUT], "at least 2 vertices"),
])
def test_validate_names_the_reason(matrix, ops, reason):
    with pytest.raises(ValueError) as caught:
        validate(matrix, ops)
    assert reason in str(caught.value)
    assert any(reason in problem for problem in spec_problems(matrix, ops))


def test_every_problem_is_reported_at_once():
    problems = spec_problems(_chain(8), [C3, *[MP] * 5, "conv7x7", INPUT])
    assert problems == ["8 vertices after pruning, more than the 7 allowed",
                        'the first vertex must be the input, got "conv3x3-bn-relu"',
                        'the last vertex must be the output, got "input"',
                        'vertex 6 has unknown op "conv7x7" (expected conv3x3-bn-relu, conv1x1-bn-relu or maxpool3x3)']


def test_limits_apply_after_pruning_as_in_nasbench():
    # 8 vertices with an unknown op on a dead end (vertex 3): nasbench prunes it and accepts the others.
    eight = [[0] * 8 for _ in range(8)]
    for i, j in [(0, 1), (1, 2), (2, 4), (4, 5), (5, 6), (6, 7), (2, 3)]:
        eight[i][j] = 1
    ops = [INPUT, C3, C1, "bogus-op", MP, C3, C1, OUTPUT]
    assert spec_problems(eight, ops) == []
    pruned, pruned_ops = validate(eight, ops)
    assert pruned_ops == [INPUT, C3, C1, MP, C3, C1, OUTPUT]
    assert canonical_hash((eight, ops)) == spec_hash(pruned, pruned_ops)


def test_arch_dict_errors():
    with pytest.raises(ValueError, match="op1..op2"):
        infer_num_vertices({"op1": C3, "op3": C3})
    with pytest.raises(ValueError, match=r"missing \['input2'\]"):
        architecture_to_nasbench_format({"op1": C3, "input1": [0]})
    with pytest.raises(ValueError, match=r"unexpected \['inputs3'\]"):
        architecture_to_nasbench_format({"op1": C3, "input1": [0], "input2": [1], "inputs3": [1]})
    with pytest.raises(ValueError, match="input2 lists 2"):
        architecture_to_nasbench_format({"op1": C3, "input1": [0], "input2": [2]})
    with pytest.raises(ValueError, match="vertices = 4"):
        hash_module({"op1": C3, "input1": [0], "input2": [1]}, 4)
    with pytest.raises(ValueError, match="inner vertex"):
        nasbench_format_to_architecture_repr(_chain(3), [INPUT, OUTPUT, OUTPUT])


def test_hash_tells_different_cells_apart():
    chain = canonical_hash((_chain(3), [INPUT, C3, OUTPUT]))
    assert chain != canonical_hash((_chain(3), [INPUT, C1, OUTPUT]))
    # Same ops, one more edge (input -> output): a different model.
    assert chain != canonical_hash(([[0, 1, 1], [0, 0, 1], [0, 0, 0]], [INPUT, C3, OUTPUT]))
    # Two branches swapped: the same model.
    branches = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    assert canonical_hash((branches, [INPUT, C3, MP, OUTPUT])) == canonical_hash((branches, [INPUT, MP, C3, OUTPUT]))
    # A branch of two ops differs from two parallel ops.
    series = [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]
    assert canonical_hash((series, [INPUT, C3, MP, OUTPUT])) != canonical_hash((branches, [INPUT, C3, MP, OUTPUT]))


# -- properties ------------------------------------------------------------------------------------

@st.composite
def valid_cells(draw) -> tuple[list[list[int]], list[str]]:
    """A pruned, valid cell of 2..7 vertices."""
    vertices = draw(st.integers(2, 7))
    pairs = [(i, j) for j in range(vertices) for i in range(j)]
    edges = draw(st.sets(st.sampled_from(pairs), min_size=1, max_size=9))
    matrix = [[int((i, j) in edges) for j in range(vertices)] for i in range(vertices)]
    ops = [INPUT, *draw(st.lists(st.sampled_from(AVAILABLE_OPS), min_size=vertices - 2, max_size=vertices - 2)),
           OUTPUT]
    assume(not spec_problems(matrix, ops))
    return validate(matrix, ops)


def _renumbered(matrix, ops, order):
    """The cell with old vertex ``order[k]`` as vertex k."""
    return [[matrix[a][b] for b in order] for a in order], [ops[a] for a in order]


@settings(max_examples=200, deadline=None)
@given(cell=valid_cells(), data=st.data())
def test_any_topological_renumbering_keeps_the_hash(cell, data):
    matrix, ops = cell
    size = len(matrix)
    order, placed = [], set()
    while len(order) < size:  # a random topological order: input first, output last in a pruned cell
        ready = [v for v in range(size) if v not in placed and all(w in placed for w in range(size) if matrix[w][v])]
        vertex = data.draw(st.sampled_from(ready))
        order.append(vertex)
        placed.add(vertex)
    new_matrix, new_ops = _renumbered(matrix, ops, order)
    assert not spec_problems(new_matrix, new_ops)
    assert canonical_hash((new_matrix, new_ops)) == canonical_hash((matrix, ops))
    vertices, arch = nasbench_format_to_architecture_repr(new_matrix, new_ops)
    assert hash_module(arch, vertices) == spec_hash(matrix, ops)
    assert architecture_to_nasbench_format(arch) == (new_matrix, new_ops)


@settings(max_examples=200, deadline=None)
@given(cell=valid_cells(), data=st.data())
def test_the_raw_hash_ignores_any_vertex_permutation(cell, data):
    matrix, ops = cell
    labels = [-1, *(AVAILABLE_OPS.index(op) for op in ops[1:-1]), -2]
    order = data.draw(st.permutations(range(len(matrix))))
    new_matrix = [[matrix[a][b] for b in order] for a in order]
    assert nasbench_hash_module(new_matrix, [labels[a] for a in order]) == nasbench_hash_module(matrix, labels)


@settings(max_examples=200, deadline=None)
@given(cell=valid_cells(), data=st.data())
def test_a_dangling_vertex_is_pruned_away(cell, data):
    matrix, ops = cell
    size = len(matrix)
    position = data.draw(st.integers(1, size - 1), label="position")  # the new vertex's number
    old = [v if v < position else v + 1 for v in range(size)]
    grown = [[0] * (size + 1) for _ in range(size + 1)]
    for a in range(size):
        for b in range(size):
            grown[old[a]][old[b]] = matrix[a][b]
    # Edges only into it (a dead end) or only out of it (never reached): off every input -> output path.
    if data.draw(st.booleans(), label="dead end"):
        for source in data.draw(st.sets(st.integers(0, position - 1)), label="sources"):
            grown[source][position] = 1
    else:
        for target in data.draw(st.sets(st.integers(position + 1, size)), label="targets"):
            grown[position][target] = 1
    grown_ops = ops[:position] + [data.draw(st.sampled_from(AVAILABLE_OPS))] + ops[position:]
    assert prune(grown, grown_ops) == (matrix, ops)
    assert canonical_hash((grown, grown_ops)) == canonical_hash((matrix, ops))
    # Hashed as given (NNI's lookup), the unpruned spelling is another model: why the API prunes.
    assert spec_hash(grown, grown_ops) != spec_hash(matrix, ops)
