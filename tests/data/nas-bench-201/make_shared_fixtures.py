"""Write NAS-Bench-201-v1_1-shared1200-{legacy,zip}.pth with torch.save (run once; needs torch and numpy).

    python tests/data/nas-bench-201/make_shared_fixtures.py

1,200 architectures (past the pickler's 1,000-item SETITEMS batch) in the v1_1 .pth layout, all
made of the three real NATS-tss architectures of ../nats-bench/NATS-tss-v1_0-3ffb9-simple/
(0, 11, 284): entry ``i`` holds the results of real architecture ``SOURCES[i % 3]`` under its own
index and arch string. Objects are shared between entries the ways a program building such a
dict shares them, so torch.save's pickler writes references to earlier entries:

* entries 0-2: the real objects, re-indexed;
* every 97th entry: its 'less' results a ``copy.deepcopy`` (strings, tuples and floats stay shared);
* entries 10k + 1: new new ``all_results`` dicts (the same key tuples) of new result dicts that share the
  per-epoch dicts, the ``latency`` and ``eval_names`` lists and the ``arch_config`` dict.
"""
from __future__ import annotations

import bz2
import copy
import pickle
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
SIMPLE = HERE.parent / "nats-bench" / "NATS-tss-v1_0-3ffb9-simple"
SOURCES = (0, 11, 284)
NUM_ENTRIES = 1200
HPS = {"12": "less", "200": "full"}


def _load(name: str):
    with bz2.open(SIMPLE / name) as f:
        return pickle.load(f)      # the real files, trusted, with numpy installed


def _reindexed(results: dict, index: int, arch_str: str, all_results: dict) -> dict:
    return {**results, "arch_index": index, "arch_str": arch_str, "all_results": all_results}


def _shallow_results(all_results: dict) -> dict:
    """New result dicts sharing every per-epoch dict, list and small dict with the originals."""
    return {key: dict(result) for key, result in all_results.items()}


def build() -> dict:
    meta_archs = _load("meta.pickle.pbz2")["meta_archs"]
    real = [_load(f"{index:06d}.pickle.pbz2") for index in SOURCES]
    arch2infos = {}
    for index in range(NUM_ENTRIES):
        source = real[index % 3]
        entry = {}
        for hp, key in HPS.items():
            results = source[hp]
            if index < 3:
                entry[key] = _reindexed(results, index, meta_archs[index], results["all_results"])
            elif index % 97 == 0 and key == "less":
                entry[key] = _reindexed(copy.deepcopy(results), index, meta_archs[index], None)
                entry[key]["all_results"] = copy.deepcopy(results["all_results"])
            elif index % 10 == 1:
                entry[key] = _reindexed(results, index, meta_archs[index], _shallow_results(results["all_results"]))
            else:
                entry[key] = _reindexed(results, index, meta_archs[index], results["all_results"])
        arch2infos[index] = entry
    return {"meta_archs": meta_archs, "total_archs": len(meta_archs), "arch2infos": arch2infos,
            "evaluated_indexes": list(range(NUM_ENTRIES))}


def main() -> None:
    data = build()
    for container, zipped in (("legacy", False), ("zip", True)):
        torch.save(data, HERE / f"NAS-Bench-201-v1_1-shared1200-{container}.pth", _use_new_zipfile_serialization=zipped)


if __name__ == "__main__":
    main()
