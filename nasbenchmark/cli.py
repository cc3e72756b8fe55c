"""The ``nasbenchmark`` command: a thin click layer, each command mirroring one API call.

The helper itself provides ``info``, ``query <benchmark>`` (from each benchmark's ``cli.query``) and
``serve``. Commands that need the source checkout (``generate``, ``download``, ``adopt``, ``build-site``,
``up``) come from the ``nasbenchmark.commands`` entry points the repository's pyproject declares; the
helper's own wheel has none of them, so it lists only what works there and names what to install for
the rest.

SIGTERM and SIGHUP end the command like Ctrl-C: ``finally`` blocks stop servers and remove temp files.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import json
import signal
import sqlite3
import sys

try:
    import click
    import peewee
except ImportError:  # pragma: no cover - the helper itself only needs peewee
    sys.exit("the nasbenchmark command needs click: pip install 'nasbenchmark[cli]'")

from . import database, registry
from .errors import InputError
from .provenance import read_provenance

ENTRY_POINT_GROUP = "nasbenchmark.commands"
#: Commands of the source checkout, and what a helper-only install lacks for them.
SOURCE_COMMANDS = {
    "generate": "the converters (generators/)",
    "build-site": "the site builder (site_builder/, templates/)",
    "up": "the converters and the site builder",
    "download": "the downloader and the converters (generators/)",
    "adopt": "the converters (generators/)",
}
_SOURCE_HINT = ("they ship with the source repository, not with the helper wheel: in a clone, "
                "pip install -e '.[all]'")


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class _UsageError(click.ClickException):
    """A wrong option or argument, shown as one line (click prints usage and a hint too), exit code 2."""

    exit_code = 2


class _Group(click.Group):
    """Known failures (bad input, missing DB, wrong value) print one line and exit 1 (a wrong option: 2);
    a signal exits 130."""

    def main(self, *args, **kwargs):
        # Restored on return: a caller that runs the CLI in-process (tests, notebooks) keeps its own handlers,
        # and processes it forks later do not inherit ours.
        previous = {sig: signal.signal(sig, _raise_keyboard_interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
        try:
            return super().main(*args, **kwargs)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx else "nasbenchmark"
            raise _UsageError(f"{exc.format_message()} (see {command} --help)") from None
        except (InputError, ValueError, database.DatabaseNotFoundError, sqlite3.DatabaseError, peewee.DatabaseError,
                OSError) as exc:
            if isinstance(exc, OSError) and not isinstance(exc, (FileNotFoundError, PermissionError)):
                raise
            raise click.ClickException(_one_line(exc)) from None
        except KeyboardInterrupt as exc:
            text = str(exc)  # a signal's name, or what the interrupted step says (e.g. "...: it is kept")
            if not text or text.startswith("SIG"):
                text = f"Stopped by {text or 'Ctrl-C'}; files being written were removed, earlier ones are unchanged"
            click.echo(text + ".", err=True)
            ctx.exit(130)


@click.group(cls=_Group)
@click.version_option(package_name="nasbenchmark")
def main():
    """NAS benchmarks as SQLite: generate, query, serve and publish them."""


@main.group()
def query():
    """Query a generated benchmark DB; prints one JSON object per line."""


def _register_queries() -> None:
    for key, package in registry.BENCHMARK_PACKAGES.items():
        query.add_command(importlib.import_module(package + ".cli").query, key)


def _missing_command(name: str, what: str, reason: str) -> click.Command:
    @click.command(name, context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
                   help=f"Not available here: needs {what}. {reason}", add_help_option=False)
    def unavailable():
        raise click.ClickException(f"'nasbenchmark {name}' needs {what}; {reason}")

    return unavailable


def _register_source_commands() -> None:
    """Commands from the entry points; one that cannot load says why in one line instead."""
    found = {entry.name: entry for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    for name, what in SOURCE_COMMANDS.items():
        if name not in found:
            main.add_command(_missing_command(name, what, _SOURCE_HINT))
            continue
        try:
            main.add_command(found[name].load(), name)
        except ImportError as exc:
            main.add_command(_missing_command(name, what, f"it could not be loaded ({_one_line(exc)}): "
                                                          "pip install -e '.[all]'"))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per DB instead of text.")
def info(as_json):
    """Which DBs exist in NASBENCHMARK_DIR, their size, row counts, and whether they are real or synthetic."""
    for bench in registry.benchmarks():
        path = database.database_path(bench.db_filename)
        entry = {"benchmark": bench.key, "path": str(path), "exists": path.is_file()}
        if path.is_file():
            provenance = read_provenance(path)
            with database.connect_readonly(path) as conn:
                existing = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
                missing = [t.name for t in bench.tables if t.name not in existing]
                counts = {t.name: conn.execute(f'select count(*) from "{t.name}"').fetchone()[0]
                          for t in bench.tables if t.name in existing}
            entry.update(size_bytes=path.stat().st_size, data=provenance.label, synthetic=provenance.synthetic,
                         partial=provenance.partial, rows=counts, created=provenance.get("created"),
                         missing_tables=missing)
        if as_json:
            click.echo(json.dumps(entry))
        elif not entry["exists"]:
            click.echo(f"{bench.key:8} missing  {_home_relative(path)}  (generate: {bench.generate_command})")
        else:
            rows = ", ".join(f"{k}={v:,}" for k, v in entry["rows"].items())
            click.echo(f"{bench.key:8} {entry['size_bytes'] / 1e6:.1f} MB  {_home_relative(path)}\n"
                       f"         {entry['data']}\n         {rows}")
            if entry["missing_tables"]:
                click.echo(f"         OUTDATED: no {', '.join(entry['missing_tables'])} "
                           f"(written by an older nasbenchmark); regenerate: {bench.generate_command}")


def _home_relative(path) -> str:
    """``~/.nni/nasbenchmark/...`` rather than the home folder spelled out."""
    from pathlib import Path

    home = Path.home()
    return f"~/{path.relative_to(home)}" if path.is_relative_to(home) else str(path)


def _register_serve() -> None:
    from .serving.cli import serve

    main.add_command(serve)


_register_queries()
_register_serve()
_register_source_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
