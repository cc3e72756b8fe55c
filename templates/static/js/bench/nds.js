// NDS: a configuration is either two NAS cells (normal and reduction) or a list of stages (ResNet, ResNeXt,
// Vanilla). The cell family's name and the design spaces come from the benchmark's descriptor (page data),
// through configure(). Layout functions return plain data so that node can test them without a DOM.
import { h, s } from "../dom.js";

let CELL_FAMILY = "nas_cell";
let SPACE_NAMES = {};

/** The search space's constants from the page data: {ops, families, cell_family, design_spaces}. */
export function configure(space) {
  CELL_FAMILY = space.cell_family;
  SPACE_NAMES = Object.fromEntries(space.design_spaces.map((d) => [d.id, d.name]));
}

const COLORS = {
  none: "#9aa0a6", skip_connect: "#2a7d4f", avg_pool_3x3: "#3b6fb6", max_pool_3x3: "#2f5d9e", max_pool_5x5: "#26508a",
  max_pool_7x7: "#1d4476", conv_1x1: "#b5651d", conv_3x3: "#b3261e", conv_3x1_1x3: "#a0341f", conv_7x1_1x7: "#8c2f1a",
  dil_conv_3x3: "#7b3fa0", dil_conv_5x5: "#6a318c", sep_conv_3x3: "#00838f", sep_conv_5x5: "#006d77",
  sep_conv_7x7: "#005a63", dil_sep_conv_3x3: "#8d6e00",
};

/** A JSON column as an object (the DB stores text; null when it is not JSON). */
export function parseSpec(value) {
  if (value !== null && typeof value === "object") return value;
  try {
    return JSON.parse(value);
  } catch {
    return null;
  }
}

/** "c_{k-2}", "c_{k-1}" for the two previous cells' outputs (states 0, 1), "node i" for state i + 2. */
export function stateName(state) {
  return state === 0 ? "c_{k-2}" : state === 1 ? "c_{k-1}" : `node ${state - 2}`;
}

/** One cell ("normal" or "reduce") of a cell_spec: its nodes' two [op, input state] and its output states. */
export function cellNodes(cellSpec, cell) {
  const nodes = [];
  for (let i = 0; `${cell}_${i}_op_x` in cellSpec; i++) {
    nodes.push(["x", "y"].map((side) => ({ op: cellSpec[`${cell}_${i}_op_${side}`], input: cellSpec[`${cell}_${i}_input_${side}`] })));
  }
  return { nodes, concat: Array.isArray(cellSpec[`${cell}_concat`]) ? cellSpec[`${cell}_concat`] : [] };
}

/** The point at ``t`` of the quadratic curve from ``a`` through control point ``c`` to ``b``. */
function along(a, c, b, t) {
  const u = 1 - t;
  return [u * u * a[0] + 2 * u * t * c[0] + t * t * b[0], u * u * a[1] + 2 * u * t * c[1] + t * t * b[1]];
}

/**
 * A cell drawn left to right: the two input states, then node 0, 1, ... in their own columns on two
 * alternating rows, then the output. Each edge bows away from the states it passes (more the longer it is);
 * its label sits a fixed distance before its node, so the labels gather around the node they feed.
 * Returns {states: [{state, label, x, y}], output: {x, y}, edges: [{from, to, op, path, label: [x, y]}], concat}.
 */
export function cellLayout({ nodes, concat }, width = 760) {
  const step = (width - 160) / (nodes.length + 1);
  const height = 280 + 30 * nodes.length;
  const row = (k) => height * (k % 2 ? 0.36 : 0.64);
  const states = [{ state: 0, x: 50, y: height * 0.2 }, { state: 1, x: 50, y: height * 0.8 },
    ...nodes.map((_, i) => ({ state: i + 2, x: 50 + (i + 1) * step, y: row(i) }))]
    .map((point) => ({ ...point, label: stateName(point.state) }));
  const column = (state) => Math.max(0, state - 1);
  const edges = nodes.flatMap((inputs, i) => inputs.map((edge, side) => {
    const from = states[edge.input] || states[0];
    const to = states[i + 2];
    const span = column(to.state) - column(from.state);
    const twin = inputs[0].input === inputs[1].input;
    const bow = (side === 0 ? -1 : 1) * (span > 1 ? 26 * (span - 1) : twin ? 20 : 0);
    const angle = Math.atan2(to.y - from.y, to.x - from.x);
    const a = [from.x + 22 * Math.cos(angle), from.y + 22 * Math.sin(angle)];
    const b = [to.x - 22 * Math.cos(angle), to.y - 22 * Math.sin(angle)];
    const mid = [(a[0] + b[0]) / 2 - bow * Math.sin(angle), (a[1] + b[1]) / 2 + bow * Math.cos(angle)];
    const control = [2 * mid[0] - (a[0] + b[0]) / 2, 2 * mid[1] - (a[1] + b[1]) / 2];
    return { from: edge.input, to: i + 2, op: edge.op, path: `M ${a[0]} ${a[1]} Q ${control[0]} ${control[1]} ${b[0]} ${b[1]}`,
      label: along(a, control, b, Math.min(0.85, Math.max(0.5, 1 - 62 / Math.hypot(b[0] - a[0], b[1] - a[1])))) };
  }));
  return { states, output: { x: width - 45, y: height / 2 }, edges, concat, height, width };
}

function drawCell(cellSpec, cell, title) {
  const layout = cellLayout(cellNodes(cellSpec, cell));
  const description = layout.edges.map((e) => `${stateName(e.to)} <- ${e.op}(${stateName(e.from)})`).join("; ") +
    `; output = concat(${layout.concat.map(stateName).join(", ")})`;
  const marker = `arrow-${cell}`;
  const svg = s("svg", { viewBox: `0 0 ${layout.width} ${layout.height}`, class: "cell-graph", role: "img", "aria-label": `${title}: ${description}` },
    s("title", {}, `${title}: ${description}`),
    s("defs", {}, s("marker", { id: marker, viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7",
      markerHeight: "7", orient: "auto-start-reverse" }, s("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#444" }))),
    s("text", { x: 8, y: 18, "font-size": 14, "font-weight": "bold" }, title));
  for (const state of layout.concat) {
    const from = layout.states[state];
    if (!from) continue;
    svg.append(s("line", { x1: from.x + 22, y1: from.y, x2: layout.output.x - 32, y2: layout.output.y, stroke: "#777",
      "stroke-width": 1.2, "stroke-dasharray": "5 4", "marker-end": `url(#${marker})`, class: "concat" }));
  }
  for (const edge of layout.edges) {
    const color = COLORS[edge.op] || "#444";
    svg.append(s("path", { d: edge.path, fill: "none", stroke: color, "stroke-width": 2, "marker-end": `url(#${marker})`,
      class: `edge op-${edge.op}` }));
  }
  for (const edge of layout.edges) {  // labels above every edge
    const color = COLORS[edge.op] || "#444";
    const [x, y] = edge.label;
    const labelWidth = String(edge.op).length * 6.2 + 8;
    svg.append(s("g", { class: "edge-label" },
      s("rect", { x: x - labelWidth / 2, y: y - 8, width: labelWidth, height: 15, rx: 4, fill: "#fff", "fill-opacity": 0.9, stroke: color }),
      s("text", { x, y: y + 4, "text-anchor": "middle", fill: color, "font-size": 10.5 }, edge.op)));
  }
  for (const point of layout.states) {
    const input = point.state < 2;
    svg.append(s("g", { class: "node" },
      s("circle", { cx: point.x, cy: point.y, r: 22, fill: input ? "#e8eef8" : "#fff", stroke: "#333", "stroke-width": 1.5 }),
      s("text", { x: point.x, y: point.y + 4, "text-anchor": "middle", "font-size": input ? 10 : 14 }, input ? point.label : "+"),
      input ? null : s("text", { x: point.x, y: point.y + 36, "text-anchor": "middle", "font-size": 10, fill: "#555" }, point.label)));
  }
  svg.append(s("g", { class: "node output" },
    s("rect", { x: layout.output.x - 32, y: layout.output.y - 16, width: 64, height: 32, rx: 6, fill: "#e8eef8", stroke: "#333" }),
    s("text", { x: layout.output.x, y: layout.output.y + 4, "text-anchor": "middle", "font-size": 11 }, "concat")));
  return svg;
}

/** Rows of a stage table from a ResNet / ResNeXt / Vanilla model_spec: one per stage. */
export function stageRows(modelSpec) {
  const stages = Array.isArray(modelSpec?.ds) ? modelSpec.ds.length : 0;
  const rows = [];
  for (let i = 0; i < stages; i++) {
    const bot = modelSpec.bot_muls?.[i];
    rows.push({
      stage: i + 1, blocks: modelSpec.ds[i], channels: modelSpec.ws?.[i] ?? null, stride: modelSpec.ss?.[i] ?? null,
      bottleneck: bot ?? null, inner: bot ? Math.round(modelSpec.ws[i] * bot) : null, groups: modelSpec.num_gs?.[i] ?? null,
    });
  }
  return rows;
}

const STAGE_COLUMNS = [["stage", "stage"], ["blocks", "blocks (ds)"], ["channels", "channels (ws)"], ["stride", "stride (ss)"],
  ["bottleneck", "bottleneck ratio (bot_muls)"], ["inner", "bottleneck channels"], ["groups", "groups (num_gs)"]];

function drawStages(modelSpec) {
  const rows = stageRows(modelSpec);
  if (!rows.length) return null;
  const columns = STAGE_COLUMNS.filter(([key]) => rows.some((row) => row[key] !== null));
  return h("table", { class: "results stage-table" },
    h("caption", {}, "Stages, input to output (the first is stem-like)"),
    h("thead", {}, h("tr", {}, columns.map(([, label]) => h("th", { scope: "col" }, label)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, columns.map(([key]) => h("td", {}, row[key] === null ? "" : String(row[key])))))));
}

/** JSON columns are shown as code. */
const json = (value) => (value === null ? "" : h("code", { class: "arch" }, typeof value === "string" ? value : JSON.stringify(value)));

export const presentation = {};

export const renderers = {
  model_spec: json, cell_spec: json, optim: json,
  space_id: (value) => h("span", { title: SPACE_NAMES[value] || null }, String(value ?? "")),
};

export const archCaption = "NAS cells: each node adds two operations, each applied to an earlier state (c_{k-2}, " +
  "c_{k-1}: the outputs of the two previous cells); dashed arrows are the states concatenated as the cell's output. " +
  "Other families: the network's stages.";

export function scatterColors() {
  return [
    { name: "depth", label: "depth (cells or blocks)", value: (d) => String(d.depth ?? "") },
    { name: "width", label: "width (channels)", value: (d) => String(d.width ?? "") },
  ];
}

/** Heading / hover text: the design space and the network's shape. */
export function archLabel(row) {
  const model = parseSpec(row.model_spec);
  if (model && row.model_family === CELL_FAMILY) {
    return `${row.proposer} cells, depth ${model.depth}, width ${model.width}`;
  }
  if (model && Array.isArray(model.ds)) {
    return `${row.proposer} ${row.model_family}: ds [${model.ds}] ws [${model.ws}]`;
  }
  if (row.depth !== undefined && row.depth !== null) return `depth ${row.depth}, width ${row.width}`;
  return "";
}

/** The two cells of a NAS-cell configuration, or the stage table of the others; null without specs. */
export function drawArch(row) {
  if (row.model_family === CELL_FAMILY) {
    const cells = parseSpec(row.cell_spec);
    if (!cells || !("normal_0_op_x" in cells)) return null;
    return h("div", { class: "nds-cells" }, drawCell(cells, "normal", "Normal cell"), drawCell(cells, "reduce", "Reduction cell"));
  }
  return drawStages(parseSpec(row.model_spec));
}
