// Filter specs from the site adapter -> URL parameters, SQL conditions and form controls.
//   choice filter {name, label, sql, choices: [[label, value]], required, default}: URL name=label
//   range filter  {column, label, unit}: URL column__gte=a&column__lte=b (Datasette's spelling)
import { h } from "../dom.js";
import { RouteError, numberParam } from "../router.js";

export const isChoice = (spec) => Array.isArray(spec.choices);

/** Read the filters' values from URL params: {values (URL form), conditions (SQL), bind (SQL params)}. */
export function readFilters(specs, params) {
  const values = {};
  const conditions = [];
  const bind = {};
  for (const spec of specs) {
    if (isChoice(spec)) {
      let label = params.get(spec.name);
      if ((label === null || label === "") && spec.required) label = spec.default ?? spec.choices[0][0];
      if (label === null || label === "") continue;
      const choice = spec.choices.find(([choiceLabel]) => choiceLabel === label);
      if (!choice) {
        throw new RouteError(`"${spec.name}" must be one of ${spec.choices.map((c) => c[0]).join(", ")}; ` +
          `got "${label.slice(0, 40)}".`);
      }
      values[spec.name] = label;
      conditions.push(spec.sql);
      bind[spec.name] = choice[1];
    } else {
      for (const [suffix, operator] of [["gte", ">="], ["lte", "<="]]) {
        const name = `${spec.column}__${suffix}`;
        const value = numberParam(params, name);
        if (value === null) continue;
        values[name] = String(value);
        conditions.push(`${spec.column} ${operator} :${name}`);
        bind[name] = value;
      }
    }
  }
  return { values, conditions, bind };
}

function choiceControl(spec, value, id) {
  const select = h("select", { id, name: spec.name },
    spec.required ? null : h("option", { value: "" }, "any"),
    spec.choices.map(([label]) => h("option", { value: label, selected: label === value }, label)));
  return h("div", { class: "field" }, h("label", { for: id }, spec.label), select);
}

function rangeControl(spec, values, id) {
  const unit = spec.unit ? ` (${spec.unit})` : "";
  return h("fieldset", { class: "field range" }, h("legend", {}, spec.label + unit),
    h("label", { for: `${id}-gte`, class: "visually-hidden" }, `${spec.label} at least`),
    h("input", { id: `${id}-gte`, name: `${spec.column}__gte`, type: "number", step: "any", placeholder: "min",
      value: values[`${spec.column}__gte`] ?? "" }),
    "–",
    h("label", { for: `${id}-lte`, class: "visually-hidden" }, `${spec.label} at most`),
    h("input", { id: `${id}-lte`, name: `${spec.column}__lte`, type: "number", step: "any", placeholder: "max",
      value: values[`${spec.column}__lte`] ?? "" }));
}

/** A GET-like form: on submit, onSubmit(URLSearchParams of the non-empty fields). */
export function filterForm(specs, values, { idPrefix, extra = [], onSubmit, submitLabel = "Apply" }) {
  const controls = specs.map((spec, i) => isChoice(spec)
    ? choiceControl(spec, values[spec.name], `${idPrefix}-${i}`)
    : rangeControl(spec, values, `${idPrefix}-${i}`));
  const form = h("form", { class: "filters" }, controls, extra,
    h("div", { class: "field actions" }, h("button", { type: "submit" }, submitLabel)));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form).entries()) if (String(value).trim() !== "") params.append(name, value);
    onSubmit(params);
  });
  return form;
}

export function selectControl(id, name, label, options, value) {
  return h("div", { class: "field" }, h("label", { for: id }, label),
    h("select", { id, name }, options.map(([optionValue, optionLabel]) =>
      h("option", { value: optionValue, selected: optionValue === value }, optionLabel ?? optionValue))));
}
