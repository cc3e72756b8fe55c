"""The NB201 fixture writer: the real layout, streams identical to what CPython's pickler (torch.save) writes."""
from __future__ import annotations

import bz2
import io
import pickle
import pickletools
import zipfile
from collections import Counter, OrderedDict

import numpy as np
import pytest

from conftest import real_data
from generators.common.unpickle import restricted_load
from generators.fixtures.nb201 import (NATS_HPS, PTH_HPS, TORCH_MAGIC, TORCH_PROTOCOL_VERSION, TORCH_SYS_INFO, _meta,
                                       arch_entries, seed_counts, write_fixture)
from generators.fixtures.nb201_pickler import StreamingPickler, numpy_globals, real_numpy_names
from generators.nasbench201.archs import official_arch_strings


def test_official_arch_strings_match_the_real_meta_file():
    with bz2.open(real_data("nats-bench", "NATS-tss-v1_0-3ffb9-simple", "meta.pickle.pbz2")) as f:
        meta = restricted_load(f, [], "meta")
    assert list(official_arch_strings()) == meta["meta_archs"]


def test_seed_counts_have_the_real_v1_1_proportions():
    assert Counter(seed_counts(15625, 0)) == {1: 2225, 2: 5439, 3: 7961}
    assert seed_counts(500, 3) == seed_counts(500, 3) != seed_counts(500, 4)


def _object(num_archs: int, hps) -> dict:
    top = _meta(num_archs, None, list(range(num_archs)))
    top["arch2infos"] = dict(arch_entries(num_archs, 0, hps))
    return top


def test_legacy_pth_is_what_torch_save_writes(tmp_path):
    path = write_fixture(tmp_path / "a.pth", "pth-legacy", 3)
    with numpy_globals():
        expected = b"".join(pickle.dumps(part, protocol=2) for part in (TORCH_MAGIC, TORCH_PROTOCOL_VERSION,
                                                                        TORCH_SYS_INFO))
        expected += real_numpy_names(pickle.dumps(_object(3, PTH_HPS), protocol=2)) + pickle.dumps([], protocol=2)
    assert path.read_bytes() == expected


def test_real_key_and_value_types_load_with_numpy(tmp_path):
    path = write_fixture(tmp_path / "a.pth", "pth-legacy", 2)
    with open(path, "rb") as f:
        assert [pickle.load(f) for _ in range(3)] == [TORCH_MAGIC, TORCH_PROTOCOL_VERSION, TORCH_SYS_INFO]
        top = pickle.load(f)          # real numpy resolves numpy.core.multiarray.scalar
        assert pickle.load(f) == []
    assert sorted(top) == ["arch2infos", "evaluated_indexes", "meta_archs", "total_archs"]
    arch = top["arch2infos"][1]
    assert list(arch) == ["less", "full"] and arch["full"]["arch_str"] == top["meta_archs"][1]
    result = arch["full"]["all_results"][("cifar100", 777)]
    assert type(result["params"]) is np.float64 and type(result["latency"][0]) is np.float64
    assert result["seed"] == "0777" and type(result["train_times"]) is OrderedDict
    assert result["train_acc5es"] is None and len(result["train_acc1es"]) == 200
    assert sorted(k for k in result["eval_acc1es"] if not k.startswith("ori-test")) == ["x-test@199", "x-valid@199"]
    assert len(result["eval_times"]) == 600
    less = arch["less"]["dataset_seed"]
    assert less == {"cifar10-valid": [111, 777], "cifar10": [111], "cifar100": [111], "ImageNet16-120": [111]}


def test_streams_reference_memo_entries_of_earlier_archs(tmp_path):
    path = write_fixture(tmp_path / "a.pth", "pth-legacy", 3)
    with open(path, "rb") as f:
        for _ in range(3):
            pickle.load(f)
        data = f.read()
    puts, first_arch_end, cross = {}, None, 0
    for opcode, arg, pos in pickletools.genops(data):
        if opcode.name in ("BINPUT", "LONG_BINPUT"):
            puts[arg] = pos
        elif opcode.name == "BININT1" and arg == 1 and first_arch_end is None and len(puts) > 20000:
            first_arch_end = pos              # key 1 of arch2infos: arch 0 is complete
        elif opcode.name in ("BINGET", "LONG_BINGET") and first_arch_end and puts[arg] < first_arch_end:
            cross += 1
    assert cross > 100                        # later archs BINGET keys, globals and dtypes memoized earlier
    assert max(puts) > 20000                  # indices keep growing across the whole object


@pytest.mark.parametrize("size", [0, 1, 2, 999, 1000, 1001, 2000])
def test_streaming_pickler_batches_like_cpython(size):
    items = [(i, {"full": float(i), "name": f"arch{i}"}) for i in range(size)]
    top = {"meta_archs": ["a", "b"], "arch2infos": None, "evaluated_indexes": [1, 2, 3]}
    out = io.BytesIO()
    StreamingPickler(out, 2).dump_streaming(top, "arch2infos", iter(items))
    assert out.getvalue() == pickle.dumps({**top, "arch2infos": dict(items)}, protocol=2)


def test_protocol_4_stream_loads_back(tmp_path):
    path = write_fixture(tmp_path / "single.pickle.pbz2", "nats-single", 2)
    with bz2.open(path) as f:
        loaded = pickle.load(f)
    expected = _object(2, NATS_HPS)
    expected["evaluated_indexes"] = {0, 1}
    assert type(loaded["arch2infos"][0]) is OrderedDict and list(loaded["arch2infos"][0]) == ["12", "200"]
    assert loaded == expected


def test_zip_container_layout(tmp_path):
    path = write_fixture(tmp_path / "NAS-Bench-201-v1_1-096897.pth", "pth-zip", 1)
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["NAS-Bench-201-v1_1-096897/byteorder", "NAS-Bench-201-v1_1-096897/data.pkl",
                                         "NAS-Bench-201-v1_1-096897/version"]
        assert all(info.compress_type == zipfile.ZIP_STORED for info in zf.infolist())
        top = pickle.loads(zf.read("NAS-Bench-201-v1_1-096897/data.pkl"))
    assert list(top["arch2infos"]) == [0]


def test_simple_folder_layout(tmp_path):
    folder = write_fixture(tmp_path / "simple", "nats-simple", 2)
    assert sorted(p.name for p in folder.iterdir()) == ["000000.pickle.pbz2", "000001.pickle.pbz2", "meta.pickle.pbz2"]
    with bz2.open(folder / "meta.pickle.pbz2") as f:
        meta = pickle.load(f)
    assert meta["arch2infos"] is None and meta["evaluated_indexes"] == set() and meta["total_archs"] == 15625
