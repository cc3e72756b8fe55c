// Charts with Observable Plot (vendored UMD build: globals Plot and d3).
import { h, message } from "./dom.js";

function plotLibrary() {
  if (!window.Plot) throw new Error("The chart library did not load (static/vendor/plot/plot.umd.min.js).");
  return window.Plot;
}

function objects(columns, rows) {
  return rows.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i]])));
}

function axisLabel(column, docs) {
  const unit = docs && docs[column] && docs[column].unit;
  return unit ? `${column} (${unit})` : column;
}

function figure(plot, caption) {
  return h("figure", { class: "chart" }, plot, caption ? h("figcaption", {}, caption) : null);
}

/**
 * Scatter of objects. options: x, y, title(d) for the hover tip, onClick(d), color(d) + colorLabel,
 * logX, docs, caption, width.
 */
export function scatter(data, options) {
  const Plot = plotLibrary();
  const { x, y, title, onClick, onPoint, color, colorLabel, logX, docs, caption, width, front } = options;
  const points = data.filter((d) => d[x] !== null && d[y] !== null && (!logX || d[x] > 0));
  const plot = Plot.plot({
    width: width || 900, height: 520, grid: true, marginLeft: 60,
    x: { type: logX ? "log" : "linear", label: axisLabel(x, docs), tickFormat: logX ? "~g" : undefined },
    y: { label: axisLabel(y, docs) },
    color: color ? { legend: true, label: colorLabel, type: "categorical" } : undefined,
    marks: [
      front ? Plot.line(front, { x, y, stroke: "#d1495b", strokeWidth: 1.5, curve: "step-after" }) : null,
      Plot.dot(points, {
        x, y, r: 2.2, fill: color || "#3b6fb6", fillOpacity: 0.6,
        title: title || undefined, tip: true,
      }),
    ],
  });
  if (onPoint) plot.addEventListener("input", () => onPoint(plot.value));
  if (onClick) {
    plot.classList.add("clickable");
    plot.addEventListener("click", () => { if (plot.value) onClick(plot.value); });
  }
  return figure(plot, caption);
}

/** Lines (one per series), with dots so that a series of one point still shows. */
export function lines(data, options) {
  const Plot = plotLibrary();
  const { x, y, series, band, docs, caption, width, title } = options;
  const points = data.filter((d) => d[x] !== null && d[y] !== null);
  const marks = [];
  if (band) {
    marks.push(Plot.areaY(data.filter((d) => d[band[0]] !== null), {
      x, y1: band[0], y2: band[1], fill: series, fillOpacity: 0.15, z: series,
    }));
  }
  marks.push(Plot.line(points, { x, y, stroke: series, z: series }));
  marks.push(Plot.dot(points, { x, y, fill: series, r: 1.6, title: title || undefined, tip: true }));
  const plot = Plot.plot({
    width: width || 900, height: 420, grid: true, marginLeft: 60,
    x: { label: axisLabel(x, docs) }, y: { label: axisLabel(y, docs) },
    color: series ? { legend: true, type: "categorical" } : undefined,
    marks,
  });
  return figure(plot, caption);
}

export function bars(data, options) {
  const Plot = plotLibrary();
  const { x, y, docs, caption, width } = options;
  const plot = Plot.plot({
    width: width || 900, height: 420, grid: true, marginLeft: 60, marginBottom: 60,
    x: { label: axisLabel(x, docs), tickRotate: -30 }, y: { label: axisLabel(y, docs) },
    marks: [Plot.barY(data, { x, y, fill: "#3b6fb6", tip: true }), Plot.ruleY([0])],
  });
  return figure(plot, caption);
}

/** Chart of query result rows by a spec {type, x, y, series}; a message if the columns are absent. */
export function chartFromSpec(spec, columns, rows, docs) {
  const needed = [spec.x, spec.y, spec.series].filter(Boolean);
  const missing = needed.filter((c) => !columns.includes(c));
  if (missing.length) {
    return message("warning", `The ${spec.type} chart needs the column${missing.length > 1 ? "s" : ""} `,
      missing.join(", "), ", which the result does not have.");
  }
  if (!rows.length) return message("info", "No rows to chart.");
  const data = objects(columns, rows);
  const title = (d) => columns.map((c) => `${c}: ${d[c]}`).join("\n");
  if (spec.type === "scatter") return scatter(data, { x: spec.x, y: spec.y, title, docs, color: spec.series ? (d) => String(d[spec.series]) : null, colorLabel: spec.series });
  if (spec.type === "line") return lines(data, { x: spec.x, y: spec.y, series: spec.series ? (d) => String(d[spec.series]) : undefined, docs, title });
  if (spec.type === "bar") return bars(data, { x: spec.x, y: spec.y, docs });
  return message("warning", `Unknown chart type "${spec.type}"; expected scatter, line or bar.`);
}

export { objects };
