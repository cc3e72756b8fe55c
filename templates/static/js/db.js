// The in-browser database, behind a three-call adapter so the engine can be swapped:
//   const db = await openDb(configUrl);  const result = await db.query(sql, params);  db.bytesFetched()
// Engine: sql.js-httpvfs 0.8.12 (SQLite 3.35 compiled to WebAssembly, in a Web Worker). It reads the
// database with HTTP Range requests, one 4 KiB page at a time (sequential reads grow the requests),
// and counts every byte it fetches. Each query gets a byte budget: a query that would read more
// (a scan of a big table) stops with a QueryError instead of downloading the whole file.
// Before opening, hostcheck.js checks how the host answers Range requests: a host the engine cannot
// read from gets a message naming the problem and the fix instead of an SQLite or XMLHttpRequest
// error, and one that ignores Range gets a small database in whole chunk files.

import { HostProblem, checkHost, showHostNotices } from "./hostcheck.js";

const HARD_CAP = 2 ** 40; // the engine's own limit; per-query budgets are enforced below it
export const DEFAULT_BUDGET = 32 * 1024 * 1024;
export const MAX_ROWS = 5000;

export class QueryError extends Error {
  constructor(message, details = {}) {
    super(message);
    this.name = "QueryError";
    Object.assign(this, details);
  }
}

class Database {
  /** minimumBudget: when whole chunk files are fetched, a query may read the whole database. */
  constructor(worker, sizeBytes, minimumBudget = 0) {
    this.worker = worker;
    this.sizeBytes = sizeBytes;
    this.minimumBudget = minimumBudget;
    this.fetched = 0;
    this.requests = 0;
    this.queue = Promise.resolve();
  }

  /** Total bytes the engine fetched since the database was opened. */
  bytesFetched() {
    return this.fetched;
  }

  /**
   * Run one SQL statement with named parameters ({dataset: "cifar10"} binds :dataset).
   * Resolves to {columns, rows (arrays), truncated, bytes, requests, ms}; rejects with QueryError.
   */
  query(sql, params = {}, { budget = DEFAULT_BUDGET, maxRows = MAX_ROWS } = {}) {
    maxRows = maxRows ?? MAX_ROWS;
    const run = () => this.#run(sql, params, Math.max(budget, this.minimumBudget), maxRows);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => {});
    return result;
  }

  async #run(sql, params, budget, maxRows) {
    const bind = {};
    for (const [name, value] of Object.entries(params || {})) bind[`:${name}`] = value;
    // The engine stops a read once its counter passes HARD_CAP; starting the counter at
    // HARD_CAP - budget makes that limit this query's budget.
    this.worker.worker.bytesRead = HARD_CAP - budget;
    const outcome = await this.worker.worker.evalCode(`
      const file = db.lazyFiles.get(db.filename).contents;
      const bytesBefore = file.totalFetchedBytes, requestsBefore = file.totalRequests;
      const started = performance.now();
      const sql = ${JSON.stringify(sql)};
      const params = ${JSON.stringify(bind)};
      let statement = null;
      const counters = () => ({ bytes: file.totalFetchedBytes - bytesBefore,
        requests: file.totalRequests - requestsBefore, ms: performance.now() - started });
      try {
        statement = db.prepare(sql);
        if (Object.keys(params).length) statement.bind(params);
        const columns = statement.getColumnNames();
        const rows = [];
        let truncated = false;
        while (statement.step()) {
          if (rows.length >= ${Number(maxRows)}) { truncated = true; break; }
          rows.push(statement.get());
        }
        return { ok: true, columns, rows, truncated, ...counters() };
      } catch (error) {
        return { ok: false, error: String((error && error.message) || error), ...counters() };
      } finally {
        if (statement) statement.free();
      }`);
    this.fetched += outcome.bytes;
    this.requests += outcome.requests;
    if (outcome.ok) return outcome;
    if (/disk I\/O error/i.test(outcome.error)) {
      throw new QueryError(
        `Stopped: this query needs to read more than ${formatSize(budget)} of the ` +
          `${formatSize(this.sizeBytes)} database (it probably scans a large table). Filter on an ` +
          `indexed column or add a LIMIT, or run it again with a larger budget.`,
        { budgetExceeded: true, budget, bytes: outcome.bytes, requests: outcome.requests });
    }
    throw new QueryError(outcome.error, { bytes: outcome.bytes, requests: outcome.requests });
  }
}

function formatSize(bytes) {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(0)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`;
}

/** The engine config for this host: {config, wholeFiles}; a host problem is shown and thrown as QueryError. */
async function checkedConfig(configUrl) {
  try {
    const { config, wholeFiles, notes } = await checkHost(configUrl);
    showHostNotices(notes, "warning");
    // Whole chunk files per request: a host that ignores Range then sends exactly what was asked for.
    return { config: wholeFiles ? { ...config, requestChunkSize: config.serverChunkSize } : config, wholeFiles };
  } catch (error) {
    if (!(error instanceof HostProblem)) throw error;
    showHostNotices([error], "error");
    throw new QueryError(`${error.title}: the database cannot be read from this host (see the message above).`,
      { hostProblem: error.code });
  }
}

/**
 * Open the split database described by the sql.js-httpvfs config at configUrl.
 * workerUrl/wasmUrl: the vendored engine files. Needs the engine's index.js loaded as a script.
 */
export async function openDb(configUrl, { workerUrl, wasmUrl, sizeBytes = 0 }) {
  if (typeof window.createDbWorker !== "function") {
    throw new QueryError("The database engine script did not load (static/vendor/sql.js-httpvfs/index.js).");
  }
  const { config, wholeFiles } = await checkedConfig(new URL(configUrl, location.href).toString());
  const worker = await window.createDbWorker([{ from: "inline", config }],
    new URL(workerUrl, location.href).toString(), new URL(wasmUrl, location.href).toString(), HARD_CAP);
  const database = new Database(worker, sizeBytes, wholeFiles ? config.databaseLengthBytes + config.serverChunkSize : 0);
  const opened = await worker.worker.getStats();
  database.fetched = opened.totalFetchedBytes; // the header page read while opening
  database.requests = opened.totalRequests;
  // The files are a read-only snapshot: refuse writes instead of failing inside the engine.
  await database.query("pragma query_only = 1");
  return database;
}
