// Hash routes, shaped like Datasette's URLs relative to one database:
//   #/                          overview            #/?sql=select…&name=value   SQL console
//   #/<table>?col=v&col__gte=1&_sort_desc=col&_page=2&_size=50                  browse a table
//   #/<canned query>?param=v&_chart=scatter                                    canned query
//   #/<arch table>/<id>?dataset=…                                              architecture page
//   #/-/scatter?x=…&y=…   #/-/curves?archs=1,2&metric=…                        charts
// Every link the site writes carries _v (the format version), so a future format can read old links.

export const FORMAT_VERSION = "1";

export class RouteError extends Error {
  constructor(message) {
    super(message);
    this.name = "RouteError";
  }
}

/** Parse location.hash into {segments, params}; throws RouteError on a malformed address. */
export function parseHash(hash) {
  let text = hash.startsWith("#") ? hash.slice(1) : hash;
  if (text === "") text = "/";
  if (!text.startsWith("/")) throw new RouteError(`The address part after # must start with "/", got "${text.slice(0, 80)}".`);
  const queryStart = text.indexOf("?");
  const path = queryStart < 0 ? text : text.slice(0, queryStart);
  const query = queryStart < 0 ? "" : text.slice(queryStart + 1);
  let segments;
  try {
    segments = path.split("/").filter(Boolean).map(decodeURIComponent);
    // URLSearchParams replaces broken escapes silently; check them first so a damaged link is reported.
    for (const part of query.split("&")) if (part) decodeURIComponent(part.replace(/\+/g, " "));
  } catch (error) {
    throw new RouteError("The address contains a broken %-escape; it was probably cut or altered when it was copied.");
  }
  const params = new URLSearchParams(query);
  const version = params.get("_v");
  if (version !== null && version !== FORMAT_VERSION) {
    throw new RouteError(`This link uses address format v${version}; this site reads format v${FORMAT_VERSION}.`);
  }
  params.delete("_v");
  return { segments, params };
}

/** The hash for a route: link(["summary"], {dataset: "cifar10"}) -> "#/summary?dataset=cifar10&_v=1". */
export function link(segments, params = {}) {
  const path = "/" + segments.map(encodeURIComponent).join("/");
  const search = new URLSearchParams();
  const entries = params instanceof URLSearchParams ? params.entries() : Object.entries(params);
  for (const [name, value] of entries) {
    if (value === null || value === undefined || value === "") continue;
    search.append(name, String(value));
  }
  search.set("_v", FORMAT_VERSION);
  return `#${path}?${search.toString()}`;
}

/** Integer parameter within [min, max], else RouteError naming it. */
export function intParam(params, name, fallback, min = 1, max = Number.MAX_SAFE_INTEGER) {
  const raw = params.get(name);
  if (raw === null || raw === "") return fallback;
  if (!/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new RouteError(`"${name}" must be a whole number from ${min} to ${max}, got "${raw.slice(0, 40)}".`);
  }
  return Number(raw);
}

/** Numeric parameter (float), else RouteError. */
export function numberParam(params, name) {
  const raw = params.get(name);
  if (raw === null || raw.trim() === "") return null;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new RouteError(`"${name}" must be a number, got "${raw.slice(0, 40)}".`);
  return value;
}

/** A parameter restricted to choices, else RouteError listing them. */
export function choiceParam(params, name, choices, fallback) {
  const raw = params.get(name);
  if (raw === null || raw === "") return fallback;
  if (!choices.includes(raw)) {
    throw new RouteError(`"${name}" must be one of ${choices.join(", ")}; got "${raw.slice(0, 40)}".`);
  }
  return raw;
}
