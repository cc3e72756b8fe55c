// The NAS-Bench-201 cell editor of the designer view (views/designer.js): one op per edge, the cell drawn
// beside the choices. Every choice is a cell of the space; its key is the original arch string.
//
// URL: ?arch=|op~0|+|op~0|op~1|+|op~0|op~1|op~2| (the original names, nor_conv_3x3...).
import { h } from "../dom.js";
import { RouteError } from "../router.js";
import { archString, configure as configureCell, drawArch } from "./nb201.js";

let OPS = [];
let EDGES = [];
let ORIGINAL = {};

export function configure(space) {
  configureCell(space);
  OPS = space.ops;
  EDGES = space.edges;
  ORIGINAL = space.original_ops;
}

const ARCH_STRING = /^\|([a-z_0-9]+)~0\|\+\|([a-z_0-9]+)~0\|([a-z_0-9]+)~1\|\+\|([a-z_0-9]+)~0\|([a-z_0-9]+)~1\|([a-z_0-9]+)~2\|$/;

/** {edge: op} from the URL's arch string, or the cell of conv_3x3 on every edge. */
export function readState(params) {
  const text = params.get("arch");
  if (text === null) return Object.fromEntries(EDGES.map((edge) => [edge, OPS.includes("conv_3x3") ? "conv_3x3" : OPS[0]]));
  const match = ARCH_STRING.exec(text);
  const byOriginal = Object.fromEntries(OPS.map((op) => [ORIGINAL[op] ?? op, op]));
  const ops = match ? match.slice(1).map((name) => byOriginal[name]) : [];
  if (!match || ops.some((op) => !op)) {
    throw new RouteError(`"arch" must be an arch string |op~0|+|op~0|op~1|+|op~0|op~1|op~2| with ops among ` +
      `${Object.keys(byOriginal).join(", ")}; got "${text.slice(0, 90)}".`);
  }
  return Object.fromEntries(EDGES.map((edge, k) => [edge, ops[k]]));
}

export function stateParams(state) {
  return { arch: archString(state) };
}

/** Whether the output is reached from the input along edges that are not "none". */
function connected(state) {
  const reached = new Set([0]);
  for (let node = 1; node <= 3; node++) {
    if (EDGES.some((edge) => Number(edge[2]) === node && state[edge] !== "none" && reached.has(Number(edge[0])))) {
      reached.add(node);
    }
  }
  return reached.has(3);
}

export function analyze(state) {
  const problems = connected(state) ? [] : [{ level: "note", text: "every path from the input to the output has a " +
    "“none” edge: the cell outputs zeros (it is still one of the 15,625 cells)" }];
  return { problems, key: archString(state), summary: `Arch string ${archString(state)}.` };
}

export function renderEditor(state, onChange) {
  const row = Object.fromEntries(EDGES.map((edge) => [`op_${edge}`, state[edge]]));
  const choices = EDGES.map((edge) => h("div", { class: "field" },
    h("label", { for: `designer-edge-${edge}` }, `Edge ${edge.replace("_", " → ")}`),
    h("select", { id: `designer-edge-${edge}`, onchange: (event) => onChange({ ...state, [edge]: event.target.value }) },
      OPS.map((op) => h("option", { value: op, selected: op === state[edge] }, op)))));
  return h("div", { class: "arch-top designer-grid" },
    h("figure", { class: "cell" }, drawArch(row), h("figcaption", {}, "Each node sums the ops on its incoming edges.")),
    h("div", { class: "designer-controls filters" }, choices));
}
