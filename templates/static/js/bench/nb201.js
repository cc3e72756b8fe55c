// NAS-Bench-201 cells: decoding the summary table's `cell` code, the arch string, the cell drawing.
// The ops and edges come from the benchmark's descriptor (page data), through configure().
import { h, s } from "../dom.js";

let OPS = [];
let ORIGINAL = {};
let EDGES = [];

/** The search space's constants from the page data: {ops, original_ops, edges}. */
export function configure(space) {
  OPS = space.ops;
  ORIGINAL = space.original_ops;
  EDGES = space.edges;
}

const COLORS = { none: "#9aa0a6", skip_connect: "#2a7d4f", conv_1x1: "#b5651d", conv_3x3: "#b3261e", avg_pool_3x3: "#3b6fb6" };

/** {edge: op} from the `cell` code: base-5 digits, edge 0_1 least significant. */
export function decodeCell(code) {
  return Object.fromEntries(EDGES.map((edge, k) => [edge, OPS[Math.floor(code / 5 ** k) % 5]]));
}

/** The original arch string |op~0|+|op~0|op~1|+|op~0|op~1|op~2| of an {edge: op} dict. */
export function archString(ops) {
  const o = (edge) => ORIGINAL[ops[edge]] ?? ops[edge];
  return `|${o("0_1")}~0|+|${o("0_2")}~0|${o("1_2")}~1|+|${o("0_3")}~0|${o("1_3")}~1|${o("2_3")}~2|`;
}

/** The summary table's `cell` code is shown (and downloaded) as the arch string. */
export const presentation = {
  cell: { name: "arch_str", text: (value) => archString(decodeCell(value)) },
};

export const renderers = {
  arch_str: (value) => (value === null ? "" : h("code", { class: "arch" }, value)),
};

export const archCaption = "The cell: each node sums the operations on its incoming edges; dashed edges are “none”.";

export function scatterColors() {
  return [
    { name: "conv3x3", label: "edges with conv_3x3", value: (d) => String(Object.values(decodeCell(d.cell)).filter((op) => op === "conv_3x3").length) },
    { name: "none", label: "edges with none", value: (d) => String(Object.values(decodeCell(d.cell)).filter((op) => op === "none").length) },
    ...EDGES.map((edge) => ({ name: `op_${edge}`, label: `op on edge ${edge.replace("_", "→")}`, value: (d) => decodeCell(d.cell)[edge] })),
  ];
}

/** Hover/heading text of an architecture row (nb201arch) or a summary row (cell code). */
export function archLabel(row) {
  if (row.arch_str !== undefined) return row.arch_str;
  if (row.cell !== undefined && row.cell !== null) return archString(decodeCell(row.cell));
  return "";
}

// Node positions and the arcs between them: straight for neighbours, bowed for longer edges.
const NODE_X = [70, 250, 430, 610];
const NODE_Y = 170;
const BOW = { "0_1": 0, "1_2": 0, "2_3": 0, "0_2": -80, "1_3": 80, "0_3": -150 };

/** The cell as an SVG graph: 4 nodes, 6 edges labelled with their ops (none dashed). */
export function drawArch(row) {
  const ops = Object.fromEntries(EDGES.map((edge) => [edge, row[`op_${edge}`]]));
  if (EDGES.some((edge) => !ops[edge])) {
    if (row.cell === undefined) return null;
    Object.assign(ops, decodeCell(row.cell));
  }
  const description = EDGES.map((edge) => `node ${edge[0]} to node ${edge[2]}: ${ops[edge]}`).join("; ");
  const svg = s("svg", { viewBox: "0 0 680 330", class: "cell-graph", role: "img", "aria-label": `Cell: ${description}` },
    s("title", {}, `Cell: ${description}`),
    s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7",
      markerHeight: "7", orient: "auto-start-reverse" }, s("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#444" }))));
  for (const edge of EDGES) {
    const [from, to] = [Number(edge[0]), Number(edge[2])];
    const x1 = NODE_X[from] + 24, x2 = NODE_X[to] - 24, bow = BOW[edge];
    const mx = (x1 + x2) / 2, my = NODE_Y + bow;
    const op = ops[edge];
    const path = bow === 0 ? `M ${x1} ${NODE_Y} L ${x2} ${NODE_Y}` : `M ${x1} ${NODE_Y} Q ${mx} ${NODE_Y + 2 * bow} ${x2} ${NODE_Y}`;
    svg.append(s("path", { d: path, fill: "none", stroke: COLORS[op] || "#444", "stroke-width": op === "none" ? 1.5 : 2.5,
      "stroke-dasharray": op === "none" ? "5 4" : null, "marker-end": "url(#arrow)", class: `edge op-${op}` }));
    const label = op;
    const width = label.length * 7.4 + 12;
    svg.append(s("g", { class: "edge-label" },
      s("rect", { x: mx - width / 2, y: my - 11, width, height: 20, rx: 4, fill: "#fff", stroke: COLORS[op] || "#444" }),
      s("text", { x: mx, y: my + 4, "text-anchor": "middle", fill: COLORS[op] || "#222", "font-size": 12 }, label)));
  }
  NODE_X.forEach((x, node) => {
    svg.append(s("g", { class: "node" },
      s("circle", { cx: x, cy: NODE_Y, r: 22, fill: node === 0 || node === 3 ? "#e8eef8" : "#fff", stroke: "#333", "stroke-width": 1.5 }),
      s("text", { x, y: NODE_Y + 5, "text-anchor": "middle", "font-size": 14 }, String(node)),
      s("text", { x, y: NODE_Y + 42, "text-anchor": "middle", "font-size": 11, fill: "#555" },
        node === 0 ? "input" : node === 3 ? "output" : "")));
  });
  return svg;
}
