"""The README runs as printed: its code blocks against the DBs `nasbenchmark up` builds, its console
sessions with their output, its tables against the descriptors, its test command against CI's."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from nasbenchmark import database, registry

README = (REPO / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w+)\n(.*?)^```\n", re.M | re.S)


def blocks() -> list[tuple[str, str]]:
    return [(match.group(1), match.group(2)) for match in FENCE.finditer(README)]


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A home folder whose ~/.nni/nasbenchmark holds what `nasbenchmark up` builds (its embedded defaults)."""
    home = tmp_path_factory.mktemp("home")
    env = {key: value for key, value in os.environ.items() if key != database.ENV_DIR}
    code = "from site_builder.up import ensure_databases; ensure_databases()"
    subprocess.run([sys.executable, "-c", code], env={**env, "HOME": str(home)}, cwd=REPO, check=True,
                   capture_output=True, timeout=900)
    return home


def _run(home: Path, argv: list[str], stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != database.ENV_DIR}
    return subprocess.run(argv, input=stdin, env={**env, "HOME": str(home)}, cwd=home, capture_output=True,
                          text=True, timeout=300)


def _python_examples() -> list[tuple[str, str | None]]:
    """Each python block and the text block right after it (its expected output), if any."""
    found = blocks()
    return [(code, found[i + 1][1] if i + 1 < len(found) and found[i + 1][0] == "text" else None)
            for i, (language, code) in enumerate(found) if language == "python"]


@pytest.mark.parametrize("code, expected", _python_examples(), ids=lambda value: (value or "")[:40])
def test_python_blocks_run_as_printed(home, code, expected):
    done = _run(home, [sys.executable, "-"], code)
    assert done.returncode == 0, done.stderr[-2000:]
    if expected is not None:
        assert done.stdout == expected


def _console_commands() -> list[tuple[str, str]]:
    commands = []
    for language, text in blocks():
        if language == "console":
            for chunk in re.split(r"^\$ ", text, flags=re.M)[1:]:
                command, _, output = chunk.partition("\n")
                commands.append((command, output))
    return commands


def _masked(text: str) -> str:
    return re.sub(r"\d+\.\d MB", "N MB", text)  # DB sizes vary with the SQLite version


@pytest.mark.parametrize("command, expected", _console_commands(), ids=lambda value: value[:50])
def test_console_sessions_print_what_the_readme_shows(home, command, expected):
    argv = command.split()
    assert argv[0] == "nasbenchmark"
    done = _run(home, [sys.executable, "-m", "nasbenchmark", *argv[1:]])
    assert _masked(done.stdout + done.stderr) == _masked(expected)


def test_the_canned_query_table_lists_every_descriptor_query():
    table = dict(re.findall(r"^\| ([^|`]+?) \| (`[^|]*`) \|$", README, re.M))
    assert set(table) == {bench.title for bench in registry.benchmarks()}
    for bench in registry.benchmarks():
        assert re.findall(r"`(\w+)`", table[bench.title]) == [query.name for query in bench.queries], bench.key


def test_every_benchmark_is_in_the_what_is_real_table():
    rows = re.findall(r"^\| ([^|`]+?) \| `(\w+\.db)` \|", README, re.M)
    assert sorted(rows) == sorted((bench.title, bench.db_filename) for bench in registry.benchmarks())


def test_the_two_setup_commands_are_the_ones_ci_and_the_up_test_run():
    assert "    pip install -e '.[all]' && nasbenchmark up\n" in README
    assert "    bash tests/run.sh\n" in README
    assert "\nbash tests/run.sh " in (REPO / ".ci" / "run").read_text()
