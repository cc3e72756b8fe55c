// The NAS-Bench-101 cell editor of the designer view (views/designer.js): vertices with their ops, edges
// as a grid of checkboxes, the cell drawn beside them (click an edge to remove it). Problems and the
// canonical hash come from nb101_cell.js, which gives graph_util's results and messages.
//
// URL: ?adjacency=<V*V digits, row by row>&ops=<the inner vertices' ops, comma-separated>, nasbench's
// spelling; ops by their short (conv3x3) or full (conv3x3-bn-relu) names.
import { h } from "../dom.js";
import { RouteError } from "../router.js";
import { AVAILABLE_OPS, INPUT, MAX_VERTICES, OUTPUT, analyzeCell } from "./nb101_cell.js";
import { configure as configureCell, drawCell, shortOp } from "./nb101.js";

/** Two more than the space allows: a spelling may have vertices that pruning drops, and "too many" shows. */
export const MAX_EDITOR_VERTICES = MAX_VERTICES + 2;

/** The Inception-like cell of nasbench's README, in the README's spelling (its stored one differs). */
const README_CELL = {
  matrix: [[0, 1, 1, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 1, 0, 0],
    [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
  ops: [INPUT, "conv1x1-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "maxpool3x3", OUTPUT],
};

export function configure(space) {
  configureCell(space);
}

function opByName(name) {
  return AVAILABLE_OPS.find((op) => op === name || shortOp(op) === name);
}

/** The cell in the URL, or the README's cell; RouteError naming what is wrong with a malformed one. */
export function readState(params) {
  const adjacency = params.get("adjacency");
  if (adjacency === null) return { matrix: README_CELL.matrix.map((row) => [...row]), ops: [...README_CELL.ops] };
  const size = Math.round(Math.sqrt(adjacency.length));
  if (!/^[01]+$/.test(adjacency) || size * size !== adjacency.length || size < 2 || size > MAX_EDITOR_VERTICES) {
    throw new RouteError(`"adjacency" must be the V*V digits 0 or 1 of a cell's matrix, row by row, with 2 to ` +
      `${MAX_EDITOR_VERTICES} vertices; got "${adjacency.slice(0, 90)}".`);
  }
  const matrix = Array.from({ length: size }, (_, i) => Array.from({ length: size }, (_, j) => Number(adjacency[i * size + j])));
  const below = [];
  for (let i = 0; i < size; i++) for (let j = 0; j <= i; j++) if (matrix[i][j]) below.push(`${i}→${j}`);
  if (below.length) {
    throw new RouteError(`"adjacency": edges go from a lower to a higher vertex; ${below.join(", ")} do not.`);
  }
  const names = (params.get("ops") ?? "").split(",").filter((name) => name !== "");
  const inner = names.map(opByName);
  if (inner.length !== size - 2 || inner.some((op) => !op)) {
    throw new RouteError(`"ops" must list the ${size - 2} inner vertices' ops, comma-separated, each one of ` +
      `${AVAILABLE_OPS.map(shortOp).join(", ")}; got "${(params.get("ops") ?? "").slice(0, 90)}".`);
  }
  return { matrix, ops: [INPUT, ...inner, OUTPUT] };
}

export function stateParams({ matrix, ops }) {
  return { adjacency: matrix.flat().join(""), ops: ops.slice(1, -1).map(shortOp).join(",") };
}

export function analyze({ matrix, ops }) {
  const result = analyzeCell(matrix, ops);
  // analyzeCell lists the note on pruned vertices first, then the errors (nasbench's checks after pruning).
  const notes = result.removed.length ? 1 : 0;
  const problems = result.problems.map((text, k) => ({ level: k < notes ? "note" : "error", text }));
  const edges = result.hash ? result.matrix.flat().reduce((a, b) => a + b, 0) : 0;
  const summary = result.hash
    ? `As nasbench stores it: ${result.matrix.length} vertices, ${edges} edge${edges === 1 ? "" : "s"}; module hash ` +
      `${result.hash}.`
    : "";
  return { problems, key: result.hash, summary };
}

function withoutVertex({ matrix, ops }, vertex) {
  return {
    matrix: matrix.filter((_, i) => i !== vertex).map((row) => row.filter((_, j) => j !== vertex)),
    ops: ops.filter((_, i) => i !== vertex),
  };
}

function withNewVertex({ matrix, ops }) {
  const last = matrix.length - 1;  // the new vertex comes just before the output, unconnected
  const grown = matrix.map((row) => [...row.slice(0, last), 0, row[last]]);
  grown.splice(last, 0, Array(matrix.length + 1).fill(0));
  return { matrix: grown, ops: [...ops.slice(0, last), AVAILABLE_OPS[0], ops[last]] };
}

function withEdge({ matrix, ops }, i, j, on) {
  return { matrix: matrix.map((row, r) => row.map((entry, c) => (r === i && c === j ? (on ? 1 : 0) : entry))), ops };
}

/** The editor: the drawing, the vertices with their ops, the edge grid. */
export function renderEditor(state, onChange) {
  const { matrix, ops } = state;
  const size = matrix.length;
  const { removed } = analyzeCell(matrix, ops);
  const drawing = drawCell(matrix, ops, {
    removed, label: "Designed cell", onEdge: (i, j) => onChange(withEdge(state, i, j, false)),
  });
  const vertexRows = ops.map((op, v) => {
    const inner = v > 0 && v < size - 1;
    return h("tr", {},
      h("td", {}, String(v)),
      h("td", {}, inner
        ? h("select", { id: `designer-op-${v}`, "aria-label": `Op of vertex ${v}`,
          onchange: (event) => onChange({ matrix, ops: ops.map((o, k) => (k === v ? event.target.value : o)) }) },
        AVAILABLE_OPS.map((name) => h("option", { value: name, selected: name === op }, shortOp(name))))
        : op),
      h("td", {}, inner ? h("button", { type: "button", id: `designer-remove-${v}`, "aria-label": `Remove vertex ${v}`,
        onclick: () => onChange(withoutVertex(state, v)) }, "Remove") : ""));
  });
  const header = h("tr", {}, h("th", { scope: "col" }, "from \\ to"),
    Array.from({ length: size - 1 }, (_, j) => h("th", { scope: "col" }, String(j + 1))));
  const edgeRows = Array.from({ length: size - 1 }, (_, i) => h("tr", {}, h("th", { scope: "row" }, String(i)),
    Array.from({ length: size - 1 }, (_, k) => {
      const j = k + 1;
      return h("td", {}, j > i ? h("input", {
        type: "checkbox", id: `designer-edge-${i}-${j}`, "aria-label": `Edge ${i} → ${j}`, checked: matrix[i][j] === 1,
        onchange: (event) => onChange(withEdge(state, i, j, event.target.checked)),
      }) : "");
    })));
  return h("div", { class: "arch-top designer-grid" },
    h("figure", { class: "cell" }, drawing, h("figcaption", {},
      "Dashed: vertices on no input-to-output path, which nasbench prunes. Click an edge to remove it.")),
    h("div", { class: "designer-controls" },
      h("h3", {}, "Vertices"),
      h("table", { class: "compact designer-vertices" }, h("tbody", {}, vertexRows)),
      h("p", {}, h("button", { type: "button", id: "designer-add", disabled: size >= MAX_EDITOR_VERTICES,
        onclick: () => onChange(withNewVertex(state)) }, "Add a vertex"),
      size >= MAX_EDITOR_VERTICES ? ` (at most ${MAX_EDITOR_VERTICES} here)` : ""),
      h("h3", {}, "Edges"),
      h("table", { class: "compact designer-edges" }, h("thead", {}, header), h("tbody", {}, edgeRows))));
}
