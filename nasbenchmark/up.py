"""``nasbenchmark up``: the main job on the embedded default data, end to end.

1. NAS-Bench-Graph, real: converted from the installed ``nas-bench-graph`` wheel (if missing).
2. NAS-Bench-201: a synthetic sample from the fixture writer (only if no nasbench201.db exists,
   so a real converted DB is never overwritten).
3. Prints real query results (top architectures on cora) and a labelled sample query.
4. Builds the static site and serves it (Range-capable server) next to Datasette on loopback,
   prints both URLs and waits for Ctrl-C (``--check`` fetches one page from each and exits).
"""
from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import click

from . import database, registry


def _header(text: str) -> None:
    click.secho(f"\n== {text}", bold=True)


def _outdated(key: str, path: Path) -> list[str]:
    return registry.catalog(key).missing_tables(path) if path.is_file() else []


def ensure_databases(rebuild: bool = False) -> dict[str, Path]:
    """Generate the embedded-default DBs that are missing or outdated; returns benchmark key -> path.

    The NB-Graph DB comes from the installed wheel and the NB201 sample from the fixture writer, so
    both are rebuilt when an older nasbenchmark wrote them; a real NB201 DB is never overwritten.
    """
    from generators.nasbench201.sample import build_sample_db
    from generators.nasbenchgraph import convert as convert_nbgraph

    paths = {cat.key: database.database_path(cat.db_filename) for cat in registry.catalogs()}
    outdated = {key: _outdated(key, path) for key, path in paths.items()}
    for key, tables in outdated.items():
        if tables:
            click.echo(f"{paths[key]} was written by an older nasbenchmark (no {', '.join(tables)})")
    if rebuild or not paths["nbgraph"].is_file() or outdated["nbgraph"]:
        _header("NAS-Bench-Graph: converting the real light/*.bench files of the installed nas-bench-graph wheel")
        click.echo(convert_nbgraph(None, paths["nbgraph"], progress=True))
    nb201 = paths["nb201"]
    synthetic = nb201.is_file() and database.read_metadata(nb201).get("synthetic") == "true"
    if not nb201.is_file() or (synthetic and (rebuild or outdated["nb201"])):
        _header("NAS-Bench-201: building a SYNTHETIC SAMPLE (fixture values, not real results)")
        click.echo(build_sample_db(nb201))
    elif outdated["nb201"]:
        click.secho(f"warning: canned queries that read {', '.join(outdated['nb201'])} will fail until you "
                    f"regenerate {nb201} from the release: {registry.catalog('nb201').generate_command}", err=True)
    return paths


def _canned_rows(key: str, query_name: str, **params: str) -> tuple[list[str], list[tuple]]:
    """Run one catalog canned query on its DB (read-only), with defaults overridden by ``params``."""
    cat = registry.catalog(key)
    canned = cat.query(query_name)
    path = database.database_path(cat.db_filename)
    with database.connect_readonly(path) as conn:
        cursor = conn.execute(canned.sql, {**canned.params, **params})
        return [d[0] for d in cursor.description], cursor.fetchall()


def _print_table(columns: list[str], rows: list[tuple]) -> None:
    def fmt(value):
        return f"{value:.4f}" if isinstance(value, float) else str(value)

    cells = [columns] + [[fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    for row in cells:
        click.echo("  ".join(value.ljust(width) for value, width in zip(row, widths)))


def print_examples(paths: dict[str, Path]) -> None:
    _header("Real data: top 5 NAS-Bench-Graph architectures on cora by test performance")
    _print_table(*_canned_rows("nbgraph", "top_architectures", dataset="cora", k="5"))
    from .nasbenchgraph import query_nbgraph_computed_stats

    click.echo("\nquery_nbgraph_computed_stats(([0, 1, 2, 1], ['gcn', 'gin', 'fc', 'cheb']), 'cora'):")
    for row in query_nbgraph_computed_stats(([0, 1, 2, 1], ["gcn", "gin", "fc", "cheb"]), "cora"):
        click.echo(f"  {row}")
    synthetic = database.read_metadata(paths["nb201"]).get("synthetic") == "true"
    label = "SYNTHETIC SAMPLE, not real results" if synthetic else "real data"
    _header(f"NAS-Bench-201 ({label}): query_nb201_computed_stats(0, 200, 'cifar100', reduction='mean')")
    from .nasbench201 import query_nb201_computed_stats

    for row in query_nb201_computed_stats(0, 200, "cifar100", reduction="mean"):
        click.echo(f"  arch {row['config']['arch_index']}: test_acc {row['test_acc']:.2f}%  "
                   f"params {row['parameters']:.3f} M  flops {row['flops']:.1f} MFLOPs"
                   + ("  [synthetic]" if synthetic else ""))


def _fetch(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()
        return response.status


@click.command()
@click.option("--site-dir", type=click.Path(file_okay=False), default="site", show_default=True,
              help="Where to build the static site.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--site-port", type=int, default=8000, show_default=True, help="0 picks a free port.")
@click.option("--datasette-port", type=int, default=8001, show_default=True, help="0 picks a free port.")
@click.option("--rebuild", is_flag=True, help="Regenerate the default DBs (never overwrites a real nasbench201.db).")
@click.option("--check", is_flag=True, help="Start both servers, fetch a page from each, stop and exit.")
def up(site_dir, host, site_port, datasette_port, rebuild, check):
    """Generate the default DBs, print query results, build the site, serve site + Datasette."""
    from site_builder import build
    from site_builder.server import serve
    from site_builder.vendor import VendorError

    from .serving import ServeError
    from .serving import start as start_datasette

    started = time.perf_counter()
    paths = ensure_databases(rebuild)
    print_examples(paths)
    _header(f"Building the static site into {site_dir}/")
    try:
        click.echo(build(Path(site_dir), log=lambda text: click.echo(text, err=True)).summary())
    except VendorError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        site = serve(site_dir, host, site_port)
    except OSError as exc:
        raise click.ClickException(f"cannot serve the site on {host}:{site_port} ({exc.strerror}); "
                                   "pick another port with --site-port (0 picks a free one)") from None
    try:
        datasette = start_datasette(host=host, port=datasette_port)
    except (ServeError, OSError) as exc:
        site.stop()
        raise click.ClickException(f"Datasette: {exc} (option --datasette-port)") from None
    try:
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
    except KeyboardInterrupt:
        pass
    finally:
        datasette.stop()
        site.stop()
