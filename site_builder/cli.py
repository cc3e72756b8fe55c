"""``build_site``: the click command the ``nasbenchmark`` CLI registers as ``build-site``."""
from __future__ import annotations

import click


@click.command("build-site")
@click.option("--out", "out_dir", default="site", show_default=True, type=click.Path(file_okay=False),
              help="Folder to write the site into (replaced on each build).")
@click.option("--dir", "db_dir", type=click.Path(file_okay=False),
              help="Folder with the benchmark DBs (default: $NASBENCHMARK_DIR or ~/.nni/nasbenchmark).")
def build_site(out_dir, db_dir):
    """Build the static website with in-browser SQLite databases into --out."""
    from .build import build
    from .vendor import VendorError

    try:
        report = build(out_dir, db_dir, log=lambda text: click.echo(text, err=True))
    except (ValueError, VendorError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(report.summary())
    click.echo(f"preview: python -m site_builder.server {out_dir}")
