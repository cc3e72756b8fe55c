"""Run Datasette over the generated DBs: config files, the inspect cache, the server process.

Generated files live in ``<DB dir>/.datasette/``: ``metadata.yml`` (0.65), ``datasette.yaml`` (1.0),
and ``inspect.json`` merged from one ``datasette inspect`` result per DB. Those are keyed by the DB's
size and mtime, so row counts and hashes are computed once per DB version, not at every start.
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .. import database, registry
from .metadata import SETTINGS, build_config, build_metadata

CACHE_DIRNAME = ".datasette"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001


class ServeError(RuntimeError):
    """Datasette could not be prepared or started; the message says why."""


@dataclass(frozen=True)
class ServeFiles:
    """Everything ``datasette serve`` needs: the DBs and the generated files."""

    databases: tuple[Path, ...]
    metadata: Path
    config: Path
    inspect: Path


def available_databases(directory: Path | str | None = None) -> dict[str, Path]:
    """{catalog key: DB path} for every known benchmark whose DB exists in ``directory``."""
    directory = Path(directory).expanduser() if directory else database.database_dir()
    found = {cat.key: directory / cat.db_filename for cat in registry.catalogs()}
    return {key: path.resolve() for key, path in found.items() if path.is_file()}


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _yaml(data: dict) -> str:
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def _str(dumper, value):  # SQL reads better as a literal block than as one escaped line
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)

    _Dumper.add_representer(str, _str)
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


def _inspect(db_path: Path, cache_dir: Path) -> dict:
    """``datasette inspect`` of one DB (hash, size, row counts), cached by size and mtime."""
    stat = db_path.stat()
    stem = db_path.stem  # Datasette's name for the DB, the key of its inspect data
    cached = cache_dir / f"inspect-{stem}-{stat.st_size}-{stat.st_mtime_ns}.json"
    if not cached.is_file():
        for stale in cache_dir.glob(f"inspect-{stem}-*.json"):
            stale.unlink()
        fd, tmp = tempfile.mkstemp(prefix=f".{cached.name}.tmp-", dir=cache_dir)
        os.close(fd)
        result = subprocess.run([sys.executable, "-m", "datasette", "inspect", str(db_path), "--inspect-file", tmp],
                                capture_output=True, text=True)
        if result.returncode != 0:
            Path(tmp).unlink(missing_ok=True)
            last_line = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise ServeError(f"datasette inspect {db_path} failed: {last_line}")
        os.chmod(tmp, 0o644)
        os.replace(tmp, cached)
    return json.loads(cached.read_text())


def write_config(directory: Path | str | None = None, cache_dir: Path | str | None = None) -> ServeFiles:
    """Write metadata.yml, datasette.yaml and inspect.json for the DBs in ``directory``.

    ``directory`` defaults to ``$NASBENCHMARK_DIR``; ``cache_dir`` to ``<directory>/.datasette``.
    Raises ``DatabaseNotFoundError`` when no benchmark DB exists there.
    """
    directory = Path(directory).expanduser() if directory else database.database_dir()
    db_paths = available_databases(directory)
    if not db_paths:
        commands = "; ".join(cat.generate_command for cat in registry.catalogs())
        raise database.DatabaseNotFoundError(f"no benchmark database in {directory}; generate one first ({commands})")
    for key, path in db_paths.items():
        try:
            database.read_metadata(path)
        except sqlite3.DatabaseError as exc:
            raise ServeError(f"{path}: not a readable SQLite database ({exc}); regenerate it with: "
                             f"{registry.catalog(key).generate_command}") from None
    cache_dir = Path(cache_dir).expanduser() if cache_dir else directory / CACHE_DIRNAME
    cache_dir.mkdir(parents=True, exist_ok=True)
    catalogs = registry.catalogs()
    files = ServeFiles(databases=tuple(db_paths.values()), metadata=cache_dir / "metadata.yml",
                       config=cache_dir / "datasette.yaml", inspect=cache_dir / "inspect.json")
    _write_atomic(files.metadata, _yaml(build_metadata(catalogs, db_paths)))
    _write_atomic(files.config, _yaml(build_config(catalogs, db_paths)))
    inspect = {}
    for path in files.databases:
        inspect.update(_inspect(path, cache_dir))
    _write_atomic(files.inspect, json.dumps(inspect, indent=2))
    return files


def _setting_value(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def datasette_command(files: ServeFiles, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> list[str]:
    """The ``datasette serve`` argv (0.65): immutable DBs, generated metadata, cached inspect data."""
    argv = [sys.executable, "-m", "datasette", "serve"]
    for path in files.databases:
        argv += ["-i", str(path)]
    argv += ["--metadata", str(files.metadata), "--inspect-file", str(files.inspect),
             "--host", host, "--port", str(port)]
    for name, value in SETTINGS.items():
        argv += ["--setting", name, _setting_value(value)]
    return argv


def free_port(host: str = DEFAULT_HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _check_port_free(host: str, port: int) -> None:
    """Fail early: with another server on the port, the readiness probe would be answered by it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise ServeError(f"cannot listen on {host}:{port} ({exc.strerror}); "
                             "choose another port (0 picks a free one)") from None


class Server:
    """A running ``datasette`` process. ``stop()`` ends it; also a context manager."""

    def __init__(self, process: subprocess.Popen, url: str, files: ServeFiles, log: Path | None):
        self.process = process
        self.url = url
        self.files = files
        self.log = log

    def wait(self) -> int:
        return self.process.wait()

    def stop(self, timeout: float = 10) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "-/versions.json", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start(directory: Path | str | None = None, host: str = DEFAULT_HOST, port: int = 0,
          files: ServeFiles | None = None, log: Path | str | None = "default", timeout: float = 60) -> Server:
    """Start Datasette in the background and return once it answers HTTP.

    ``port`` 0 picks a free port. ``log``: a file for Datasette's output (default
    ``<cache dir>/datasette.log``) or None to share this process's stdout/stderr.
    """
    files = files or write_config(directory)
    port = port or free_port(host)
    _check_port_free(host, port)
    url = f"http://{host}:{port}/"
    log_path = files.metadata.parent / "datasette.log" if log == "default" else (Path(log) if log else None)
    output = open(log_path, "w") if log_path else None
    try:
        process = subprocess.Popen(datasette_command(files, host, port), stdout=output, stderr=subprocess.STDOUT
                                   if output else None, stdin=subprocess.DEVNULL)
    finally:
        if output:
            output.close()
    server = Server(process, url, files, log_path)
    deadline = time.monotonic() + timeout
    while not _answers(url):
        exited = process.poll() is not None
        if exited or time.monotonic() > deadline:
            state = f"exited with code {process.returncode}" if exited else f"did not answer within {timeout:g} s"
            server.stop()
            detail = ""
            if log_path and log_path.is_file():
                detail = ": " + " | ".join(log_path.read_text().strip().splitlines()[-3:])
            raise ServeError(f"datasette on {url} {state}{detail}")
        time.sleep(0.1)
    return server
