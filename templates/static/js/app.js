// The benchmark page: reads its page data, routes the hash to a view, opens the database lazily.
import { clear, h, message } from "./dom.js";
import { DEFAULT_BUDGET, QueryError, openDb } from "./db.js";
import { RouteError, link, parseHash } from "./router.js";
import { renderBrowse } from "./views/browse.js";
import { renderCannedQuery, renderSqlConsole } from "./views/query.js";
import { renderScatter } from "./views/scatter.js";
import { renderCurves } from "./views/curves.js";
import { renderArch } from "./views/arch.js";
import { renderDesigner } from "./views/designer.js";
import * as genericBench from "./bench/generic.js";

const page = JSON.parse(document.getElementById("page-data").textContent);
const viewElement = document.getElementById("view");
const overviewElement = document.getElementById("overview");
let databasePromise = null;
let renderToken = 0;

function database() {
  if (!databasePromise) {
    databasePromise = openDb(page.db.config_url, {
      workerUrl: page.db.worker_url, wasmUrl: page.db.wasm_url, sizeBytes: page.db.size_bytes,
    });
    databasePromise.catch(() => { databasePromise = null; });
  }
  return databasePromise;
}

async function loadBench() {
  const bench = page.site.js_module ? await import(`./bench/${page.site.js_module}.js`) : genericBench;
  bench.configure(page.site.space);
  return bench;
}

/** Everything a view needs; `alive()` turns false once the user navigated elsewhere. */
function context(bench, token, route) {
  const ctx = {
    page, bench, route, docs: page.columns, link, database,
    // Columns a partial source does not hold: hidden from result tables (page.db.absent).
    absentColumns: page.db.absent?.columns || [],
    alive: () => token === renderToken,
    budget: DEFAULT_BUDGET,
    /** Run a query; on failure render the message (with a retry for budget stops) into `into`. */
    async run(into, sql, params, label, { maxRows } = {}) {
      const db = await database();
      try {
        return { db, result: await db.query(sql, params, { budget: ctx.budget, maxRows }) };
      } catch (error) {
        if (!ctx.alive()) return null;
        into.append(queryErrorMessage(error, label, () => {
          ctx.budget = 256 * 1024 * 1024;
          renderRoute(ctx.budget);
        }));
        return null;
      }
    },
  };
  return ctx;
}

/** The text a canned query stops with (nasbenchmark.descriptor.stop_sql), without SQLite's wrapper. */
export function stopMessage(text) {
  const match = /JSON path error near '([\s\S]*)'$/.exec(text);
  return match ? match[1].replaceAll("''", "'") : text;  // SQLite doubles the quotes of the text it quotes
}

function queryErrorMessage(error, label, retryWithLargerBudget) {
  const box = error instanceof QueryError && error.budgetExceeded
    ? message("error", h("strong", {}, `${label}: `), error.message, " ",
      h("button", { type: "button", onclick: retryWithLargerBudget }, "Run with a 256 MiB budget"))
    : message("error", h("strong", {}, `${label} failed: `), stopMessage(String(error.message || error).replace(/^SQLite: /, "")));
  if (error instanceof QueryError) box.dataset.bytes = String(error.bytes ?? 0);
  return box;
}

function setActiveTab(kind) {
  for (const tab of document.querySelectorAll(".bench-tabs a")) {
    if (tab.dataset.tab === kind) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
}

function routeKind(segments, params) {
  const site = page.site;
  if (segments.length === 0) return params.has("sql") ? "sql" : "overview";
  if (segments[0] === "-") {
    if (segments.length === 2 && segments[1] === "scatter" && site.scatter) return "scatter";
    if (segments.length === 2 && segments[1] === "curves" && site.arch && site.arch.curves_sql) return "curves";
    if (segments.length === 2 && segments[1] === "designer" && site.designer && site.arch) return "designer";
    return null;
  }
  if (segments.length === 1) {
    if (page.catalog.queries.some((q) => q.name === segments[0])) return "query";
    if (site.browse.some((b) => b.table === segments[0])) return "browse";
    return null;
  }
  if (segments.length === 2 && site.arch && segments[0] === site.arch.table) return "arch";
  return null;
}

async function renderRoute(budget) {
  const token = ++renderToken;
  delete viewElement.dataset.rendered;
  clear(viewElement);
  let route;
  try {
    route = parseHash(location.hash);
  } catch (error) {
    showRouteError(error);
    return;
  }
  const kind = routeKind(route.segments, route.params);
  if (kind === null) {
    showRouteError(new RouteError(`There is no page "${route.segments.join("/").slice(0, 100)}" on this benchmark.`));
    return;
  }
  setActiveTab(kind === "query" ? "queries" : kind);
  overviewElement.hidden = kind !== "overview";
  viewElement.hidden = kind === "overview";
  if (kind === "overview") {
    viewElement.dataset.rendered = String(token);
    return;
  }
  const bench = await loadBench();
  const ctx = context(bench, token, route);
  if (budget) ctx.budget = budget;
  const views = {
    sql: renderSqlConsole, query: renderCannedQuery, browse: renderBrowse,
    scatter: renderScatter, curves: renderCurves, arch: renderArch, designer: renderDesigner,
  };
  viewElement.setAttribute("aria-busy", "true");
  try {
    await views[kind](viewElement, ctx);
  } catch (error) {
    if (token !== renderToken) return;
    if (error instanceof RouteError) showRouteError(error);
    else viewElement.append(message("error", h("strong", {}, "This view failed: "), String(error.message || error)));
  } finally {
    if (token === renderToken) {
      viewElement.removeAttribute("aria-busy");
      viewElement.dataset.rendered = String(token);
    }
  }
}

function showRouteError(error) {
  overviewElement.hidden = true;
  viewElement.hidden = false;
  clear(viewElement);
  viewElement.append(message("error", h("strong", {}, "This link cannot be shown. "), error.message, " ",
    h("a", { href: link([]) }, `Go to the ${page.title} overview`), "."));
  viewElement.removeAttribute("aria-busy");
  viewElement.dataset.rendered = String(renderToken);
}

window.addEventListener("hashchange", () => renderRoute());
renderRoute();
