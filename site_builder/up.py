"""``nasbenchmark up``: the main job on the embedded default data, end to end.

1. Checks that both ports are free, before any work.
2. For every registered benchmark without a DB, builds its embedded default (its descriptor names the
   builder: real data from an installed wheel, or a labelled synthetic sample). A DB the user converted
   is never replaced; an outdated embedded one (written by an older nasbenchmark) is rebuilt.
3. Prints each benchmark's example queries, labelled real / partial / SYNTHETIC SAMPLE.
4. Builds the static site (in ``$NASBENCHMARK_DIR/site`` unless ``--site-dir``) and serves it next to
   Datasette on loopback, prints both URLs and waits for Ctrl-C or SIGTERM (``--check`` fetches one
   page from each and exits). Either way both servers stop.
"""
from __future__ import annotations

import socket
import sqlite3
import time
import urllib.request
from pathlib import Path

import click

from nasbenchmark import database, registry
from nasbenchmark.descriptor import Benchmark, stop_message
from nasbenchmark.provenance import read_provenance


def _header(text: str) -> None:
    click.secho(f"\n== {text}", bold=True)


def _missing_tables(bench: Benchmark, path: Path) -> list[str]:
    with database.connect_readonly(path) as conn:
        existing = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
    return [table.name for table in bench.tables if table.name not in existing]


def _rebuildable(path: Path) -> bool:
    """A DB ``up`` made itself: a synthetic sample or a conversion of an installed package's files."""
    provenance = read_provenance(path)
    return provenance.synthetic or bool(provenance.get("source_package"))


def _build(bench: Benchmark, path: Path, sample: bool) -> None:
    builder = bench.sample if sample and bench.sample else bench.embedded
    _header(f"{bench.title}: building {builder.what}")
    click.echo(f"wrote {path}: {_summary_text(builder.build(path))}")


def _summary_text(summary) -> str:
    if isinstance(summary, dict):
        return ", ".join(f"{key} {value:,}" if isinstance(value, int) else f"{key} {value}"
                         for key, value in summary.items() if not isinstance(value, dict))
    return str(summary)


def ensure_databases(rebuild: bool = False, sample: bool = False) -> dict[str, Path]:
    """Build the embedded defaults (``sample``: the synthetic samples where a benchmark has one) that are
    missing or outdated; returns benchmark key -> DB path."""
    paths = {}
    for bench in registry.benchmarks():
        path = paths[bench.key] = database.database_path(bench.db_filename)
        if bench.embedded is None:
            continue
        if not path.is_file():
            _build(bench, path, sample)
            continue
        missing = _missing_tables(bench, path)
        if _rebuildable(path) and (rebuild or missing):
            if missing:
                click.echo(f"{path} was written by an older nasbenchmark (no {', '.join(missing)})")
            _build(bench, path, sample)
        elif missing:
            click.secho(f"warning: {path} lacks {', '.join(missing)} (written by an older nasbenchmark); canned "
                        f"queries that read them fail until you regenerate it: {bench.generate_command}", err=True)
    return paths


def _print_table(columns: list[str], rows: list[tuple]) -> None:
    def fmt(value):
        return f"{value:.4f}" if isinstance(value, float) else str(value)

    cells = [columns] + [[fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    for row in cells:
        click.echo("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())


def print_examples(paths: dict[str, Path]) -> None:
    for bench in registry.benchmarks():
        path = paths.get(bench.key)
        if not path or not path.is_file():
            continue
        provenance = read_provenance(path)
        label = provenance.label
        for example in bench.examples:
            query = bench.query(example.query)
            _header(f"{bench.title} ({label}): {example.title} (canned query {example.query})")
            with database.connect_readonly(path) as conn:
                try:
                    cursor = conn.execute(query.sql, {**query.defaults_for(provenance.absent), **example.params})
                except sqlite3.DatabaseError as exc:  # an outdated DB: say so and go on
                    click.secho(f"  skipped: {stop_message(str(exc))}", err=True)
                    continue
                _print_table([d[0] for d in cursor.description], cursor.fetchall())


def _fetch(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()
        return response.status


def _check_port(host: str, port: int, option: str) -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port} ({exc.strerror}); pick another port with "
                                       f"{option} (0 picks a free one) or stop what uses it") from None


@click.command()
@click.option("--site-dir", type=click.Path(file_okay=False),
              help="Where to build the static site (default: $NASBENCHMARK_DIR/site).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--site-port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="0 picks a free port.")
@click.option("--datasette-port", type=click.IntRange(0, 65535), default=8001, show_default=True,
              help="0 picks a free port.")
@click.option("--rebuild", is_flag=True, help="Rebuild the embedded default DBs (never a DB you converted).")
@click.option("--sample", is_flag=True, help="Build labelled synthetic samples instead of the real embedded data "
                                             "(for the views the real partial data cannot fill, e.g. learning curves).")
@click.option("--check", is_flag=True, help="Start both servers, fetch a page from each, stop and exit.")
def up(site_dir, host, site_port, datasette_port, rebuild, sample, check):
    """Generate the default DBs, print query results, build the site, serve site + Datasette."""
    from nasbenchmark.serving import ServeError
    from nasbenchmark.serving import start as start_datasette

    from .build import build
    from .server import serve
    from .vendor import VendorError

    started = time.perf_counter()
    _check_port(host, site_port, "--site-port")
    _check_port(host, datasette_port, "--datasette-port")
    paths = ensure_databases(rebuild, sample)
    print_examples(paths)
    site_dir = Path(site_dir) if site_dir else database.database_dir() / "site"
    _header(f"Building the static site into {site_dir.resolve()}")
    try:
        click.echo(build(site_dir, log=lambda text: click.echo(text, err=True)).summary())
    except VendorError as exc:
        raise click.ClickException(str(exc)) from None
    site = datasette = None
    try:
        site = serve(site_dir, host, site_port)
        datasette = start_datasette(host=host, port=datasette_port)
        _header(f"Ready in {time.perf_counter() - started:.0f} s")
        click.echo(f"Static site (in-browser SQLite): {site.url}")
        click.echo(f"Datasette:                       {datasette.url}")
        if check:
            for url in (site.url, datasette.url):
                click.echo(f"GET {url} -> {_fetch(url)}")
            return
        click.echo("Ctrl-C stops both servers.")
        while True:
            time.sleep(3600)
    except ServeError as exc:
        raise click.ClickException(f"Datasette: {exc} (option --datasette-port)") from None
    except OSError as exc:
        raise click.ClickException(f"cannot serve the site on {host}:{site_port} ({exc.strerror}); pick another "
                                   "port with --site-port (0 picks a free one)") from None
    finally:
        if datasette:
            datasette.stop()
        if site:
            site.stop()
