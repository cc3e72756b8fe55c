// NAS-Bench-Graph: the release key spells the architecture (link index, then one op digit per node).
// The ops and links come from the benchmark's descriptor (page data), through configure().
import { h, s } from "../dom.js";

let OPS = [];
let LINKS = [];

/** The search space's constants from the page data: {ops, links, key_digits}. */
export function configure(space) {
  OPS = space.ops;
  LINKS = space.links;
}

const COLORS = { gat: "#3b6fb6", gcn: "#b3261e", gin: "#7b3fa0", cheb: "#b5651d", sage: "#2a7d4f",
  arma: "#00838f", graph: "#8d6e00", fc: "#5b6270", skip: "#9aa0a6" };

/** {link, ops} of a key, or null when it is not a key of the space. */
export function decodeKey(key) {
  if (typeof key !== "number" || !Number.isInteger(key) || key < 0 || key >= 10 ** 5) return null;
  const digits = String(key).padStart(5, "0").split("").map(Number);
  if (digits[0] >= LINKS.length || digits.slice(1).some((d) => d >= OPS.length)) return null;
  return { link: LINKS[digits[0]], ops: digits.slice(1).map((d) => OPS[d]) };
}

/** '[0,1,1,2] gcn-gin-cheb-fc', the stored arch_str spelling. */
export function archString(arch) {
  return `[${arch.link.join(",")}] ${arch.ops.join("-")}`;
}

/** Results carry the key only; the arch string is its tooltip (downloads hold the key, as shown). */
export const presentation = {};

export const renderers = {
  key: (value) => {
    const arch = decodeKey(value);
    return h("span", { title: arch ? archString(arch) : null }, String(value ?? ""));
  },
  arch_str: (value) => (value === null ? "" : h("code", { class: "arch" }, value)),
};

export const archCaption = "The macro DAG: each node applies its operation to its input; dashed arrows feed the output.";

export function scatterColors() {
  return [
    { name: "link", label: "link index", value: (d) => String(decodeKey(d.key)?.link ?? "") },
    ...[1, 2, 3, 4].map((node) => ({ name: `op_${node}`, label: `op of node ${node}`,
      value: (d) => decodeKey(d.key)?.ops[node - 1] ?? "" })),
  ];
}

export function archLabel(row) {
  if (row.arch_str !== undefined) return row.arch_str;
  const arch = decodeKey(row.key);
  return arch ? archString(arch) : "";
}

/** The macro DAG: input, 4 computing nodes (op inside), output fed by every node without successor. */
export function drawArch(row) {
  let link;
  try {
    link = typeof row.link === "string" ? JSON.parse(row.link) : row.link;
  } catch {
    link = null;
  }
  const ops = [row.op_1, row.op_2, row.op_3, row.op_4];
  if (!Array.isArray(link) || link.length !== 4 || ops.some((op) => !op)) {
    const arch = decodeKey(row.key);
    if (!arch) return null;
    link = arch.link;
    ops.splice(0, 4, ...arch.ops);
  }
  const depth = [0];
  for (let node = 1; node <= 4; node++) depth[node] = depth[link[node - 1]] + 1;
  const leaves = [1, 2, 3, 4].filter((node) => !link.includes(node));
  const maxDepth = Math.max(...depth);
  const columns = maxDepth + 2;
  const byDepth = new Map();
  for (let node = 0; node <= 4; node++) byDepth.set(depth[node], [...(byDepth.get(depth[node]) || []), node]);
  const width = 680, height = 320, marginX = 60;
  const colX = (d) => marginX + (d * (width - 2 * marginX)) / columns;
  const position = {};
  for (const [d, nodes] of byDepth) nodes.forEach((node, i) => { position[node] = [colX(d), ((i + 1) * height) / (nodes.length + 1)]; });
  position.out = [colX(columns), height / 2];
  const description = [1, 2, 3, 4].map((n) => `node ${n} = ${ops[n - 1]}(${link[n - 1] === 0 ? "input" : `node ${link[n - 1]}`})`).join("; ") +
    `; output = sum of node${leaves.length > 1 ? "s" : ""} ${leaves.join(", ")}`;
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "cell-graph", role: "img", "aria-label": description },
    s("title", {}, description),
    s("defs", {}, s("marker", { id: "arrow-g", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7",
      markerHeight: "7", orient: "auto-start-reverse" }, s("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#444" }))));
  const edge = (from, to, dashed) => {
    const [x1, y1] = position[from], [x2, y2] = position[to];
    const angle = Math.atan2(y2 - y1, x2 - x1);
    const pad = 34;
    svg.append(s("line", { x1: x1 + pad * Math.cos(angle), y1: y1 + pad * Math.sin(angle), x2: x2 - pad * Math.cos(angle),
      y2: y2 - pad * Math.sin(angle), stroke: "#444", "stroke-width": 1.8, "stroke-dasharray": dashed ? "5 4" : null,
      "marker-end": "url(#arrow-g)" }));
  };
  for (let node = 1; node <= 4; node++) edge(link[node - 1], node, false);
  for (const leaf of leaves) edge(leaf, "out", true);
  const box = (key, label, sub, color) => {
    const [x, y] = position[key];
    svg.append(s("g", { class: "node" },
      s("rect", { x: x - 32, y: y - 18, width: 64, height: 36, rx: 8, fill: "#fff", stroke: color, "stroke-width": 2 }),
      s("text", { x, y: y + 5, "text-anchor": "middle", "font-size": 13, fill: color }, label),
      s("text", { x, y: y + 32, "text-anchor": "middle", "font-size": 11, fill: "#555" }, sub)));
  };
  box(0, "input", "", "#333");
  for (let node = 1; node <= 4; node++) box(node, ops[node - 1], `node ${node}`, COLORS[ops[node - 1]] || "#333");
  box("out", "output", "", "#333");
  return svg;
}
