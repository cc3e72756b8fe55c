"""The site's nb101.js under node reads the cell code as nasbenchmark.nasbench101.storage writes it, and the
designer's editor (nb101_designer.js) reads and writes the cells the URL holds."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from conftest import REPO
from generators.fixtures import nb101 as fixture
from generators.nasbench101.records import Cell
from nasbenchmark.nasbench101.descriptor import SPACE
from nasbenchmark.nasbench101.storage import cell_code

BENCH = REPO / "templates" / "static" / "js" / "bench"

# argv: bench folder, cases file. The designer module imports router.js, which needs no DOM to load.
_RUNNER = r"""
import {readFileSync} from "node:fs";
import {pathToFileURL} from "node:url";
const [folder, casesPath] = process.argv.slice(1);
const nb101 = await import(pathToFileURL(folder + "/nb101.js").href);
const designer = await import(pathToFileURL(folder + "/nb101_designer.js").href);
const {space, codes, urls} = JSON.parse(readFileSync(casesPath, "utf8"));
nb101.configure(space);
designer.configure(space);
const decoded = codes.map((code) => ({...nb101.decodeCell(code), text: nb101.cellText(nb101.decodeCell(code)),
  layers: nb101.layers(nb101.decodeCell(code).matrix)}));
const read = urls.map((query) => {
  try {
    const state = designer.readState(new URLSearchParams(query));
    return {state, params: designer.stateParams(state), analysis: designer.analyze(state)};
  } catch (error) { return {error: error.message}; }
});
console.log(JSON.stringify({decoded, read}));
"""


@pytest.fixture(scope="module")
def node_output(tmp_path_factory):
    if not shutil.which("node"):
        pytest.skip("needs node (the site's JavaScript runs under it)")
    models = fixture.select_models(120, include=fixture.KNOWN_MODELS)
    cells = [Cell(m.module_hash, m.raw_adjacency, m.raw_operations, int(len(m.raw_adjacency) ** 0.5)) for m in models]
    stored = next(m for m in fixture.KNOWN_MODELS if m.module_hash.startswith("28cf"))
    short = ",".join(op.replace("-bn-relu", "") for op in stored.raw_operations.split(",")[1:-1])
    urls = ["", f"adjacency={stored.raw_adjacency}&ops={short}", "adjacency=0100000100000000&ops=conv3x3-bn-relu,maxpool3x3",
            "adjacency=0100&ops=", "adjacency=0010&ops=conv3x3", "adjacency=" + "0" * 100 + "&ops="]
    cases = tmp_path_factory.mktemp("nb101site") / "cases.json"
    cases.write_text(json.dumps({"space": SPACE.constants, "codes": [cell_code(c.matrix, c.ops) for c in cells],
                                 "urls": urls}))
    run = subprocess.run(["node", "--input-type=module", "-e", _RUNNER, str(BENCH), str(cases)], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return cells, json.loads(run.stdout)


def test_the_cell_code_decodes_as_python_encodes_it(node_output):
    cells, output = node_output
    assert {cell.num_vertices for cell in cells} == {2, 3, 4, 5, 6, 7}
    for cell, decoded in zip(cells, output["decoded"]):
        assert (decoded["matrix"], decoded["ops"]) == (cell.matrix, cell.ops)
        edges = cell.raw_adjacency.count("1")
        assert decoded["text"].endswith(f", {edges} edge{'' if edges == 1 else 's'}")
        depth = decoded["layers"]
        assert depth[0] == 0 and depth[-1] == max(depth) and all(
            depth[j] > depth[i] for i in range(cell.num_vertices) for j in range(cell.num_vertices) if cell.matrix[i][j])


def test_the_designer_reads_and_writes_the_url(node_output):
    _, output = node_output
    default, stored, pruned, minimal, backwards, too_big = output["read"]
    assert default["analysis"]["key"] == stored["analysis"]["key"] == "28cfc7874f6d200472e1a9dcd8650aa0"
    assert default["params"] == {"adjacency": "0111010000000100000010000100000000100000010000000",
                                 "ops": "conv1x1,conv3x3,conv3x3,conv3x3,maxpool3x3"}
    assert pruned["state"]["ops"] == ["input", "conv3x3-bn-relu", "maxpool3x3", "output"]
    assert pruned["analysis"]["problems"] == [
        {"level": "note", "text": "vertex 2 is on no input-to-output path and will be pruned"}]
    assert minimal["analysis"] == {"problems": [], "key": minimal["analysis"]["key"],
                                   "summary": f"As nasbench stores it: 2 vertices, 1 edge; module hash "
                                              f"{minimal['analysis']['key']}."}
    assert "edges go from a lower to a higher vertex; 1→0 do not" in backwards["error"]
    assert "with 2 to 9 vertices" in too_big["error"]
