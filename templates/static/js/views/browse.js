// Browse a table: filters, sort on indexed columns only, pages of LIMIT/OFFSET.
import { h, message } from "../dom.js";
import { RouteError, choiceParam, intParam } from "../router.js";
import { downloadButtons, present, queryStats, resultTable } from "../table.js";
import { filterForm, readFilters, selectControl } from "./filters.js";

/** The browse statement; the same text as BrowseSpec.sql in nasbenchmark/descriptor.py. */
export function browseSql(spec, sort, desc, conditions) {
  const index = spec.sorts[sort];
  const direction = desc ? " desc" : "";
  const order = `${sort}${direction}` + (spec.tie_breaker ? `, ${spec.tie_breaker}${direction}` : "");
  return `select ${spec.columns.join(", ")} from ${spec.table}` + (index ? ` indexed by ${index}` : "") +
    (conditions.length ? ` where ${conditions.join(" and ")}` : "") + ` order by ${order} limit :_limit offset :_offset`;
}

export function readSort(spec, params) {
  const sortable = Object.keys(spec.sorts);
  const asc = params.get("_sort");
  const descending = params.get("_sort_desc");
  if (asc && descending) throw new RouteError('Use either "_sort" or "_sort_desc", not both.');
  const column = asc || descending;
  if (!column) return { column: spec.default_sort, desc: spec.default_desc };
  if (!sortable.includes(column)) {
    throw new RouteError(`Sorting by "${column.slice(0, 40)}" is not offered: only indexed columns sort ` +
      `without reading the whole table (${sortable.join(", ")}).`);
  }
  return { column, desc: Boolean(descending) };
}

export async function renderBrowse(view, ctx) {
  const table = ctx.route.segments[0];
  const spec = ctx.page.site.browse.find((b) => b.table === table);
  const params = ctx.route.params;
  const filters = readFilters(spec.filters, params);
  const sort = readSort(spec, params);
  const size = Number(choiceParam(params, "_size", spec.page_sizes.map(String), String(spec.default_page_size)));
  const pageNumber = intParam(params, "_page", 1, 1, 1000000);
  const state = { ...filters.values, [sort.desc ? "_sort_desc" : "_sort"]: sort.column, _size: size };
  const href = (changes) => ctx.link([table], { ...state, ...changes });

  view.append(h("h2", {}, spec.title, h("span", { class: "muted" }, ` · table ${spec.table}`)));
  const sortOptions = Object.keys(spec.sorts).flatMap((c) => [[`-${c}`, `${c} ↓ (descending)`], [c, `${c} ↑`]]);
  view.append(filterForm(spec.filters, filters.values, {
    idPrefix: `browse-${table}`,
    extra: [
      selectControl(`browse-${table}-sort`, "_order", "Sort", sortOptions, `${sort.desc ? "-" : ""}${sort.column}`),
      selectControl(`browse-${table}-size`, "_size", "Rows per page", spec.page_sizes.map((n) => [String(n)]), String(size)),
    ],
    onSubmit: (formParams) => {
      const order = formParams.get("_order") || spec.default_sort;
      formParams.delete("_order");
      formParams.set(order.startsWith("-") ? "_sort_desc" : "_sort", order.replace(/^-/, ""));
      location.hash = ctx.link([table], formParams);
    },
  }));
  view.append(h("p", { class: "muted" }, "Sorting is offered on indexed columns only, so every page reads a few ",
    "index pages instead of the whole table. ", h("a", { href: ctx.link([table]) }, "Reset filters")));

  const sql = browseSql(spec, sort.column, sort.desc, filters.conditions);
  const bind = { ...filters.bind, _limit: size + 1, _offset: (pageNumber - 1) * size };
  const output = h("div", { class: "result", "aria-live": "polite" }, h("p", { class: "loading" }, "Loading…"));
  view.append(output);
  const outcome = await ctx.run(output, sql, bind, "Browse");
  if (!ctx.alive()) return;
  output.querySelector(".loading")?.remove();
  if (!outcome) return;
  const { db, result } = outcome;
  const rows = result.rows.slice(0, size);
  const hasNext = result.rows.length > size;
  const sortHref = (column) => column in spec.sorts
    ? href({ _sort: null, _sort_desc: null, [sort.column === column && sort.desc ? "_sort" : "_sort_desc"]: column, _page: null })
    : null;
  const arch = ctx.page.site.arch;
  const linkIndex = spec.row_link_column ? result.columns.indexOf(spec.row_link_column) : -1;
  const rowHref = arch && linkIndex >= 0 ? (row) => ctx.link([arch.table, String(row[linkIndex])]) : null;
  const columns = result.columns;
  const ordered = linkIndex > 0 ? [linkIndex, ...columns.keys()].filter((v, i, a) => a.indexOf(v) === i) : [...columns.keys()];
  const shown = present(ordered.map((i) => columns[i]), rows.map((row) => ordered.map((i) => row[i])),
    ctx.bench.presentation);
  const shownColumns = shown.columns;
  const shownRows = shown.rows;
  if (!rows.length) output.append(message("info", "No rows match these filters."));
  output.append(resultTable(shownColumns, shownRows, {
    docs: ctx.docs, sortHref, sortState: sort, rowHref, render: ctx.bench.renderers || {},
    caption: `${spec.table}, page ${pageNumber}`,
  }));
  output.append(h("nav", { class: "pager", "aria-label": "Pages" },
    pageNumber > 1 ? h("a", { href: href({ _page: pageNumber - 1 }), rel: "prev" }, "← Previous") : null,
    h("span", {}, ` Page ${pageNumber} (rows ${rows.length ? (pageNumber - 1) * size + 1 : 0}–${(pageNumber - 1) * size + rows.length}) `),
    hasNext ? h("a", { href: href({ _page: pageNumber + 1 }), rel: "next" }, "Next →") : null));
  output.append(downloadButtons(shownColumns, shownRows, `${ctx.page.key}-${table}-page${pageNumber}`));
  output.append(queryStats(result, db, "browse"));
  output.append(h("details", { class: "sql" }, h("summary", {}, "SQL of this page"),
    h("pre", {}, sql), h("pre", {}, JSON.stringify(bind)),
    h("a", { href: ctx.link([], { sql, ...Object.fromEntries(Object.entries(bind).map(([k, v]) => [k, String(v)])) }) },
      "Open in the SQL console")));
}
