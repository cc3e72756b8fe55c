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

/**
 * Positions of a cell's states in columns by depth (inputs first, the output last) and its edges:
 * {states: [{state, label, x, y}], output: {x, y}, edges: [{from, to, op, bow}], concat: [state]}.
 */
export function cellLayout({ nodes, concat }, width = 720) {
  const depth = [0, 0];
  nodes.forEach((inputs, i) => { depth[i + 2] = 1 + Math.max(...inputs.map((e) => depth[e.input] ?? 0)); });
  const columns = Math.max(...depth) + 2;
  const byColumn = new Map();
  depth.forEach((d, state) => byColumn.set(d, [...(byColumn.get(d) || []), state]));
  const tallest = Math.max(...[...byColumn.values()].map((states) => states.length));
  const height = Math.max(220, 90 * tallest + 40);
  const x = (column) => 60 + (column * (width - 120)) / (columns - 1);
  const states = [];
  for (const [column, members] of byColumn) {
    members.forEach((state, i) => states.push({ state, label: stateName(state), x: x(column), y: ((i + 1) * height) / (members.length + 1) }));
  }
  states.sort((a, b) => a.state - b.state);
  const edges = nodes.flatMap((inputs, i) => inputs.map((edge, side) => ({
    from: edge.input, to: i + 2, op: edge.op,
    // Both inputs of a node from one state: bow the two arcs apart so both labels show.
    bow: inputs[0].input === inputs[1].input ? (side === 0 ? -40 : 40) : 0,
  })));
  return { states, output: { x: x(columns - 1), y: height / 2 }, edges, concat, height, width };
}

function drawCell(cellSpec, cell, title) {
  const layout = cellLayout(cellNodes(cellSpec, cell));
  const at = (state) => layout.states.find((p) => p.state === state);
  const description = layout.edges.map((e) => `${stateName(e.to)} <- ${e.op}(${stateName(e.from)})`).join("; ") +
    `; output = concat(${layout.concat.map(stateName).join(", ")})`;
  const svg = s("svg", { viewBox: `0 0 ${layout.width} ${layout.height}`, class: "cell-graph", role: "img", "aria-label": `${title}: ${description}` },
    s("title", {}, `${title}: ${description}`),
    s("defs", {}, s("marker", { id: `arrow-${cell}`, viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7",
      markerHeight: "7", orient: "auto-start-reverse" }, s("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#444" }))),
    s("text", { x: 8, y: 18, "font-size": 14, "font-weight": "bold" }, title));
  const arc = (from, to, bow, attrs) => {
    const angle = Math.atan2(to.y - from.y, to.x - from.x);
    const [x1, y1] = [from.x + 24 * Math.cos(angle), from.y + 24 * Math.sin(angle)];
    const [x2, y2] = [to.x - 24 * Math.cos(angle), to.y - 24 * Math.sin(angle)];
    const [mx, my] = [(x1 + x2) / 2 - bow * Math.sin(angle), (y1 + y2) / 2 + bow * Math.cos(angle)];
    svg.append(s("path", { d: `M ${x1} ${y1} Q ${2 * mx - (x1 + x2) / 2} ${2 * my - (y1 + y2) / 2} ${x2} ${y2}`, fill: "none",
      "marker-end": `url(#arrow-${cell})`, ...attrs }));
    return [mx, my];
  };
  for (const state of layout.concat) {
    if (at(state)) arc(at(state), layout.output, 0, { stroke: "#777", "stroke-width": 1.2, "stroke-dasharray": "5 4", class: "concat" });
  }
  for (const edge of layout.edges) {
    const color = COLORS[edge.op] || "#444";
    const [mx, my] = arc(at(edge.from) || layout.states[0], at(edge.to), edge.bow,
      { stroke: color, "stroke-width": 2, class: `edge op-${edge.op}` });
    const labelWidth = String(edge.op).length * 6.6 + 10;
    svg.append(s("g", { class: "edge-label" },
      s("rect", { x: mx - labelWidth / 2, y: my - 9, width: labelWidth, height: 17, rx: 4, fill: "#fff", stroke: color }),
      s("text", { x: mx, y: my + 4, "text-anchor": "middle", fill: color, "font-size": 11 }, edge.op)));
  }
  for (const point of layout.states) {
    svg.append(s("g", { class: "node" },
      s("circle", { cx: point.x, cy: point.y, r: 22, fill: point.state < 2 ? "#e8eef8" : "#fff", stroke: "#333", "stroke-width": 1.5 }),
      s("text", { x: point.x, y: point.y + 4, "text-anchor": "middle", "font-size": 11 }, point.state < 2 ? point.label : "+"),
      point.state < 2 ? null : s("text", { x: point.x, y: point.y + 36, "text-anchor": "middle", "font-size": 10, fill: "#555" }, point.label)));
  }
  svg.append(s("g", { class: "node output" },
    s("rect", { x: layout.output.x - 30, y: layout.output.y - 16, width: 60, height: 32, rx: 6, fill: "#e8eef8", stroke: "#333" }),
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
