"""Every canned query gives the same answer on SQLite 3.35 (the site's sql.js) as on Python's SQLite.

Runs sql.js 1.5.0 (SQLite 3.35.0, the version inside sql.js-httpvfs 0.8.12) under Node on the
served DBs. Needs ``node`` and the npm package ``sql.js@1.5.0`` in ``site_builder/node_modules``
(a devDependency of the site) or at ``$SQLJS_DIR``.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from nasbenchmark import registry
from served_dbs import require_db

SQLJS_DIR = Path(os.environ.get("SQLJS_DIR")
                 or Path(__file__).resolve().parents[1] / "site_builder" / "node_modules" / "sql.js")

# Reads {db, queries: [{sql, params}]} from the file in argv[2]; prints [sqlite_version, [{rows}|{error}]].
_RUNNER = r"""
const fs = require('fs');
const [sqljsDir, jobFile] = process.argv.slice(1);
const job = JSON.parse(fs.readFileSync(jobFile, 'utf8'));
require(sqljsDir + '/dist/sql-wasm.js')({wasmBinary: fs.readFileSync(sqljsDir + '/dist/sql-wasm.wasm')}).then(SQL => {
  const db = new SQL.Database(fs.readFileSync(job.db));
  const results = job.queries.map(q => {
    const bound = Object.fromEntries(Object.entries(q.params).map(([k, v]) => [':' + k, v]));
    let stmt = null;
    try {
      stmt = db.prepare(q.sql);
      stmt.bind(bound);
      const rows = [];
      while (stmt.step()) rows.push(stmt.get());
      return {rows};
    } catch (e) {
      return {error: e.message};
    } finally {
      if (stmt) stmt.free();
    }
  });
  console.log(JSON.stringify([db.exec('select sqlite_version()')[0].values[0][0], results]));
});
"""


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


@pytest.mark.parametrize("key", list(registry.BENCHMARK_PACKAGES))
def test_canned_queries_agree_on_sqlite_3_35(served_dir, key, tmp_path):
    cat = require_db(served_dir, key)
    if not shutil.which("node") or not (SQLJS_DIR / "dist" / "sql-wasm.wasm").is_file():
        pytest.skip(f"needs node and sql.js@1.5.0 at {SQLJS_DIR} (a devDependency in site_builder/package.json)")
    db = served_dir / cat.db_filename
    cases = [(q, dict(q.defaults)) for q in cat.queries] + [(q, {name: "" for name in q.defaults}) for q in cat.queries]
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"db": str(db), "queries": [{"sql": q.sql, "params": p} for q, p in cases]}))
    run = subprocess.run(["node", "-e", _RUNNER, str(SQLJS_DIR), str(job)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    version, results = json.loads(run.stdout)
    assert version.startswith("3.35."), f"{SQLJS_DIR} has SQLite {version}; the site's sql.js-httpvfs has 3.35.0"
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    for (query, params), result in zip(cases, results):
        try:
            expected = [list(row) for row in conn.execute(query.sql, params)]
        except sqlite3.Error as exc:
            expected = f"error: {exc}"
        got = result["rows"] if "rows" in result else f"error: {result['error']}"
        assert isinstance(got, list), f"{query.name} {params} fails on SQLite {version}: {got}"
        assert len(got) == len(expected) and all(
            len(g) == len(e) and all(_same(x, y) for x, y in zip(g, e)) for g, e in zip(got, expected)
        ), f"{query.name} {params}: SQLite {version} and {sqlite3.sqlite_version} disagree"
