"""``nasbenchmark download`` and ``nasbenchmark adopt``: ``generators.download`` and ``generators.adopt`` as
commands, registered through the ``nasbenchmark.commands`` entry points."""
from __future__ import annotations

import click

from nasbenchmark import registry

from .common.errors import InputError


@click.command()
@click.argument("benchmark", type=click.Choice(list(registry.BENCHMARK_PACKAGES)))
@click.option("--source", "source_name", metavar="NAME",
              help="The release file to fetch, by name (default: the benchmark's first downloadable one).")
@click.option("--url", metavar="URL", help="Fetch the file from this URL instead of its official location.")
@click.option("--mirror", metavar="BASE_URL", help="Fetch BASE_URL/<file name> instead of the official location.")
@click.option("--file", "file", type=click.Path(), help="Start from this file (or folder) already on disk; it is "
              "verified and converted, never deleted.")
@click.option("--from-nni", is_flag=True, help="NNI's prebuilt DB instead of the release: adopt NNI's copy if NNI "
              "downloaded it already, else download it (see nasbenchmark adopt).")
@click.option("--force", is_flag=True, help="Convert a known file whose checksum differs (marked in the DB's "
              "metadata) instead of refusing it.")
@click.option("--keep", is_flag=True, help="Keep the downloaded file in $NASBENCHMARK_DIR/downloads (default: "
              "delete it once converted).")
@click.option("--output", type=click.Path(dir_okay=False), help="Output DB (default: $NASBENCHMARK_DIR/<its DB file>).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Seconds without data before a connection counts as stalled.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def download(benchmark, source_name, url, mirror, file, from_nni, force, keep, output, timeout, quiet):
    """Download a benchmark's original release, verify it, and convert it to the DB the API reads.

    An interrupted download resumes where it stopped when run again. Where the official host is gone
    (NAS-Bench-201 on Google Drive) the command says so and names what still works.
    """
    from .download import download as run

    if url and mirror:
        raise InputError("--url and --mirror: pass one of them")
    if file and (url or mirror or from_nni or source_name):
        raise InputError("--file starts from a file on disk: it does not combine with --source, --url, --mirror or "
                         "--from-nni")
    click.echo(run(benchmark, source=source_name, url=url, mirror=mirror, file=file, from_nni=from_nni, force=force,
                   keep=keep, output=output, timeout=timeout, progress=not quiet))


@click.command()
@click.argument("path", type=click.Path())
@click.option("--output", type=click.Path(dir_okay=False), help="Output DB (default: $NASBENCHMARK_DIR/<its DB file>).")
@click.option("--force", is_flag=True, help="Adopt a known NNI file whose sha256 differs from the hash in its name "
              "(marked in the DB's metadata) instead of refusing it.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def adopt(path, output, force, quiet):
    """Turn NNI's prebuilt DB (nasbench101-*.db, nasbench201-*.db, nds-*.db) into ours, without re-converting.

    NNI's file is only read; the new DB gets our tables, indexes and metadata, with what NNI's converter got
    wrong fixed (NAS-Bench-101 training time x60) or marked (NAS-Bench-201 cifar10 valid_* set to NULL).
    """
    from nasbenchmark import database

    from .adopt import adopt as run

    summary = run(path, output, force=force, progress=not quiet)
    target = output or database.database_path(registry.benchmark(summary.benchmark).db_filename)
    click.echo(f"wrote {target}: {summary}")
