// One architecture: its cell drawn as a graph, its results on every dataset, its learning curves.
import { h, message, formatValue } from "../dom.js";
import { RouteError, choiceParam } from "../router.js";
import { lines, objects } from "../charts.js";
import { aggregateRuns, defaultMetric } from "../curves.js";
import { downloadButtons, hiddenNote, present, queryStats, resultTable } from "../table.js";
import { filterForm, readFilters, selectControl } from "./filters.js";

export async function renderArch(view, ctx) {
  const arch = ctx.page.site.arch;
  const id = ctx.route.segments[1];
  if (!/^\d+$/.test(id)) throw new RouteError(`An architecture id is a whole number (${arch.key_column}), got "${id.slice(0, 40)}".`);
  const params = ctx.route.params;
  const heading = h("h2", {}, `Architecture ${id}`);
  view.append(heading);
  const lookup = h("div", { class: "result", "aria-live": "polite" }, h("p", { class: "loading" }, "Loading…"));
  view.append(lookup);
  const rowOutcome = await ctx.run(lookup, arch.row_sql, { id: Number(id) }, "Architecture");
  if (!ctx.alive()) return;
  lookup.querySelector(".loading")?.remove();
  if (!rowOutcome) return;
  if (!rowOutcome.result.rows.length) {
    lookup.append(message("error", `There is no architecture with ${arch.key_column} ${id} in this database.`));
    return;
  }
  const row = objects(rowOutcome.result.columns, rowOutcome.result.rows)[0];
  const label = ctx.bench.archLabel(row);
  if (label) heading.append(h("code", { class: "arch arch-heading" }, label));
  const drawing = ctx.bench.drawArch(row);
  const fields = h("dl", { class: "fields" }, Object.entries(row).flatMap(([name, value]) => [
    h("dt", { title: ctx.docs[name]?.description || null }, name), h("dd", {}, formatValue(value))]));
  lookup.append(h("div", { class: "arch-top" }, drawing ? h("figure", { class: "cell" }, drawing,
    h("figcaption", {}, ctx.bench.archCaption || "")) : null, fields));
  lookup.append(queryStats(rowOutcome.result, rowOutcome.db, "arch-row"));

  view.append(h("h3", {}, "Results on every dataset"));
  const results = h("div", { class: "result", "aria-live": "polite" });
  view.append(results);
  const resultsOutcome = await ctx.run(results, arch.results_sql, { id: Number(id) }, "Results");
  if (!ctx.alive()) return;
  if (resultsOutcome) {
    const { result, db } = resultsOutcome;
    if (!result.rows.length) {
      results.append(message("info", `This database has no results for architecture ${id}: ` + heldText(ctx.page)));
      results.append(queryStats(result, db, "arch-lookup"));
      return;
    }
    const shown = present(result.columns, result.rows, ctx.bench.presentation, ctx.absentColumns);
    results.append(resultTable(shown.columns, shown.rows, { docs: ctx.docs, render: ctx.bench.renderers || {} }));
    results.append(hiddenNote(shown) || "");
    results.append(downloadButtons(shown.columns, shown.rows, `${ctx.page.key}-arch-${id}-results`));
    results.append(queryStats(result, db, "arch-lookup"));
  }
  if (arch.curves_sql) await renderArchCurves(view, ctx, arch, id, params);
  else if (ctx.page.db.partial) {
    view.append(h("h3", {}, "Learning curves"),
      message("info", `This database has no per-epoch results: its source (${ctx.page.db.partial}) holds final ` +
        "values only. Converting the original release gives the curves."));
  }
}

/** "it holds 300 of the 15,625 architectures (SYNTHETIC SAMPLE)." from the page data. */
export function heldText(page) {
  const held = page.db.evaluated_archs;
  const size = page.site.space_size;
  if (held === null || held === undefined) return `(${page.db.data_label}).`;
  const of = size ? ` of the ${size.toLocaleString("en")}` : "";
  return `it holds ${held.toLocaleString("en")}${of} architectures (${page.db.data_label}).`;
}

async function renderArchCurves(view, ctx, arch, id, params) {
  const filters = readFilters(arch.curve_filters, params);
  const requested = choiceParam(params, "metric", arch.curve_metrics, null);
  view.append(h("h3", {}, "Learning curves"));
  view.append(filterForm(arch.curve_filters, filters.values, {
    idPrefix: "arch-curves",
    extra: [selectControl("arch-curves-metric", "metric", "Metric", [["", "automatic"], ...arch.curve_metrics.map((m) => [m])], requested ?? "")],
    onSubmit: (formParams) => { location.hash = ctx.link([arch.table, id], formParams); },
    submitLabel: "Show",
  }));
  const output = h("div", { class: "result", "aria-live": "polite" }, h("p", { class: "loading" }, "Loading curves…"));
  view.append(output);
  const outcome = await ctx.run(output, arch.curves_sql, { id: Number(id), ...filters.bind }, "Learning curves",
    { maxRows: 100000 });
  if (!ctx.alive()) return;
  output.querySelector(".loading")?.remove();
  if (!outcome) return;
  const { result, db } = outcome;
  const data = objects(result.columns, result.rows);
  const metric = requested || defaultMetric(data, arch.curve_metrics, (d) => (arch.curve_series ? d[arch.curve_series] : ""));
  const seriesLabel = arch.curve_series ? (d) => `${arch.curve_series} ${d[arch.curve_series]}` : () => "run";
  const perRun = aggregateRuns(data, { x: arch.curve_x, metric, label: seriesLabel });
  if (!result.rows.length) {
    output.append(message("info", `No per-epoch results for this architecture and selection in this database: ` +
      (ctx.page.db.partial ? `its source (${ctx.page.db.partial}) has no learning curves.` : heldText(ctx.page))));
  } else if (!perRun.length) {
    output.append(message("info", `No ${metric} values recorded for this selection.`));
  } else {
    output.append(lines(perRun, {
      x: arch.curve_x, y: metric, series: "series", docs: ctx.docs,
      title: (d) => `${d.series}, epoch ${d[arch.curve_x]}: ${metric} ${formatValue(d[metric])}`,
      caption: `${metric} per epoch of each run` +
        (Object.keys(filters.values).length ? ` (${Object.values(filters.values).join(", ")}). ` : ". ") +
        "Epochs the release does not record are absent.",
    }));
  }
  output.append(h("p", {}, h("a", { href: ctx.link(["-", "curves"], { archs: id, ...filters.values, metric: requested }) },
    "Compare learning curves with other architectures →")));
  output.append(downloadButtons(result.columns, result.rows, `${ctx.page.key}-arch-${id}-curves`));
  output.append(queryStats(result, db, "arch-curves"));
}
