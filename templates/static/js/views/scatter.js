// The whole search space as a scatter (cost vs accuracy), with its Pareto front.
import { h, message } from "../dom.js";
import { choiceParam } from "../router.js";
import { objects, scatter } from "../charts.js";
import { downloadButtons, queryStats, resultTable } from "../table.js";
import { filterForm, readFilters, selectControl } from "./filters.js";

/** A scatter shows every architecture of the space, never a truncated sample. */
const WHOLE_SPACE_ROWS = 1000000;

/** Points no other point beats on both axes (lower x, higher y), by increasing x. */
export function paretoFront(points, x, y) {
  const sorted = points.filter((p) => p[x] !== null && p[y] !== null).sort((a, b) => a[x] - b[x] || b[y] - a[y]);
  const front = [];
  for (const point of sorted) if (!front.length || point[y] > front[front.length - 1][y]) front.push(point);
  return front;
}

/** Looks the pointed architecture up (one small query, after the pointer rests) and draws it in `panel`. */
function pointedArchPanel(ctx, panel, key) {
  const arch = ctx.page.site.arch;
  let timer = null;
  let shown = null;
  return (d) => {
    clearTimeout(timer);
    if (!d || d[key] === shown) return;
    timer = setTimeout(async () => {
      shown = d[key];
      const db = await ctx.database();
      let result;
      try {
        result = await db.query(arch.row_sql, { id: d[key] });
      } catch (error) {
        return;
      }
      if (!ctx.alive() || shown !== d[key] || !result.rows.length) return;
      const row = objects(result.columns, result.rows)[0];
      panel.replaceChildren(h("h3", {}, h("a", { href: ctx.link([arch.table, String(d[key])]) }, `Architecture ${d[key]}`)),
        h("code", { class: "arch" }, ctx.bench.archLabel(row)), ctx.bench.drawArch(row) || "",
        queryStats(result, db, "pointed", "Lookup"));
    }, 150);
  };
}

export async function renderScatter(view, ctx) {
  const spec = ctx.page.site.scatter;
  const params = ctx.route.params;
  const filters = readFilters(spec.filters, params);
  const x = choiceParam(params, "x", spec.x_options, spec.default_x);
  const y = choiceParam(params, "y", spec.y_options, spec.default_y);
  const colors = ctx.bench.scatterColors();
  const color = choiceParam(params, "color", ["", ...colors.map((c) => c.name)], "");
  view.append(h("h2", {}, "Whole search space"));
  view.append(filterForm(spec.filters, filters.values, {
    idPrefix: "scatter",
    extra: [
      selectControl("scatter-x", "x", "x axis", spec.x_options.map((o) => [o]), x),
      selectControl("scatter-y", "y", "y axis", spec.y_options.map((o) => [o]), y),
      colors.length ? selectControl("scatter-color", "color", "Colour by", [["", "nothing"], ...colors.map((c) => [c.name, c.label])], color) : null,
    ],
    onSubmit: (formParams) => { location.hash = ctx.link(["-", "scatter"], formParams); },
  }));
  const template = color && spec.colour_sql ? spec.colour_sql : spec.sql;
  const sql = template.replaceAll("{x}", x).replaceAll("{y}", y);
  const output = h("div", { class: "result", "aria-live": "polite" }, h("p", { class: "loading" }, "Loading the search space…"));
  view.append(output);
  const outcome = await ctx.run(output, sql, filters.bind, "Scatter", { maxRows: WHOLE_SPACE_ROWS });
  if (!ctx.alive()) return;
  output.querySelector(".loading")?.remove();
  if (!outcome) return;
  const { db, result } = outcome;
  const data = objects(result.columns, result.rows);
  const key = spec.key_column;
  const arch = ctx.page.site.arch;
  const colorSpec = colors.find((c) => c.name === color);
  const front = paretoFront(data, x, y);
  const panel = h("aside", { class: "pointed", "aria-live": "polite" }, h("p", { class: "muted" },
    "Point at an architecture in the chart to see its cell here."));
  const frontKeys = new Set(front.map((d) => d[key]));
  output.append(queryStats(result, db, "scatter"));
  if (!data.length) {
    output.append(message("info", "No architectures for this selection."));
    return;
  }
  output.append(scatter(data, {
    x, y, docs: ctx.docs, logX: spec.log_x, front,
    color: colorSpec ? colorSpec.value : null, colorLabel: colorSpec?.label,
    title: (d) => `#${d[key]} ${ctx.bench.archLabel(d)}\n${x}: ${d[x]}\n${y}: ${d[y]}` +
      (frontKeys.has(d[key]) ? "\nPareto-optimal" : "") + (arch ? "\n(click to open)" : ""),
    onClick: arch ? (d) => { location.hash = ctx.link([arch.table, String(d[key])]); } : null,
    onPoint: arch ? pointedArchPanel(ctx, panel, key) : null,
    caption: `${data.length.toLocaleString("en-US")} architectures, ${Object.values(filters.values).join(", ")}. ` +
      "The red line is the Pareto front. Hover a point to see its architecture, click to open it.",
  }));
  output.append(panel);
  output.append(downloadButtons(result.columns, result.rows, `${ctx.page.key}-scatter-${x}-${y}`));
  output.append(h("h3", {}, `Pareto front: ${front.length} architectures with no other both smaller in ${x} and better in ${y}`));
  const columns = result.columns;
  output.append(resultTable(columns, front.map((d) => columns.map((c) => d[c])), {
    docs: ctx.docs, render: ctx.bench.renderers || {},
    rowHref: arch ? (row) => ctx.link([arch.table, String(row[columns.indexOf(key)])]) : null,
  }));
}
