"""Hostile and impossible NB201 inputs: one-line InputError, bounded memory, no reader process left behind."""
from __future__ import annotations

import bz2
import os
import pickle
import signal
import subprocess
import sys
import time
from collections import OrderedDict
from pathlib import Path

import pytest

from conftest import REPO, real_data
from generators.common import InputError
from generators.nasbench201 import convert

MEMO_BOMB = b"\x80\x02Nr\x00\x00\x00\x10."     # 9 bytes: store None at memo index 2**28
SIMPLE = ("nats-bench", "NATS-tss-v1_0-3ffb9-simple")


def _simple_copy(tmp_path: Path, arch_file: bytes | None = None, meta: bytes | None = None) -> Path:
    folder = tmp_path / "simple"
    folder.mkdir()
    for source in real_data(*SIMPLE).iterdir():
        (folder / source.name).write_bytes(source.read_bytes())
    if arch_file is not None:
        (folder / "000011.pickle.pbz2").write_bytes(arch_file)
    if meta is not None:
        (folder / "meta.pickle.pbz2").write_bytes(meta)
    return folder


def _peak_rss_mb(input_path: Path, output: Path) -> tuple[int, str, float]:
    """Convert in a fresh process: exit code, stderr, peak RSS (MB) of it and its children."""
    script = ("import resource, sys\nfrom generators.nasbench201 import convert\nfrom generators.common import InputError\n"
              "try:\n    convert(sys.argv[1], sys.argv[2], progress=False)\nexcept InputError as e:\n"
              "    print(e, file=sys.stderr); code = 1\nelse:\n    code = 0\n"
              # VmHWM, not ru_maxrss: the latter keeps the high-water mark of the forked pytest across exec.
              "own = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
              "r = own + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
              "print(r // 1024)\nsys.exit(code)\n")
    done = subprocess.run([sys.executable, "-c", script, str(input_path), str(output)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    return done.returncode, done.stderr.strip(), float(done.stdout.strip().splitlines()[-1])


def _legacy_with_header(tmp_path: Path) -> Path:
    path = tmp_path / "bomb.pth"
    path.write_bytes(b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19." + MEMO_BOMB)
    return path


BOMBS = {
    "memo index in a .pth header": lambda tmp: _legacy_with_header(tmp),
    "memo index as the NATS meta file": lambda tmp: _simple_copy(tmp, meta=bz2.compress(MEMO_BOMB)),
    "memo index as a NATS arch file": lambda tmp: _simple_copy(tmp, arch_file=bz2.compress(MEMO_BOMB)),
    "bz2 bomb as the NATS meta file": lambda tmp: _simple_copy(tmp, meta=bz2.compress(b"\x00" * (80 << 20))),
}


@pytest.mark.parametrize("case", sorted(BOMBS))
def test_bombs_fail_fast_with_one_line_and_little_memory(case, tmp_path):
    bad = BOMBS[case](tmp_path)
    started = time.monotonic()
    code, message, peak_mb = _peak_rss_mb(bad, tmp_path / "out.db")
    assert code == 1 and "\n" not in message and message, message
    assert peak_mb < 400, peak_mb
    assert time.monotonic() - started < 60
    assert not (tmp_path / "out.db").exists()


def _real_arch(index: int = 11) -> OrderedDict:
    with bz2.open(real_data(*SIMPLE, f"{index:06d}.pickle.pbz2")) as f:
        return pickle.load(f)         # the trusted real file, with numpy


def _with(change) -> bytes:
    arch = _real_arch()
    change(arch)
    return bz2.compress(pickle.dumps(arch, protocol=4))


def _result(arch, hp="200", key=("cifar100", 777)):
    return arch[hp]["all_results"][key]


def _set_seed(arch, seed):
    results = arch["12"]["all_results"]
    results[("cifar100", seed)] = results.pop(("cifar100", 111))


IMPOSSIBLE = {
    "inf accuracy": (lambda a: _result(a)["eval_acc1es"].__setitem__("x-test@199", float("inf")), "eval_acc1es"),
    "negative accuracy": (lambda a: _result(a)["train_acc1es"].__setitem__(5, -50.0), "train_acc"),
    "1e308 accuracy": (lambda a: _result(a)["train_acc1es"].__setitem__(199, 1e308), "train_acc"),
    "True as an accuracy": (lambda a: _result(a)["train_acc1es"].__setitem__(3, True), "train_acc"),
    "nan accuracy": (lambda a: _result(a)["eval_acc1es"].__setitem__("ori-test@199", float("nan")), "NaN"),
    "params -1": (lambda a: _result(a).__setitem__("params", -1.0), "parameters"),
    "a dict as latency": (lambda a: _result(a).__setitem__("latency", {"mean": 0.1}), "latency"),
    "huge accuracy int": (lambda a: _result(a)["train_acc1es"].__setitem__(7, 10 ** 400), "train_acc"),
    "negative seed": (lambda a: _set_seed(a, -5), "seed"),
    "huge seed": (lambda a: _set_seed(a, 10 ** 30), "seed"),
    "string seed": (lambda a: _set_seed(a, "777"), "seed"),
}


@pytest.mark.parametrize("case", sorted(IMPOSSIBLE))
def test_impossible_values_name_file_arch_setting_dataset_seed_and_column(case, tmp_path):
    change, column = IMPOSSIBLE[case]
    folder = _simple_copy(tmp_path, arch_file=_with(change))
    with pytest.raises(InputError) as error:
        convert(folder, tmp_path / "out.db", progress=False)
    message = str(error.value)
    assert "\n" not in message and "000011.pickle.pbz2: arch 11 hp" in message and column in message, message
    assert len(message) < 400
    assert not (tmp_path / "out.db").exists()


def test_an_empty_arch_file_is_refused(tmp_path):
    folder = _simple_copy(tmp_path, arch_file=bz2.compress(pickle.dumps({}, protocol=4)))
    with pytest.raises(InputError, match="000011.pickle.pbz2: arch 11: no hyper-parameter settings"):
        convert(folder, tmp_path / "out.db", progress=False)


def test_shared_reference_dag_under_an_ignored_key_is_cheap(tmp_path):
    dag: list = []
    for _ in range(40):
        dag = [dag, dag]
    arch = _real_arch()
    arch["200"]["dataset_seed"] = dag           # 2**40 paths, 40 objects
    folder = _simple_copy(tmp_path, arch_file=bz2.compress(pickle.dumps(arch, protocol=4)))
    started = time.monotonic()
    summary = convert(folder, tmp_path / "out.db", progress=False)
    assert summary.configs == 3 * 8 and time.monotonic() - started < 30


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killing_the_converter_ends_its_reader_child_quietly(how, tmp_path):
    source = real_data("nas-bench-201", "NAS-Bench-201-v1_1-shared1200-legacy.pth")
    parent = subprocess.Popen([sys.executable, "-m", "nasbenchmark", "generate", "nb201", "--input", str(source),
                               "--output", str(tmp_path / "out.db"), "--quiet"], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    children: list[int] = []
    while not children and time.monotonic() < deadline:
        time.sleep(0.2)
        children = _children(parent.pid)
    assert children, "the reader child never started"
    time.sleep(1.0)
    os.kill(parent.pid, how)
    _, stderr = parent.communicate(timeout=60)
    deadline = time.monotonic() + 10
    while any(map(_alive, children)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(_alive, children))
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr and len(stderr.splitlines()) <= 1, stderr
