"""The site's nb101_cell.js under node gives graph_util's pruning, problems and hashes on the same cells.

Cells: the real hash vectors, formats.md 1.6's pruning cases, and a few hundred seeded random specs
(valid, unpruned, too big, malformed); plus MD5 of strings around the block boundaries.
"""
from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess

import pytest

from conftest import REPO, real_data
from nasbenchmark.nasbench101 import AVAILABLE_OPS, INPUT, OUTPUT, canonical_hash, prune, spec_hash, spec_problems

MODULE = REPO / "templates" / "static" / "js" / "bench" / "nb101_cell.js"

# argv: module path, cases file. Prints one result per cell and the MD5 of each text.
_RUNNER = r"""
import {readFileSync} from "node:fs";
import {pathToFileURL} from "node:url";
const [modulePath, casesPath] = process.argv.slice(1);
const cell = await import(pathToFileURL(modulePath).href);
const {cells, texts} = JSON.parse(readFileSync(casesPath, "utf8"));
const results = cells.map(([matrix, ops]) => {
  const analysis = cell.analyzeCell(matrix, ops);
  let spec = null;
  try { spec = cell.specHash(matrix, ops); } catch (error) { spec = "error: " + error.message; }
  let pruned = null;
  try { pruned = cell.prune(matrix, ops); } catch (error) { pruned = "error: " + error.message; }
  const problems2 = cell.cellProblems(matrix, ops);
  return {...analysis, spec, pruned, problems2, canonical: cell.canonicalHash(matrix, ops)};
});
console.log(JSON.stringify({results, md5: texts.map(cell.md5Hex)}));
"""


def _random_cell(rng: random.Random) -> tuple[list[list[int]], list[str]]:
    size = rng.randint(2, 9)
    density = rng.uniform(0.15, 0.6)
    matrix = [[int(j > i and rng.random() < density) for j in range(size)] for i in range(size)]
    ops = [INPUT, *(rng.choice(AVAILABLE_OPS) for _ in range(size - 2)), OUTPUT]
    flaw = rng.random()
    if flaw < 0.04 and size > 2:
        ops[rng.randrange(1, size - 1)] = "conv5x5"
    elif flaw < 0.07:
        ops[0] = AVAILABLE_OPS[0]
    elif flaw < 0.09:
        ops[-1] = AVAILABLE_OPS[2]
    elif flaw < 0.11:
        i = rng.randrange(size)
        matrix[i][rng.randrange(i + 1)] = 1  # a backward edge or a self-loop
    elif flaw < 0.12:
        matrix[0].append(0)
    elif flaw < 0.13:
        ops.append(OUTPUT)
    return matrix, ops


def _cases() -> list[tuple[list, list]]:
    known = json.loads(real_data("nasbench101", "nb101_known_values.json").read_text())
    cells = [(vector["matrix"], vector["ops"]) for vector in known["hash_test_vectors"]]
    cells += [([[0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]], [1, 2, 3, 4]),
              ([[0, 1, 1, 0], [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]], [1, 3, 4, 5]),
              ([[0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]], [INPUT, "a", "b", OUTPUT]),
              ([[0, 2], [0, 0]], [INPUT, OUTPUT]), ([[0]], [INPUT]), ([[0, 1], [0, 0]], [INPUT, OUTPUT])]
    rng = random.Random(101)
    cells += [_random_cell(rng) for _ in range(600)]
    return cells


def _off_path(matrix: list[list[int]]) -> list[int]:
    """Vertices on no input -> output path, by transitive closure (independent of graph_util)."""
    size = len(matrix)
    reach = [[bool(matrix[i][j]) or i == j for j in range(size)] for i in range(size)]
    for k in range(size):
        for i in range(size):
            for j in range(size):
                reach[i][j] = reach[i][j] or (reach[i][k] and reach[k][j])
    return [v for v in range(size) if not (reach[0][v] and reach[v][size - 1])]


@pytest.fixture(scope="module")
def node_results(tmp_path_factory):
    if not shutil.which("node"):
        pytest.skip("needs node (the site's JavaScript runs under it)")
    cells = _cases()
    # Lengths around where padding needs a second 64-byte block.
    lengths = (54, 55, 56, 57, 63, 64, 65, 119, 120, 999)
    texts = ["", "a", "abc", "message digest", "é 中 😀", *("x" * n for n in lengths)]
    cases = tmp_path_factory.mktemp("nb101js") / "cases.json"
    cases.write_text(json.dumps({"cells": cells, "texts": texts}))
    run = subprocess.run(["node", "--input-type=module", "-e", _RUNNER, str(MODULE), str(cases)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    output = json.loads(run.stdout)
    return cells, output["results"], texts, output["md5"]


def test_md5_matches_hashlib(node_results):
    _, _, texts, digests = node_results
    assert digests == [hashlib.md5(text.encode("utf-8")).hexdigest() for text in texts]


def test_cases_cover_every_kind_of_cell(node_results):
    cells, results, _, _ = node_results
    assert sum(result["hash"] is not None for result in results) > 200
    assert sum(result["hash"] is not None and result["removed"] != [] for result in results) > 20
    assert sum(result["hash"] is None for result in results) > 100


def test_same_problems_pruning_and_hashes_as_graph_util(node_results):
    cells, results, _, _ = node_results
    for (matrix, ops), result in zip(cells, results):
        problems = spec_problems(matrix, ops)
        notes = [p for p in result["problems"] if p.endswith("will be pruned")]
        assert [p for p in result["problems"] if p not in notes] == problems, (matrix, ops)
        assert result["problems2"] == result["problems"]
        try:
            pruned_matrix, pruned_ops = prune(matrix, ops)
        except ValueError as exc:
            assert result["pruned"] == f"error: {exc}"
            assert result["hash"] is None and result["removed"] == [] and notes == []
            continue
        assert result["pruned"] == {"matrix": pruned_matrix, "ops": pruned_ops}
        assert result["removed"] == _off_path(matrix)
        assert len(notes) == (1 if result["removed"] else 0)
        try:
            expected = canonical_hash((matrix, ops))
        except ValueError:
            expected = None
        assert result["hash"] == result["canonical"] == expected, (matrix, ops)
        if all(op in AVAILABLE_OPS for op in ops[1:-1]):
            assert result["spec"] == spec_hash(matrix, ops)


def test_known_vectors_and_dangling_message(node_results):
    cells, results, _, _ = node_results
    known = json.loads(real_data("nasbench101", "nb101_known_values.json").read_text())["hash_test_vectors"]
    assert [result["hash"] for result in results[:len(known)]] == [vector["hash"] for vector in known]
    first_pruning_case = results[len(known)]
    assert first_pruning_case["removed"] == [2]
    assert first_pruning_case["problems"][0] == "vertex 2 is on no input-to-output path and will be pruned"
