// Learning curves of several architectures on one dataset, overlaid (mean over seeds, min–max band).
import { h, message } from "../dom.js";
import { RouteError, choiceParam } from "../router.js";
import { lines, objects } from "../charts.js";
import { aggregateRuns, defaultMetric } from "../curves.js";
import { downloadButtons, queryStats } from "../table.js";
import { filterForm, readFilters, selectControl } from "./filters.js";

export const MAX_CURVES = 8;

export function readArchList(params) {
  const raw = (params.get("archs") || "").trim();
  if (!raw) return [];
  const ids = raw.split(",").map((part) => part.trim()).filter(Boolean);
  if (ids.some((id) => !/^\d+$/.test(id))) throw new RouteError(`"archs" must be architecture ids separated by commas, got "${raw.slice(0, 60)}".`);
  if (ids.length > MAX_CURVES) throw new RouteError(`"archs" lists ${ids.length} architectures; at most ${MAX_CURVES} curves are overlaid.`);
  return [...new Set(ids)];
}

export async function renderCurves(view, ctx) {
  const arch = ctx.page.site.arch;
  const params = ctx.route.params;
  const ids = readArchList(params);
  const filters = readFilters(arch.curve_filters, params);
  const requested = choiceParam(params, "metric", arch.curve_metrics, null);
  view.append(h("h2", {}, "Learning curves"));
  const archInput = h("div", { class: "field" }, h("label", { for: "curves-archs" }, `Architectures (${arch.key_column}, comma separated, up to ${MAX_CURVES})`),
    h("input", { id: "curves-archs", name: "archs", value: ids.join(","), size: 40, inputmode: "numeric" }));
  view.append(filterForm(arch.curve_filters, filters.values, {
    idPrefix: "curves",
    extra: [archInput, selectControl("curves-metric", "metric", "Metric", [["", "automatic"], ...arch.curve_metrics.map((m) => [m])], requested ?? "")],
    onSubmit: (formParams) => { location.hash = ctx.link(["-", "curves"], formParams); },
  }));
  if (!ids.length) {
    view.append(message("info", "Enter architecture ids above, or use “Compare learning curves” on an architecture page."));
    return;
  }
  const output = h("div", { class: "result", "aria-live": "polite" }, h("p", { class: "loading" }, "Loading curves…"));
  view.append(output);
  let columns = null;
  const allRows = [];
  for (const id of ids) {
    const outcome = await ctx.run(output, arch.curves_sql, { id: Number(id), ...filters.bind }, `Curves of ${id}`,
      { maxRows: 100000 });
    if (!ctx.alive()) return;
    if (!outcome) continue;
    columns = columns || [arch.key_column, ...outcome.result.columns];
    for (const row of outcome.result.rows) allRows.push([Number(id), ...row]);
    output.append(queryStats(outcome.result, outcome.db, `curves-${id}`, `#${id}`));
  }
  output.querySelector(".loading")?.remove();
  if (!columns) return;
  const data = objects(columns, allRows);
  const runKey = (d) => `${d[arch.key_column]} ${arch.curve_series ? d[arch.curve_series] : ""}`;
  const metric = requested || defaultMetric(data, arch.curve_metrics, runKey);
  const series = aggregateRuns(data, { x: arch.curve_x, metric, label: (d) => `#${d[arch.key_column]}` });
  if (!series.length) {
    output.append(message("info", `No ${metric} values recorded for these architectures on this selection.`));
  } else {
    output.append(lines(series, {
      x: arch.curve_x, y: metric, series: "series", band: ["min", "max"], docs: ctx.docs,
      title: (d) => `${d.series} epoch ${d[arch.curve_x]}\n${metric}: ${d[metric].toFixed(3)} (${d.runs} run${d.runs > 1 ? "s" : ""}, ${d.min.toFixed(3)}–${d.max.toFixed(3)})`,
      caption: `${metric}: mean over ${arch.curve_series || "runs"} per epoch, band from min to max. ${Object.values(filters.values).join(", ")}.`,
    }));
  }
  output.append(h("p", {}, ids.map((id) => h("a", { href: ctx.link([arch.table, id], filters.values), class: "chip" }, `#${id}`))));
  output.append(downloadButtons(columns, allRows, `${ctx.page.key}-curves-${ids.join("_")}`));
}
