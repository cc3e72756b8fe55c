// NAS-Bench-101 cells: the `cell` code decoded (nasbenchmark.nasbench101.storage), its text, and the
// cell drawn as a DAG of up to 7 vertices in layers. The ops and the code's layout come from the
// descriptor (page data) through configure(). The designer (nb101_designer.js) draws with drawCell too.
import { h, s } from "../dom.js";

let OPS = [];
let INPUT = "input";
let OUTPUT = "output";
let OPS_SHIFT = 21;

/** The search space's constants from the page data: {ops, input, output, ops_shift, ...}. */
export function configure(space) {
  OPS = space.ops;
  INPUT = space.input;
  OUTPUT = space.output;
  OPS_SHIFT = space.ops_shift;
}

const SHORT = { "conv3x3-bn-relu": "conv3x3", "conv1x1-bn-relu": "conv1x1", maxpool3x3: "maxpool3x3" };
const COLORS = { "conv3x3-bn-relu": "#b3261e", "conv1x1-bn-relu": "#b5651d", maxpool3x3: "#3b6fb6" };

/** The short name of an op (conv3x3 for conv3x3-bn-relu). */
export const shortOp = (op) => SHORT[op] ?? op;

/** Bit of the edge i -> j in a cell code (nasbench's generate_graphs order). */
export const edgeBit = (i, j) => i + (j * (j - 1)) / 2;

/**
 * {matrix, ops} of a cell code: edge bits, then the inner ops as base-4 digits (label + 1, 0: no vertex).
 * Bit operations on a code of up to 31 bits stay exact in JavaScript's 32-bit integers.
 */
export function decodeCell(code) {
  const inner = [];
  for (let digits = Math.floor(code / 2 ** OPS_SHIFT); digits > 0; digits = Math.floor(digits / 4)) {
    inner.push(OPS[(digits % 4) - 1]);
  }
  const size = inner.length + 2;
  const matrix = Array.from({ length: size }, (_, i) => Array.from({ length: size },
    (_, j) => (i < j && Math.floor(code / 2 ** edgeBit(i, j)) % 2 === 1 ? 1 : 0)));
  return { matrix, ops: [INPUT, ...inner, OUTPUT] };
}

/** "conv3x3 maxpool3x3 conv1x1, 8 edges": the inner ops in vertex order and the edge count. */
export function cellText({ matrix, ops }) {
  const edges = matrix.flat().reduce((total, entry) => total + entry, 0);
  const inner = ops.slice(1, -1).map(shortOp).join(" ");
  return `${inner || "(no inner vertex)"}, ${edges} edge${edges === 1 ? "" : "s"}`;
}

/** The `cell` code is shown (and downloaded) as its ops and edge count. */
export const presentation = {
  cell: { name: "cell", text: (value) => cellText(decodeCell(value)) },
};

export const renderers = {
  hash: (value) => (value === null ? "" : h("code", { class: "arch" }, value)),
  // Tables that show `cell` without the presentation (the scatter's Pareto front) get the same text.
  cell: (value) => (typeof value === "number" ? cellText(decodeCell(value)) : value ?? ""),
};

export const archCaption = "The cell: each vertex applies its op to the sum of its inputs; the output concatenates " +
  "its inputs. Vertices are placed by their longest path from the input.";

/** Hover and heading text of a row with a cell code (nb101arch, nb101meanstats, the scatter's rows). */
export function archLabel(row) {
  if (row.cell === undefined || row.cell === null) return row.hash ?? "";
  return cellText(decodeCell(row.cell));
}

function bucket(count) {
  if (count <= 1) return "1";
  if (count <= 10) return "2–10";
  if (count <= 100) return "11–100";
  return "over 100";
}

export function scatterColors() {
  const cell = (d) => decodeCell(d.cell);
  const count = (op) => (d) => String(cell(d).ops.filter((o) => o === op).length);
  return [
    { name: "density", label: "models in the point's bin", value: (d) => bucket(d.archs ?? 1) },
    { name: "vertices", label: "vertices", value: (d) => String(cell(d).ops.length) },
    ...OPS.map((op) => ({ name: SHORT[op], label: `${SHORT[op]} vertices`, value: count(op) })),
  ];
}

/** Each vertex's layer: its longest path from the input (the output is last). */
export function layers(matrix) {
  const depth = matrix.map(() => 0);
  for (let j = 1; j < matrix.length; j++) {
    for (let i = 0; i < j; i++) if (matrix[i][j]) depth[j] = Math.max(depth[j], depth[i] + 1);
  }
  const last = matrix.length - 1;
  depth[last] = Math.max(depth[last], ...depth.slice(0, last).map((d) => d + 1));
  return depth;
}

/**
 * The cell as SVG. options: removed (vertices pruning drops, drawn dashed), onVertex(v) and onEdge(i, j)
 * (clickable vertices and edges, for the designer), label (the accessible description's prefix).
 */
export function drawCell(matrix, ops, options = {}) {
  const { removed = [], onVertex = null, onEdge = null, label = "Cell" } = options;
  const size = matrix.length;
  const depth = layers(matrix);
  const columns = Math.max(...depth) + 1;
  const byLayer = new Map();
  depth.forEach((d, v) => byLayer.set(d, [...(byLayer.get(d) || []), v]));
  const width = 680;
  const tallest = Math.max(...[...byLayer.values()].map((vs) => vs.length));
  const height = Math.max(220, 96 * tallest + 40);
  const position = [];
  for (const [layer, members] of byLayer) {
    members.forEach((v, k) => {
      position[v] = [60 + (layer * (width - 120)) / Math.max(columns - 1, 1), ((k + 1) * height) / (members.length + 1)];
    });
  }
  const edges = [];
  for (let i = 0; i < size; i++) for (let j = i + 1; j < size; j++) if (matrix[i][j]) edges.push([i, j]);
  const name = (v) => (v === 0 ? "input" : v === size - 1 ? "output" : `vertex ${v} (${shortOp(ops[v])})`);
  const description = `${label}: ${size} vertices; ` + (edges.map(([i, j]) => `${name(i)} → ${name(j)}`).join("; ") || "no edges");
  const marker = `arrow-nb101-${Math.random().toString(36).slice(2, 8)}`;
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "cell-graph", role: "img", "aria-label": description },
    s("title", {}, description),
    s("defs", {}, s("marker", { id: marker, viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7",
      markerHeight: "7", orient: "auto-start-reverse" }, s("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#444" }))));
  const radius = 30;
  for (const [i, j] of edges) {
    const [x1, y1] = position[i];
    const [x2, y2] = position[j];
    // Edges that skip a layer bow away from the straight line, so they do not cross the vertices between.
    const bow = depth[j] - depth[i] > 1 ? 40 * (i % 2 === 0 ? -1 : 1) : 0;
    const angle = Math.atan2(y2 - y1, x2 - x1);
    const [sx, sy] = [x1 + radius * Math.cos(angle), y1 + radius * Math.sin(angle)];
    const [ex, ey] = [x2 - radius * Math.cos(angle), y2 - radius * Math.sin(angle)];
    const [mx, my] = [(sx + ex) / 2 - bow * Math.sin(angle), (sy + ey) / 2 + bow * Math.cos(angle)];
    const dashed = removed.includes(i) || removed.includes(j);
    svg.append(s("path", {
      d: bow ? `M ${sx} ${sy} Q ${mx} ${my} ${ex} ${ey}` : `M ${sx} ${sy} L ${ex} ${ey}`, fill: "none",
      stroke: dashed ? "#9aa0a6" : "#444", "stroke-width": 2, "stroke-dasharray": dashed ? "5 4" : null,
      "marker-end": `url(#${marker})`, class: onEdge ? "edge clickable" : "edge", "data-edge": `${i}-${j}`,
      onclick: onEdge ? () => onEdge(i, j) : null,
    }, onEdge ? s("title", {}, `Remove the edge ${name(i)} → ${name(j)}`) : null));
  }
  for (let v = 0; v < size; v++) {
    const [x, y] = position[v];
    const io = v === 0 || v === size - 1;
    const dashed = removed.includes(v);
    const color = io ? "#333" : COLORS[ops[v]] || "#b3261e";
    svg.append(s("g", { class: onVertex ? "node clickable" : "node", "data-vertex": String(v),
      onclick: onVertex ? () => onVertex(v) : null },
      s("circle", { cx: x, cy: y, r: radius, fill: io ? "#e8eef8" : "#fff", stroke: dashed ? "#9aa0a6" : color,
        "stroke-width": 2, "stroke-dasharray": dashed ? "5 4" : null }),
      s("text", { x, y: y - 2, "text-anchor": "middle", "font-size": 12, fill: dashed ? "#777" : color },
        io ? (v === 0 ? "input" : "output") : shortOp(ops[v])),
      s("text", { x, y: y + 13, "text-anchor": "middle", "font-size": 10, fill: "#555" }, String(v))));
  }
  return svg;
}

/** The cell of a row with a cell code, as SVG (the architecture page and the scatter's pointed panel). */
export function drawArch(row) {
  if (row.cell === undefined || row.cell === null) return null;
  const { matrix, ops } = decodeCell(row.cell);
  return drawCell(matrix, ops, { label: `Cell ${row.hash ?? ""}`.trim() });
}
