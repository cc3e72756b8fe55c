"""The site's nds.js under node: the two NAS cells drawn from a stored cell_spec (every edge with its op, the
output's states), the stage table from a model_spec, labels, on configurations of a converted fixture.

A minimal DOM stand-in (elements with attributes and children) lets the drawing code run without a browser.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess

import pytest

from conftest import REPO
from generators.fixtures import nds as fixture
from nasbenchmark.nds.descriptor import BENCHMARK

MODULE = REPO / "templates" / "static" / "js" / "bench" / "nds.js"

# argv: module path, cases file. Prints, per row, the drawing as nested {tag, attrs, children|text}.
_RUNNER = r"""
import {readFileSync} from "node:fs";
import {pathToFileURL} from "node:url";
class Node {
  constructor(tag) { this.tag = tag; this.attrs = {}; this.children = []; this.dataset = {}; }
  append(...nodes) { this.children.push(...nodes); }
  setAttribute(name, value) { this.attrs[name] = value; }
  addEventListener() {}
}
class Text extends Node { constructor(text) { super("#text"); this.text = text; } }
globalThis.Node = Node;
globalThis.document = {
  createElement: (tag) => new Node(tag), createElementNS: (ns, tag) => new Node(tag),
  createTextNode: (text) => new Text(text),
};
const plain = (node) => node === null ? null : node.tag === "#text" ? node.text
  : {tag: node.tag, attrs: node.attrs, children: node.children.map(plain)};
const [modulePath, casesPath] = process.argv.slice(1);
const nds = await import(pathToFileURL(modulePath).href);
const {space, rows} = JSON.parse(readFileSync(casesPath, "utf8"));
nds.configure(space);
console.log(JSON.stringify(rows.map((row) => ({
  drawing: plain(nds.drawArch(row)), label: nds.archLabel(row),
  stages: nds.stageRows(nds.parseSpec(row.model_spec)),
}))));
"""


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    if not shutil.which("node"):
        pytest.skip("needs node")
    work = tmp_path_factory.mktemp("nds-js")
    fixture.build_sample_db(work / "nds.db", scale=0.002, seed=4)
    conn = sqlite3.connect(work / "nds.db")
    conn.row_factory = sqlite3.Row
    rows = [dict(row) for row in conn.execute(
        "select * from ndstrialconfig where id in (select min(id) from ndstrialconfig group by proposer) order by id")]
    rows.append({"config_id": 9, "depth": 12, "width": 64})  # a scatter point of ndsmeanstats
    cases = work / "cases.json"
    cases.write_text(json.dumps({"space": BENCHMARK.space.constants, "rows": rows}))
    done = subprocess.run(["node", "--input-type=module", "-e", _RUNNER, str(MODULE), str(cases)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return list(zip(rows, json.loads(done.stdout)))


def nodes(tree, predicate):
    """Every element of ``tree`` (depth first) for which ``predicate`` holds."""
    if not isinstance(tree, dict):
        return []
    found = [tree] if predicate(tree) else []
    for child in tree["children"]:
        found += nodes(child, predicate)
    return found


def text(tree) -> str:
    return tree if isinstance(tree, str) else "".join(text(child) for child in tree["children"])


def has_class(name):
    return lambda node: name in node["attrs"].get("class", "").split()


def test_nas_cells_draw_every_edge_with_its_op_and_the_concatenated_states(drawn):
    cells = [(row, out) for row, out in drawn if row.get("model_family") == "nas_cell"]
    assert len(cells) == 5  # amoeba, darts, enas, nasnet, pnas
    for row, out in cells:
        spec = json.loads(row["cell_spec"])
        svgs = nodes(out["drawing"], lambda node: node["tag"] == "svg")
        assert [has_class("cell-graph")(svg) for svg in svgs] == [True, True]
        for svg, cell in zip(svgs, ("normal", "reduce")):
            count = sum(1 for key in spec if key.startswith(f"{cell}_") and key.endswith("_op_x"))
            ops = [spec[f"{cell}_{i}_op_{side}"] for i in range(count) for side in "xy"]
            assert len(nodes(svg, has_class("edge"))) == 2 * count
            labels = [text(label) for label in nodes(svg, has_class("edge-label"))]
            assert labels == ops
            assert len(nodes(svg, has_class("concat"))) == len(spec[f"{cell}_concat"])
            title = text(nodes(svg, lambda node: node["tag"] == "title")[0])
            node_0 = f"node 0 <- {spec[f'{cell}_0_op_x']}("
            assert node_0 in title and "output = concat(" in title
        model = json.loads(row["model_spec"])
        assert out["label"] == f"{row['proposer']} cells, depth {model['depth']}, width {model['width']}"


def test_other_families_get_a_stage_table(drawn):
    stacks = [(row, out) for row, out in drawn if row.get("model_family") not in (None, "nas_cell")]
    assert {row["model_family"] for row, _ in stacks} == {"residual_bottleneck", "residual_basic", "vanilla"}
    for row, out in stacks:
        model = json.loads(row["model_spec"])
        assert [stage["blocks"] for stage in out["stages"]] == model["ds"]
        assert [stage["channels"] for stage in out["stages"]] == model["ws"]
        assert [stage["stride"] for stage in out["stages"]] == model["ss"]
        table = out["drawing"]
        assert table["tag"] == "table" and has_class("stage-table")(table)
        body = nodes(table, lambda node: node["tag"] == "tbody")[0]
        assert len(body["children"]) == len(model["ds"])
        headers = [text(th) for th in nodes(table, lambda node: node["tag"] == "th")]
        assert ("groups (num_gs)" in headers) == ("num_gs" in model)
        if "bot_muls" in model:
            assert [stage["inner"] for stage in out["stages"]][1:] == [
                round(w * b) for w, b in zip(model["ws"][1:], model["bot_muls"][1:])]
        assert out["label"] == f"{row['proposer']} {row['model_family']}: ds [{','.join(map(str, model['ds']))}] " \
                               f"ws [{','.join(map(str, model['ws']))}]"


def test_a_summary_row_has_a_label_and_no_drawing(drawn):
    row, out = drawn[-1]
    assert out == {"drawing": None, "label": "depth 12, width 64", "stages": []}
