"""Build the static site: browser DBs, vendored engine and charts, pages rendered from ``templates/``.

Layout of the output folder::

    index.html  hosting.html  <key>/index.html     pages (templates/*.html)
    api/...                                        Python API docs (site_builder.apidocs)
    downloads/<wheel>                              the helper wheel (site_builder.wheel)
    static/site.css  static/js/...  static/vendor/ styles, the app, sql.js-httpvfs, d3, Plot
    db/<key>-<hash>.json  db/<key>-<hash>.sqlite3.NNN   browser DBs (see browserdb.py)
    .nojekyll  _headers                             host settings (site_builder.hosting)
"""
from __future__ import annotations

import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import jinja2

import nasbenchmark
from nasbenchmark import database, registry
from nasbenchmark.descriptor import Benchmark, BrowseSpec
from nasbenchmark.provenance import read_provenance

from . import apidocs, hosting, vendor
from .browserdb import BrowserDb, write_browser_db
from .views import browse_specs, column_docs, documented_tables, page_spec, queries_spec
from .wheel import build_wheel

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
MARKER = ".nasbenchmark-site"
#: Output entries kept between builds: browser DBs are reused when their inputs did not change.
KEPT_BETWEEN_BUILDS = {"db", MARKER}


@dataclass
class BenchmarkReport:
    """What the build found and wrote for one benchmark (also the home page's facts)."""

    key: str
    title: str
    description: str
    source: str
    source_url: str
    license: str
    license_url: str
    generate_command: str
    available: bool
    source_path: str
    synthetic: bool = False
    data_label: str = ""
    created: str | None = None
    num_archs: int = 0
    arch_table: str | None = None
    row_counts: dict[str, int] = field(default_factory=dict)
    source_size: int = 0
    db: BrowserDb | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())

    @property
    def chunks(self) -> int:
        return len(self.db.chunk_names) if self.db else 0

    @property
    def content_hash(self) -> str:
        return self.db.content_hash if self.db else ""

    @property
    def db_size_human(self) -> str:
        return human_bytes(self.db.size_bytes) if self.db else ""

    @property
    def source_size_human(self) -> str:
        return human_bytes(self.source_size)


@dataclass
class BuildReport:
    out_dir: Path
    benchmarks: list[BenchmarkReport]
    pages: list[str]
    wheel: dict
    seconds: float

    def summary(self) -> str:
        lines = [f"built {self.out_dir} in {self.seconds:.1f} s: {len(self.pages)} pages"]
        for item in self.benchmarks:
            if not item.available:
                lines.append(f"  {item.key}: skipped, no DB at {item.source_path} (generate: {item.generate_command})")
                continue
            reused = ", reused" if item.db.reused else ""
            chunks = f"{item.chunks} chunk" + ("s" if item.chunks != 1 else "")
            lines.append(f"  {item.key}: {item.data_label}, {item.num_archs:,} archs, {item.total_rows:,} rows, "
                         f"{item.db_size_human} in {chunks} ({item.seconds:.1f} s{reused})")
        return "\n".join(lines)


def human_bytes(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def _prepare_out_dir(out_dir: Path) -> None:
    """Empty ``out_dir`` except the reusable DBs; refuse a non-empty folder the builder did not make."""
    if out_dir.exists():
        if not out_dir.is_dir():
            raise ValueError(f"--out {out_dir} is a file; pass a folder for the site")
        entries = list(out_dir.iterdir())
        if entries and not (out_dir / MARKER).exists():
            raise ValueError(f"--out {out_dir} is not empty and was not made by the site builder "
                             f"(no {MARKER} file); pass an empty or new folder")
        for entry in entries:
            if entry.name in KEPT_BETWEEN_BUILDS:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MARKER).write_text("Built by `python -m site_builder`; the next build replaces this folder.\n")


def _build_benchmark(bench: Benchmark, db_dir: Path, out_dir: Path, log
                     ) -> tuple[BenchmarkReport, tuple[BrowseSpec, ...]]:
    source = db_dir / bench.db_filename
    item = BenchmarkReport(
        key=bench.key, title=bench.title, description=bench.description, source=bench.source,
        source_url=bench.source_url, license=bench.license, license_url=bench.license_url,
        generate_command=bench.generate_command, available=source.is_file(), source_path=str(source))
    if not item.available:
        return item, ()
    started = time.monotonic()
    log(f"{bench.key}: writing the browser DB from {source} ...")
    with database.connect_readonly(source) as conn:
        existing = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
        missing = [t.name for t in bench.tables if t.name not in existing]
        browse = browse_specs(bench, conn)
    if missing:
        log(f"warning: {source} was written by an older nasbenchmark (no {', '.join(missing)}); canned queries "
            f"that read them will fail on the site until you regenerate it: {bench.generate_command}")
    provenance = read_provenance(source)
    db = write_browser_db(source, out_dir / "db", bench.key, bench.site_statements())
    item.row_counts = {t.name: db.row_counts[t.name] for t in documented_tables(bench) if t.name in db.row_counts}
    item.arch_table = bench.site.arch.table if bench.site.arch else bench.arch_table.name
    item.num_archs = provenance.evaluated_archs or item.row_counts.get(item.arch_table, 0)
    item.synthetic = provenance.synthetic
    item.data_label = provenance.label
    item.created = provenance.get("created")
    item.source_size = source.stat().st_size
    item.db = db
    item.seconds = time.monotonic() - started
    item.metadata = dict(provenance.values)
    return item, browse


def _page_data(bench: Benchmark, item: BenchmarkReport, browse: tuple[BrowseSpec, ...]) -> dict:
    return {
        "key": bench.key,
        "title": bench.title,
        "db_filename": bench.db_filename,
        "db": {
            "config_url": f"../db/{item.db.config_name}",
            "hash": item.db.content_hash,
            "size_bytes": item.db.size_bytes,
            "synthetic": item.synthetic,
            "data_label": item.data_label,
            "partial": item.metadata.get("partial"),
            "absent": provenance_absent(item),
            "evaluated_archs": int(item.metadata["evaluated_archs"]) if item.metadata.get("evaluated_archs") else None,
            "worker_url": "../static/vendor/sql.js-httpvfs/sqlite.worker.js",
            "wasm_url": "../static/vendor/sql.js-httpvfs/sql-wasm.wasm",
        },
        "catalog": {"queries": queries_spec(bench, provenance_absent(item))},
        "columns": column_docs(bench),
        "site": page_spec(bench, browse, provenance_absent(item)),
    }


def provenance_absent(item: BenchmarkReport) -> dict:
    """What the DB's metadata says its (partial) source lacks."""
    from nasbenchmark.provenance import Provenance

    return Provenance(item.metadata).absent


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
                              autoescape=jinja2.select_autoescape(["html"]), keep_trailing_newline=True)


def _render(env: jinja2.Environment, template: str, target: Path, context: dict) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(env.get_template(template).render(**context))


def build(out_dir: Path | str = "site", db_dir: Path | str | None = None,
          log: Callable[[str], None] | None = None) -> BuildReport:
    """Build the site into ``out_dir`` from the DBs in ``db_dir`` (default: ``$NASBENCHMARK_DIR``).

    Benchmarks whose DB is missing are listed on the home page as not built. Raises ``ValueError``
    when ``out_dir`` is a non-empty folder the builder did not create.
    """
    log = log or (lambda text: print(text, file=sys.stderr))
    started = time.monotonic()
    out_dir = Path(out_dir).resolve()
    db_dir = Path(db_dir).expanduser().resolve() if db_dir else database.database_dir()
    _prepare_out_dir(out_dir)

    vendor.ensure_node_modules(log)
    shutil.copytree(TEMPLATES_DIR / "static", out_dir / "static")
    vendor.copy_vendored(out_dir / "static")

    benchmarks = registry.benchmarks()
    built = [_build_benchmark(bench, db_dir, out_dir, log) for bench in benchmarks]
    reports = [item for item, _ in built]
    # Remove browser DBs of benchmarks that are no longer built.
    keep = {name for item in reports if item.db for name in (item.db.config_name, *item.db.chunk_names)}
    for path in (out_dir / "db").glob("*") if (out_dir / "db").exists() else []:
        if path.name not in keep:
            path.unlink()

    log("building the helper wheel ...")
    wheel = build_wheel(out_dir)

    env = _environment()
    available = {item.key for item in reports if item.available}
    base = {"benchmarks_all": benchmarks, "available_keys": available, "wheel": wheel,
            "version": nasbenchmark.__version__, "synthetic": False, "active": ""}
    pages = []
    _render(env, "index.html", out_dir / "index.html", {**base, "root": "", "active": "home", "benchmarks": reports})
    _render(env, "hosting.html", out_dir / "hosting.html", {**base, "root": "", "active": "hosting"})
    pages += ["index.html", "hosting.html"]
    for bench, (item, browse) in zip(benchmarks, built):
        if not item.available:
            continue
        tables = [{**asdict(t), "rows": item.row_counts.get(t.name)} for t in documented_tables(bench)]
        _render(env, "benchmark.html", out_dir / bench.key / "index.html", {
            **base, "root": "../", "active": bench.key, "synthetic": item.synthetic, "bench": bench, "item": item,
            "site": page_spec(bench, browse, provenance_absent(item)), "tables": tables, "metadata": item.metadata,
            "browse_tables": {spec.table for spec in browse}, "page_data": _page_data(bench, item, browse),
        })
        pages.append(f"{bench.key}/index.html")

    apidocs.render(env, out_dir, dict(base))
    pages += sorted(str(p.relative_to(out_dir)) for p in (out_dir / "api").rglob("*.html"))
    hosting.write_host_files(out_dir)  # last: _headers lists the folder's final contents

    return BuildReport(out_dir, reports, pages, wheel, time.monotonic() - started)
