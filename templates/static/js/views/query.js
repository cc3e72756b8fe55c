// Canned queries (forms with their parameters) and the SQL console; both chart their results.
import { h, message } from "../dom.js";
import { choiceParam } from "../router.js";
import { chartFromSpec } from "../charts.js";
import { downloadButtons, hiddenNote, present, queryStats, resultTable } from "../table.js";
import { selectControl } from "./filters.js";

const CHART_TYPES = ["default", "none", "scatter", "line", "bar"];

/** Named parameters of a statement (:name), in order of appearance, outside quotes and comments. */
export function namedParameters(sql) {
  const stripped = sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\//g, " ");
  const names = [];
  for (const match of stripped.matchAll(/(?<![:\w]):([A-Za-z_]\w*)/g)) if (!names.includes(match[1])) names.push(match[1]);
  return names;
}

function chartState(params, hint) {
  const type = choiceParam(params, "_chart", CHART_TYPES, "default");
  if (type === "none") return { type, spec: null };
  const base = type === "default" ? hint : { ...(hint || {}), type };
  if (!base) return { type, spec: null };
  const spec = { ...base };
  for (const key of ["x", "y", "series"]) if (params.get(`_${key}`)) spec[key] = params.get(`_${key}`);
  return { type, spec };
}

function chartControls(ctx, columns, state, onChange) {
  const id = `chart-${Math.random().toString(36).slice(2, 8)}`;
  const columnOptions = [["", "—"], ...columns.map((c) => [c])];
  const form = h("form", { class: "filters chart-controls" },
    selectControl(`${id}-type`, "_chart", "Chart", CHART_TYPES.map((t) => [t, t === "default" ? "query's default" : t]), state.type),
    selectControl(`${id}-x`, "_x", "x", columnOptions, state.spec?.x ?? ""),
    selectControl(`${id}-y`, "_y", "y", columnOptions, state.spec?.y ?? ""),
    selectControl(`${id}-series`, "_series", "series / colour", columnOptions, state.spec?.series ?? ""),
    h("div", { class: "field actions" }, h("button", { type: "submit" }, "Update chart")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onChange(new FormData(form));
  });
  return form;
}

/** Table, chart, downloads and counters of one result. */
function showResult(output, ctx, db, result, { hint, basename, chartChange }) {
  const state = chartState(ctx.route.params, hint);
  if (result.truncated) {
    output.append(message("warning", `Showing the first ${result.rows.length} rows; add a LIMIT to see a specific part.`));
  }
  output.append(queryStats(result, db, "query"));
  const shown = present(result.columns, result.rows, ctx.bench.presentation, ctx.absentColumns);
  output.append(downloadButtons(shown.columns, shown.rows, basename));
  if (result.columns.length) output.append(chartControls(ctx, result.columns, state, chartChange));
  if (state.spec) output.append(chartFromSpec(state.spec, result.columns, result.rows, ctx.docs));
  if (!result.rows.length) output.append(message("info", "The query returned no rows."));
  output.append(resultTable(shown.columns, shown.rows, {
    docs: ctx.docs, render: ctx.bench.renderers || {},
    rowHref: archLink(ctx, result.columns),
  }));
  output.append(hiddenNote(shown) || "");
}

function archLink(ctx, columns) {
  const arch = ctx.page.site.arch;
  if (!arch || columns[0] !== arch.key_column) return null;
  return (row) => (row[0] === null ? null : ctx.link([arch.table, String(row[0])]));
}

function withChart(params, formData) {
  const next = new URLSearchParams(params);
  for (const key of ["_chart", "_x", "_y", "_series"]) {
    const value = formData.get(key);
    if (value) next.set(key, value); else next.delete(key);
  }
  return next;
}

function pythonSnippet(ctx, sql, values) {
  const literal = (v) => JSON.stringify(String(v));
  const args = Object.entries(values).map(([k, v]) => `${JSON.stringify(k)}: ${literal(v)}`).join(", ");
  return `import sqlite3\nfrom nasbenchmark.database import database_path\n\n` +
    `conn = sqlite3.connect(database_path(${JSON.stringify(ctx.page.db_filename)}))\n` +
    `rows = conn.execute("""\n${sql}\n""", {${args}}).fetchall()`;
}

export async function renderCannedQuery(view, ctx) {
  const name = ctx.route.segments[0];
  const query = ctx.page.catalog.queries.find((q) => q.name === name);
  const params = ctx.route.params;
  const names = [...new Set([...Object.keys(query.params || {}), ...namedParameters(query.sql)])];
  const values = Object.fromEntries(names.map((n) => [n, params.get(n) ?? (query.params || {})[n] ?? ""]));
  view.append(h("h2", {}, query.title), h("p", {}, query.description));
  const choices = query.choices || {};
  const field = (n) => {
    if (!choices[n]) return h("input", { id: `param-${n}`, name: n, value: values[n] });
    // A value from the URL that is not a choice stays visible, so the query's error names it.
    const options = choices[n].includes(values[n]) ? choices[n] : [values[n], ...choices[n]];
    return h("select", { id: `param-${n}`, name: n },
      options.map((c) => h("option", { value: c, selected: c === values[n] }, c)));
  };
  const form = h("form", { class: "filters" }, names.map((n) => h("div", { class: "field" },
    h("label", { for: `param-${n}` }, n), field(n))),
  h("div", { class: "field actions" }, h("button", { type: "submit" }, "Run query")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams(params);
    for (const [key, value] of new FormData(form).entries()) next.set(key, value);
    location.hash = ctx.link([name], next);
  });
  view.append(form);
  view.append(h("details", { class: "sql" }, h("summary", {}, "SQL"), h("pre", {}, query.sql),
    h("p", {}, "The same query in Python, on your local database:"), h("pre", {}, pythonSnippet(ctx, query.sql, values)),
    h("a", { href: ctx.link([], { sql: query.sql, ...values }) }, "Edit in the SQL console")));
  const output = h("div", { class: "result", "aria-live": "polite" }, h("p", { class: "loading" }, "Running…"));
  view.append(output);
  const outcome = await ctx.run(output, query.sql, values, query.title);
  if (!ctx.alive()) return;
  output.querySelector(".loading")?.remove();
  if (!outcome) return;
  showResult(output, ctx, outcome.db, outcome.result, {
    hint: query.chart, basename: `${ctx.page.key}-${name}`,
    chartChange: (formData) => { location.hash = ctx.link([name], withChart(params, formData)); },
  });
}

export async function renderSqlConsole(view, ctx) {
  const params = ctx.route.params;
  const sql = params.get("sql") || "";
  const names = namedParameters(sql);
  const values = Object.fromEntries(names.map((n) => [n, params.get(n) ?? ""]));
  view.append(h("h2", {}, "SQL console"));
  view.append(h("p", { class: "muted" }, "One read-only SQLite 3.35 statement, run in your browser. ",
    `Each query may read up to ${Math.round(ctx.budget / 1048576)} MiB of the database; filter on indexed columns to stay fast. `,
    ":name parameters get a field below. Ctrl+Enter runs."));
  const textarea = h("textarea", { id: "sql-input", name: "sql", rows: 8, spellcheck: "false", "aria-label": "SQL" });
  textarea.value = sql || ctx.page.site.example_sql;
  const form = h("form", { class: "sql-form" }, textarea,
    names.length ? h("div", { class: "filters" }, names.map((n) => h("div", { class: "field" },
      h("label", { for: `sql-param-${n}` }, n), h("input", { id: `sql-param-${n}`, name: n, value: values[n] })))) : null,
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Run SQL")));
  const submit = () => {
    const next = new URLSearchParams();
    const formData = new FormData(form);
    next.set("sql", formData.get("sql"));
    for (const n of namedParameters(String(formData.get("sql")))) next.set(n, formData.get(n) ?? params.get(n) ?? "");
    for (const key of ["_chart", "_x", "_y", "_series"]) if (params.get(key)) next.set(key, params.get(key));
    location.hash = ctx.link([], next);
  };
  form.addEventListener("submit", (event) => { event.preventDefault(); submit(); });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); submit(); }
  });
  view.append(form);
  view.append(examples(ctx));
  if (!sql.trim()) return;
  const output = h("div", { class: "result", "aria-live": "polite" }, h("p", { class: "loading" }, "Running…"));
  view.append(output);
  const outcome = await ctx.run(output, sql, values, "Query");
  if (!ctx.alive()) return;
  output.querySelector(".loading")?.remove();
  if (!outcome) return;
  showResult(output, ctx, outcome.db, outcome.result, {
    hint: null, basename: `${ctx.page.key}-query`,
    chartChange: (formData) => { location.hash = ctx.link([], withChart(params, formData)); },
  });
}

function examples(ctx) {
  const items = [["Example", ctx.page.site.example_sql, {}],
    ...ctx.page.catalog.queries.map((q) => [q.title, q.sql, q.params || {}])];
  return h("details", { class: "examples" }, h("summary", {}, "Examples"),
    h("ul", {}, items.map(([title, sql, defaults]) => h("li", {},
      h("a", { href: ctx.link([], { sql, ...defaults }) }, title)))));
}
