"""Write a SQLite database atomically: build it in a temp file beside the target, rename at the end.

An interrupted or failed conversion therefore never leaves a half-written DB, and an earlier DB at the
same path stays untouched until the new one is complete. Temp files carry the writer's PID, so the
next run removes those a killed run left behind. A DB that ``nasbenchmark serve`` is serving (it holds
a shared lock on the file) is not replaced: Datasette would serve pages of two versions.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Iterable, Iterator

from .errors import InputError

_TEMP_MARK = ".tmp-"


def _temp_name(output: Path) -> Path:
    return output.parent / f".{output.name}{_TEMP_MARK}{os.getpid()}-{os.urandom(4).hex()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temp_files(output: Path) -> list[Path]:
    """Delete temp files of ``output`` whose writer process no longer runs (killed runs); returns them."""
    removed = []
    for path in output.parent.glob(f".{output.name}{_TEMP_MARK}*"):
        pid_text = path.name[len(f".{output.name}{_TEMP_MARK}"):].split("-", 1)[0]
        if pid_text.isdigit() and not _pid_alive(int(pid_text)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            removed.append(path)
    return removed


def check_output_path(output: Path | str, inputs: Iterable[Path | str] = ()) -> Path:
    """The absolute output path, or ``InputError`` naming what is wrong and how to fix it (converters call it
    before reading their input too, so a bad ``--output`` fails at once)."""
    output = Path(output).expanduser()
    if len(output.name.encode()) > 200:  # before any stat: the OS refuses names over 255 bytes with OSError
        raise InputError(f"--output {output.name[:40]}...: file name too long ({len(output.name)} characters); "
                         "choose a shorter name")
    if output.is_dir():
        raise InputError(f"--output {output}: is a folder; pass a .db file path")
    try:
        output = output.resolve()
    except (RuntimeError, OSError):     # Python raises RuntimeError for a symlink loop
        raise InputError(f"--output {output}: a symbolic link that loops; choose another --output") from None
    if output.exists() and not output.is_file():
        raise InputError(f"--output {output}: exists and is not a regular file (a device or a pipe?); choose "
                         "another --output")
    for source in inputs:
        source = Path(source).expanduser()
        if source.exists() and source.resolve() == output:
            raise InputError(f"--output {output}: would overwrite the input {source}; choose another --output")
    for parent in (output.parent, *output.parent.parents):
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"--output {output}: {parent} is a file, not a folder; choose another --output")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise InputError(f"--output {output}: cannot write in {parent} (permission denied); choose another "
                                 "--output or fix the folder's permissions")
            break
    _refuse_if_served(output)
    return output


@contextlib.contextmanager
def _signals_recorded() -> Iterator[list[int]]:
    """While the finished DB is committed and renamed, record SIGINT/SIGTERM instead of raising mid-rename."""
    received: list[int] = []
    if sys.platform == "win32" or not _in_main_thread():
        yield received
        return
    previous = {sig: signal.signal(sig, lambda number, frame: received.append(number))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _refuse_if_served(output: Path) -> None:
    """``nasbenchmark serve`` holds a shared flock on every DB it serves; replacing one would mix versions."""
    try:
        fd = os.open(output, os.O_RDONLY | os.O_NONBLOCK)
    except (FileNotFoundError, PermissionError):     # nothing there, or not ours to read: nothing we serve
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise InputError(f"{output}: is being served (nasbenchmark serve / up); stop the server first, or "
                             "write to another --output and swap the files while it is stopped") from None
        raise
    finally:
        os.close(fd)


class DatabaseInterrupted(KeyboardInterrupt):
    """A signal arrived while the finished DB was being renamed into place: the DB is complete."""


@contextlib.contextmanager
def atomic_database(output: Path | str, page_size: int = 4096,
                    inputs: Iterable[Path | str] = ()) -> Iterator[sqlite3.Connection]:
    """Yield a connection to a fresh temp DB; on success commit, optimise and rename it to ``output``.

    ``inputs`` are the files being converted: an ``output`` equal to one of them is refused.
    """
    output = check_output_path(output, inputs)
    output.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(output)
    tmp = _temp_name(output)
    conn = None
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        # The temp file is thrown away on any failure, so durability inside it is not needed.
        conn.execute(f"pragma page_size = {page_size}")
        conn.execute("pragma journal_mode = off")
        conn.execute("pragma synchronous = off")
        conn.execute("pragma cache_size = -200000")
        conn.execute("begin")
        yield conn
        conn.execute("commit")
        conn.execute("analyze")
        conn.execute("pragma journal_mode = delete")
        conn.close()
        conn = None
        os.chmod(tmp, 0o644)
        _refuse_if_served(output)
        with _signals_recorded() as received:
            os.replace(tmp, output)
        if received:
            raise DatabaseInterrupted(f"interrupted after {output} was complete; it is kept")
    except sqlite3.OperationalError as exc:
        if "disk is full" in str(exc) or "disk I/O" in str(exc):
            raise InputError(f"{output}: {exc} while writing {tmp.name}; free space in {output.parent} "
                             "(the earlier DB is unchanged)") from None
        raise
    finally:
        if conn is not None:
            conn.close()
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
