// Checks what the host does with Range requests before the first query, and says so on the page.
//
// The engine (sql.js-httpvfs) accepts whatever a Range request returns: a host that ignores Range
// (status 200 and the whole file) makes SQLite read wrong bytes and fail with "database disk image is
// malformed"; one that compresses the chunk files or hides them from a page on another origin makes
// the engine's reads fail with a bare XMLHttpRequest error. One small Range request, for bytes 16-99
// of the first chunk (the SQLite header: page size, format and page count, all known from the
// config), tells these cases apart, and each gets a message naming the problem and the fix, with a
// link to the hosting page. When the host ignores Range but the database is small, the engine is
// instead told to fetch whole chunk files, once each, and a note says so. A problem that leaves the
// answers right (a missing or hidden Content-Range, when the bytes checked out) gets a note and the
// queries run.

import { h, message } from "./dom.js";

/** Largest database fetched whole when the host ignores Range (the engine keeps it in memory). */
export const WHOLE_FILES_LIMIT = 64 * 1024 * 1024;
const HOSTING_PAGE = new URL("../../hosting.html", import.meta.url);
const PROBE_FIRST = 16;
const PROBE_LAST = 99;
const PROBE_LENGTH = PROBE_LAST - PROBE_FIRST + 1;
const RANGE_FIX = "Serve the site from a host that answers Range requests with 206 Partial Content; for a " +
  "local preview run python -m site_builder.server SITE_FOLDER (Python's http.server ignores Range).";
const COMPRESSION_FIX = "Turn compression off for the files db/*.sqlite3.* (serve them as " +
  "application/octet-stream with Cache-Control: no-transform).";
const FILES_FIX = "Publish the whole built folder, db/ included, and open the pages from it.";

/** A host behaviour that stops the database from being read; `anchor` is its hosting-page section. */
export class HostProblem extends Error {
  constructor(code, title, detail, fix, anchor) {
    super(`${title}. ${detail}`);
    this.name = "HostProblem";
    Object.assign(this, { code, title, detail, fix, anchor });
  }
}

/** The response's Content-Encoding, or null for none or identity. */
function contentEncoding(response) {
  const encoding = response.headers.get("content-encoding");
  return encoding && encoding !== "identity" ? encoding : null;
}

function sizeText(bytes) {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function fileName(url) {
  const { pathname } = new URL(url);
  return pathname.slice(pathname.lastIndexOf("/") + 1);
}

async function loadConfig(configUrl, crossOrigin) {
  const origin = new URL(configUrl).origin;
  let response;
  try {
    response = await fetch(configUrl, { cache: "no-cache" });
  } catch (error) {
    if (crossOrigin) {
      throw new HostProblem("cors-blocked", `The database on ${origin} cannot be read from this page`,
        `The request for ${configUrl} failed: that host is unreachable or sends no CORS headers ` +
        "(Access-Control-Allow-Origin).",
        "Send Access-Control-Allow-Origin (and allow the Range request header) on the files under db/, " +
        "or publish the database on this site's origin.", "cors");
    }
    throw new HostProblem("unreachable", "The database could not be fetched",
      `The request for ${configUrl} failed (${error.message}).`,
      "Check the connection, and that the server of this site is still running.", "files");
  }
  if (!response.ok) {
    throw new HostProblem("config-missing", "The database description could not be loaded",
      `${configUrl} answered HTTP ${response.status}.`, FILES_FIX, "files");
  }
  try {
    return await response.json();
  } catch {
    throw new HostProblem("config-missing", "The database description could not be loaded",
      `${configUrl} is not the JSON file the site builder wrote (the host sent ` +
      `${response.headers.get("content-type") || "no content type"}).`, FILES_FIX, "files");
  }
}

/** Read at most `limit` bytes of a body, then stop the transfer. */
async function readAtMost(response, limit) {
  const reader = response.body.getReader();
  const buffer = new Uint8Array(limit);
  let total = 0;
  while (total < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer.set(value.subarray(0, limit - total), total);
    total += Math.min(value.length, limit - total);
  }
  reader.cancel().catch(() => {});
  return buffer.subarray(0, total);
}

async function probe(url) {
  const controller = new AbortController();
  try {
    const response = await fetch(url, {
      headers: { Range: `bytes=${PROBE_FIRST}-${PROBE_LAST}` }, cache: "no-store", signal: controller.signal,
    });
    let bytes = null;
    if (response.status === 206) {
      // One byte more than asked for shows a host that sends too much; a body that breaks off reads
      // as no bytes.
      bytes = await readAtMost(response, PROBE_LENGTH + 1).catch(() => new Uint8Array(0));
    }
    return { status: response.status, encoding: contentEncoding(response),
      contentRange: response.headers.get("content-range"), bytes };
  } catch (error) {
    return { error };
  } finally {
    controller.abort(); // a host that ignores Range would go on sending the whole chunk
  }
}

/**
 * The Content-Encoding of a plain GET. Chromium sends Range requests with Accept-Encoding: identity
 * and refuses a compressed answer to them, so only a request without Range shows the compression.
 */
async function plainEncoding(url) {
  const controller = new AbortController();
  try {
    return contentEncoding(await fetch(url, { cache: "no-store", signal: controller.signal }));
  } catch {
    return null;
  } finally {
    controller.abort(); // the headers are all that is needed
  }
}

function compressed(encoding, detail) {
  return new HostProblem("compressed", `This host compresses the database files (Content-Encoding: ${encoding})`,
    detail, COMPRESSION_FIX, "compression");
}

/** Why the Range request failed: compression the browser refused, CORS, or no connection. */
async function failedProbe(chunkUrl, origin, crossOrigin, error) {
  const encoding = await plainEncoding(chunkUrl);
  if (encoding) {
    return compressed(encoding, "It compresses even the answers to range requests, which the browser sends with " +
      "Accept-Encoding: identity, so the browser refuses them (and range offsets address the uncompressed file).");
  }
  if (crossOrigin) {
    return new HostProblem("cors-range", `The database files on ${origin} cannot be read from this page`,
      `The database description loads, but a Range request for ${fileName(chunkUrl)} fails ` +
      `(${error.message}): the files db/*.sqlite3.* lack the CORS headers.`,
      "Send Access-Control-Allow-Origin and Access-Control-Expose-Headers on the files db/*.sqlite3.* too, and " +
      "answer the preflight (OPTIONS) with Access-Control-Allow-Headers: Range.", "cors");
  }
  return new HostProblem("unreachable", "The database could not be fetched",
    `The request for ${chunkUrl} failed (${error.message}).`,
    "Check the connection, and that the server of this site is still running.", "files");
}

/** Do the probed bytes read as bytes 16-99 of this database's SQLite header? */
function isHeaderOf(bytes, config) {
  if (bytes.length !== PROBE_LENGTH) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pageSize = view.getUint16(0) === 1 ? 65536 : view.getUint16(0);
  const fractions = [view.getUint8(5), view.getUint8(6), view.getUint8(7)].join();
  return fractions === "64,32,32" && pageSize === config.requestChunkSize &&
    pageSize * view.getUint32(12) === config.databaseLengthBytes;
}

function ignoredRange(cause, chunkUrl, config) {
  const files = Math.ceil(config.databaseLengthBytes / config.serverChunkSize);
  const [code, title, fix, anchor] = cause
    ? ["compressed", `This host compresses the database files (Content-Encoding: ${cause}) and ignores HTTP ` +
       "Range requests", COMPRESSION_FIX, "compression"]
    : ["no-range", "This host ignores HTTP Range requests", RANGE_FIX, "range"];
  const asked = `A request for ${PROBE_LENGTH} bytes of ${fileName(chunkUrl)} was answered with the whole file ` +
    "(status 200)";
  if (config.databaseLengthBytes <= WHOLE_FILES_LIMIT) {
    return new HostProblem(code, title, `${asked}, so this page downloads the whole database once ` +
      `(${sizeText(config.databaseLengthBytes)} in ${files} file${files === 1 ? "" : "s"}) instead of only ` +
      "the pages each query reads.", fix, anchor);
  }
  return new HostProblem(code, title, `${asked}, and the database (${sizeText(config.databaseLengthBytes)}) is ` +
    `too large to download whole (the limit is ${sizeText(WHOLE_FILES_LIMIT)}).`, fix, anchor);
}

/**
 * Check the host of the database described at `configUrl` (absolute).
 * Resolves to {config (its urlPrefix absolute), wholeFiles, notes: HostProblem[]}; rejects with a
 * HostProblem when the database cannot be read correctly from this host.
 */
export async function checkHost(configUrl) {
  const origin = new URL(configUrl).origin;
  const crossOrigin = origin !== location.origin;
  const loaded = await loadConfig(configUrl, crossOrigin);
  const config = { ...loaded, urlPrefix: new URL(loaded.urlPrefix, configUrl).href };
  const cacheBust = config.cacheBust ? `?cb=${config.cacheBust}` : "";
  const chunkUrl = config.urlPrefix + "0".padStart(config.suffixLength, "0") + cacheBust;
  const answer = await probe(chunkUrl);
  if (answer.error) throw await failedProbe(chunkUrl, origin, crossOrigin, answer.error);
  if (answer.status === 200) {
    const problem = ignoredRange(answer.encoding, chunkUrl, config);
    if (config.databaseLengthBytes > WHOLE_FILES_LIMIT) throw problem;
    return { config, wholeFiles: true, notes: [problem] };
  }
  if (answer.status !== 206) {
    throw new HostProblem("chunk-missing", "A database file is missing on the host",
      `${chunkUrl} answered HTTP ${answer.status}.`, FILES_FIX, "files");
  }
  if (answer.encoding) {
    throw compressed(answer.encoding, "Range offsets address the uncompressed file, so the engine would read " +
      "wrong bytes.");
  }
  if (!isHeaderOf(answer.bytes, config)) {
    throw new HostProblem("wrong-bytes", "This host returns other bytes than were asked for",
      `A request for bytes ${PROBE_FIRST}-${PROBE_LAST} of ${fileName(chunkUrl)} (status 206) did not return ` +
      `that part of the database (${answer.bytes.length} bytes that are not its SQLite header).`,
      "Serve the files under db/ unchanged: no compression or other transformation by the host or a proxy, " +
      "and all files from the same build.", "compression");
  }
  const notes = [];
  if (!answer.contentRange) {
    notes.push(crossOrigin
      ? new HostProblem("headers-hidden", `The host of ${origin} does not expose Content-Range to this page`,
        "The bytes checked out and queries run, but the response headers of a range (Content-Range, " +
        "Content-Length, Accept-Ranges) are hidden from another origin.",
        "Send Access-Control-Expose-Headers: Content-Range, Content-Length, Accept-Ranges.", "cors")
      : new HostProblem("no-content-range", "This host answers Range requests without a Content-Range header",
        "The bytes checked out and queries run, but caches and proxies cannot tell which part of the file such " +
        "an answer holds.", "Use a host (or configuration) that sends Content-Range with every 206 response.",
        "range"));
  }
  return { config, wholeFiles: false, notes };
}

/** Show `problems` (HostProblem[]) above the view, replacing earlier ones; kind "error" or "warning". */
export function showHostNotices(problems, kind) {
  for (const old of document.querySelectorAll(".host-check")) old.remove();
  if (!problems.length) return;
  const boxes = problems.map((problem) => {
    const link = new URL(HOSTING_PAGE);
    link.hash = problem.anchor;
    const box = message(kind, h("strong", {}, `${problem.title}. `), problem.detail, " ",
      h("strong", {}, "Fix: "), problem.fix, " ", h("a", { href: link.href }, "Hosting requirements"), ".");
    box.classList.add("host-check");
    box.dataset.problem = problem.code;
    return box;
  });
  const view = document.getElementById("view");
  if (view) view.before(...boxes);
  else document.querySelector("main").prepend(...boxes);
}
