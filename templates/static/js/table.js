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
 * The result as a benchmark presents it: columns in its `presentation` ({cell: {name: "arch_str",
 * text: (value) => string}}) are replaced by their readable form, so a table and its downloads hold
 * the same values.
 */
export function present(columns, rows, presentation = {}, absent = []) {
  const kept = columns.map((column, i) => i).filter((i) => !absent.includes(columns[i]));
  const replaced = kept.map((i) => presentation[columns[i]]);
  return {
    columns: kept.map((i, k) => replaced[k]?.name ?? columns[i]),
    rows: rows.map((row) => kept.map((i, k) => (replaced[k] && row[i] !== null ? replaced[k].text(row[i]) : row[i]))),
    hidden: columns.filter((column) => absent.includes(column)),
  };
}

/** "Not in this source: test_acc, flops." under a table whose NULL-only columns were hidden. */
export function hiddenNote(shown) {
  return shown.hidden?.length
    ? h("p", { class: "muted hidden-columns" }, `Not in this source (a partial one), so not shown: ${shown.hidden.join(", ")}.`)
    : null;
}

/** Rows shown per page of a result table; longer results get a pager (no new query). */
export const TABLE_PAGE_ROWS = 100;

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
  const rowNode = (row) => h("tr", {}, row.map((value, i) => {
    const renderer = render[columns[i]];
    let content = renderer ? renderer(value, row) : formatValue(value);
    if (i === 0 && rowHref) {
      const href = rowHref(row);
      if (href) content = h("a", { href }, content);
    }
    return h("td", { class: typeof value === "number" && !renderer ? "num" : null }, content);
  }));
  const body = h("tbody", {});
  const wrap = h("div", { class: "table-wrap", tabindex: "0" },
    h("table", { class: "results" }, caption ? h("caption", {}, caption) : null, h("thead", {}, head), body));
  if (rows.length <= TABLE_PAGE_ROWS) {
    body.append(...rows.map(rowNode));
    return wrap;
  }
  const pages = Math.ceil(rows.length / TABLE_PAGE_ROWS);
  const status = h("span", { "aria-live": "polite" });
  const previous = h("button", { type: "button", class: "table-prev" }, "← Previous");
  const next = h("button", { type: "button", class: "table-next" }, "Next →");
  let page = 0;
  const show = (number) => {
    page = Math.min(Math.max(number, 0), pages - 1);
    body.replaceChildren(...rows.slice(page * TABLE_PAGE_ROWS, (page + 1) * TABLE_PAGE_ROWS).map(rowNode));
    status.textContent = ` Rows ${page * TABLE_PAGE_ROWS + 1}–${Math.min((page + 1) * TABLE_PAGE_ROWS, rows.length)} ` +
      `of ${rows.length} `;
    previous.disabled = page === 0;
    next.disabled = page === pages - 1;
  };
  previous.addEventListener("click", () => show(page - 1));
  next.addEventListener("click", () => show(page + 1));
  show(0);
  return h("div", { class: "paged-table" }, wrap, h("nav", { class: "pager", "aria-label": "Table pages" }, previous, status, next));
}

function unitShort(unit) {
  return { percent: "(%)", seconds: "(s)", millions: "(M)", MFLOPs: "(MFLOPs)", epochs: "" }[unit] ?? `(${unit})`;
}
