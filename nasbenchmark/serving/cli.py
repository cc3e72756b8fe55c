"""``nasbenchmark serve``: Datasette over every generated benchmark DB, until Ctrl-C."""
from __future__ import annotations

import importlib.util

import click

from .. import database
from .server import DEFAULT_HOST, DEFAULT_PORT, ServeError, start, write_config


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port to listen on; 0 picks a free one.")
@click.option("--host", default=DEFAULT_HOST, show_default=True,
              help="Interface to listen on (loopback by default: the server is for this machine).")
@click.option("--dir", "directory", type=click.Path(file_okay=False),
              help="Directory holding the DBs (default: $NASBENCHMARK_DIR or ~/.nni/nasbenchmark).")
def serve(port, host, directory):
    """Browse and query the benchmark DBs with Datasette (read-only), with canned queries per benchmark."""
    if importlib.util.find_spec("datasette") is None:
        raise click.ClickException("serving needs Datasette: pip install 'nasbenchmark[serve]'")
    try:
        click.echo("Preparing Datasette (row counts are computed once per DB version)...", err=True)
        files = write_config(directory)
        server = start(files=files, host=host, port=port, log=None)
    except (ServeError, database.DatabaseNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    names = ", ".join(path.name for path in files.databases)
    click.echo(f"Datasette serving {names} at {server.url}  (Ctrl-C to stop)")
    try:
        code = server.wait()
    except KeyboardInterrupt:
        code = 0
    finally:
        server.stop()
    if code:
        raise click.ClickException(f"datasette stopped with exit code {code}")
