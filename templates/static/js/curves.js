// Learning curves: per-epoch rows of several runs (seeds) -> mean and min..max band per epoch.

/** rows of {series key, x, metric} -> [{series, x, mean, min, max, runs}] */
export function aggregateRuns(data, { series, x, metric, label }) {
  const groups = new Map();
  for (const d of data) {
    const value = d[metric];
    if (value === null || value === undefined) continue;
    const key = `${label(d)}\u0000${d[x]}`;
    if (!groups.has(key)) groups.set(key, { series: label(d), x: d[x], values: [] });
    groups.get(key).values.push(value);
  }
  return [...groups.values()].map((g) => ({
    series: g.series, [x]: g.x, [metric]: g.values.reduce((a, b) => a + b, 0) / g.values.length,
    min: Math.min(...g.values), max: Math.max(...g.values), runs: g.values.length,
  })).sort((a, b) => (a.series < b.series ? -1 : a.series > b.series ? 1 : a[x] - b[x]));
}

/** The metric to show first: the first preferred one recorded at two or more epochs per run. */
export function defaultMetric(data, metrics, runKey, preferred = ["test_acc", "valid_acc", "train_acc"]) {
  const runs = new Set(data.map(runKey)).size;
  const present = (m) => data.filter((d) => d[m] !== null && d[m] !== undefined).length >= 2 * runs;
  return [...preferred, ...metrics].find((m) => metrics.includes(m) && present(m)) || metrics[0];
}
