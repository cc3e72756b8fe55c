// Result tables: documented headers (unit, description), optional sort links, row links,
// CSV/JSON downloads of exactly the rows shown, and the engine's byte counters for the query.
import { h, formatBytes, formatValue } from "./dom.js";
import { download, toCsv, toJson } from "./export.js";

/** "Fetched 36.0 KiB in 9 requests · 12 rows · 41 ms"; data-* attributes carry the raw numbers. */
export function queryStats(result, db, label = "query", title = "") {
  const rows = result.rows.length;
  return h("p", {
    class: "query-stats",
    dataset: {
      query: label, bytes: result.bytes, requests: result.requests, rows, totalBytes: db.bytesFetched(),
    },
  }, title ? `${title}: ` : "", `Fetched ${formatBytes(result.bytes)} in ${result.requests} request${result.requests === 1 ? "" : "s"}`,
  ` · ${rows} row${rows === 1 ? "" : "s"}${result.truncated ? " (truncated)" : ""}`,
  ` · ${Math.round(result.ms)} ms · ${formatBytes(db.bytesFetched())} fetched since the page opened`);
}

export function downloadButtons(columns, rows, basename) {
  return h("div", { class: "downloads" }, "Download: ",
    h("button", { type: "button", class: "download-csv",
      onclick: () => download(`${basename}.csv`, toCsv(columns, rows), "text/csv") }, "CSV"),
    " ",
    h("button", { type: "button", class: "download-json",
      onclick: () => download(`${basename}.json`, toJson(columns, rows), "application/json") }, "JSON"));
}

/**
 * options: docs {col: {description, unit}}, caption, sortHref(col) -> href or null,
 * sortState {column, desc}, rowHref(row) -> href or null (first cell becomes a link),
 * render {col: (value, row) -> Node|string}
 */
export function resultTable(columns, rows, options = {}) {
  const { docs = {}, caption, sortHref, sortState, rowHref, render = {} } = options;
  const head = h("tr", {}, columns.map((column) => {
    const doc = docs[column] || {};
    const title = [doc.description, doc.unit ? `Unit: ${doc.unit}` : ""].filter(Boolean).join(". ");
    const href = sortHref ? sortHref(column) : null;
    const active = sortState && sortState.column === column;
    const label = [column, doc.unit ? h("span", { class: "unit" }, ` ${unitShort(doc.unit)}`) : null];
    const sortMark = active ? (sortState.desc ? " ▼" : " ▲") : "";
    return h("th", {
      scope: "col", title: title || null,
      "aria-sort": active ? (sortState.desc ? "descending" : "ascending") : null,
    }, href ? h("a", { href, title: `Sort by ${column}` }, label, sortMark) : [label, sortMark]);
  }));
  const body = h("tbody", {}, rows.map((row) => h("tr", {}, row.map((value, i) => {
    const renderer = render[columns[i]];
    let content = renderer ? renderer(value, row) : formatValue(value);
    if (i === 0 && rowHref) {
      const href = rowHref(row);
      if (href) content = h("a", { href }, content);
    }
    return h("td", { class: typeof value === "number" && !renderer ? "num" : null }, content);
  }))));
  return h("div", { class: "table-wrap", tabindex: "0" },
    h("table", { class: "results" }, caption ? h("caption", {}, caption) : null, h("thead", {}, head), body));
}

function unitShort(unit) {
  return { percent: "(%)", seconds: "(s)", millions: "(M)", MFLOPs: "(MFLOPs)", epochs: "" }[unit] ?? `(${unit})`;
}
