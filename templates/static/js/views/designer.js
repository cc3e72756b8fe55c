// The cell designer #/-/designer?<the cell>: the benchmark's editor module (bench/<designer.js_module>.js)
// reads the cell from the URL, draws it for editing, says what is wrong with it and gives its lookup key;
// this view keeps the edited cell in the URL (a designed cell is a link) and looks it up as you edit.
//
// An editor module exports configure(space), readState(params) (RouteError for a malformed cell),
// stateParams(state) -> {name: value}, renderEditor(state, onChange) -> Node, and analyze(state) ->
// {problems: [{level: "error" | "note", text}], key (null when the cell is not in the space), summary}.
import { clear, h, message } from "../dom.js";
import { downloadButtons, hiddenNote, present, queryStats, resultTable } from "../table.js";
import { heldText } from "./arch.js";

export async function renderDesigner(view, ctx) {
  const spec = ctx.page.site.designer;
  const arch = ctx.page.site.arch;
  const editor = await import(`../bench/${spec.js_module}.js`);
  editor.configure(ctx.page.site.space);
  let state = editor.readState(ctx.route.params);
  view.append(h("h2", {}, "Cell designer"));
  if (spec.help) view.append(h("p", { class: "designer-help" }, spec.help));
  const editorBox = h("div", { class: "designer-editor" });
  const status = h("div", { class: "designer-status", "aria-live": "polite" });
  const results = h("div", { class: "result designer-results", "aria-live": "polite" });
  view.append(editorBox, status, results);
  let lookups = 0;

  async function show() {
    // The URL follows every edit without a new history entry or a re-render of the page.
    history.replaceState(null, "", ctx.link(["-", "designer"], editor.stateParams(state)));
    const focused = document.activeElement?.id;
    clear(editorBox).append(editor.renderEditor(state, (next) => { state = next; show(); }));
    if (focused) document.getElementById(focused)?.focus();
    const analysis = editor.analyze(state);
    clear(status).append(problemList(analysis.problems), analysis.summary ? h("p", { class: "designer-summary" },
      analysis.summary) : "");
    clear(results);
    delete results.dataset.lookup;
    const token = ++lookups;
    if (analysis.key === null) {
      results.append(message("info", "Not a cell of this search space, so there is nothing to look up: fix the " +
        "problems above."));
    } else {
      results.append(h("p", { class: "loading" }, "Looking the cell up…"));
      await lookUp(analysis.key, token);
    }
    if (token === lookups) results.dataset.lookup = "done";  // the latest cell's lookup is shown
  }

  async function lookUp(key, token) {
    const current = () => ctx.alive() && token === lookups;
    const found = await ctx.run(results, spec.lookup_sql, { key }, "Lookup");
    if (!current()) return;
    results.querySelector(".loading")?.remove();
    if (!found) return;
    if (!found.result.rows.length) {
      results.append(message("info", `This cell is in the search space but not in this database: ${heldText(ctx.page)}`));
      results.append(queryStats(found.result, found.db, "designer-lookup"));
      return;
    }
    const id = found.result.rows[0][found.result.columns.indexOf("id")];
    const outcome = await ctx.run(results, arch.results_sql, { id }, "Results");
    if (!current() || !outcome) return;
    const href = ctx.link([arch.table, String(id)]);
    results.append(h("p", { class: "designer-found" }, "Found: ",
      h("a", { href }, `architecture ${id}`), ` (${arch.key_column} ${id}).`));
    if (!outcome.result.rows.length) {
      results.append(message("info", `This database has no results for architecture ${id}: ${heldText(ctx.page)}`));
      results.append(queryStats(found.result, found.db, "designer-lookup", "Lookup"));
      return;
    }
    const shown = present(outcome.result.columns, outcome.result.rows, ctx.bench.presentation, ctx.absentColumns);
    results.append(resultTable(shown.columns, shown.rows, { docs: ctx.docs, render: ctx.bench.renderers || {} }));
    results.append(hiddenNote(shown) || "");
    results.append(downloadButtons(shown.columns, shown.rows, `${ctx.page.key}-designed-${id}`));
    results.append(queryStats(found.result, found.db, "designer-lookup", "Lookup"));
    results.append(queryStats(outcome.result, outcome.db, "designer-results", "Results"));
  }

  await show();
}

function problemList(problems) {
  if (!problems.length) return message("info", "The cell is valid as drawn.");
  const errors = problems.filter((p) => p.level === "error");
  return message(errors.length ? "error" : "info",
    h("strong", {}, errors.length ? "Not a cell of the search space: " : "Valid, once simplified: "),
    h("ul", { class: "designer-problems" }, problems.map((p) => h("li", { dataset: { level: p.level } }, p.text))));
}
