"""The NB201 fixture writer (real layout, torch-identical streams) and the streaming reader's memo handling."""
from __future__ import annotations

import bz2
import copy
import io
import pickle
import pickletools
import zipfile
from collections import Counter, OrderedDict

import numpy as np
import pytest

from conftest import shared_data
from generators.common import InputError
from generators.common.unpickle import restricted_load
from generators.nasbench201.archs import official_arch_strings
from generators.nasbench201.fixtures import NATS_HPS, PTH_HPS, TORCH_SYS_INFO, _meta, arch_entries, write_fixture
from generators.nasbench201.pickle_writer import StreamingPickler
from generators.nasbench201.pickle_head import HeadInfo, scan_head
from generators.nasbench201.spliced import SplicedReader
from generators.nasbench201.stream import StreamingUnpickler, describe_load_error, memo_proxy
from generators.nasbench201.streamed import TORCH_MAGIC, TORCH_PROTOCOL_VERSION
from generators.nasbench201.synthetic import seed_counts


def test_official_arch_strings_match_the_real_meta_file():
    with bz2.open(shared_data("nats-bench", "NATS-tss-v1_0-3ffb9-simple", "meta.pickle.pbz2")) as f:
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
    from generators.nasbench201.numpy_pickle import numpy_globals, real_numpy_names

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


# -- the streaming reader's memo handling, on small hand-made streams ------------------------------

def _stream(items, fmt_protocol=2) -> bytes:
    out = io.BytesIO()
    top = {"meta_archs": list(official_arch_strings()[:3]), "total_archs": 3, "arch2infos": None}
    StreamingPickler(out, fmt_protocol).dump_streaming(top, "arch2infos", iter(items))
    return out.getvalue()


def _read(data: bytes) -> list:
    source = io.BytesIO(data)
    head = scan_head(source, "test")
    source.seek(0)
    received = []
    spliced = SplicedReader(source, 0, [])
    reader = io.BufferedReader(spliced)
    unpickler = StreamingUnpickler(reader, "test", head, lambda k, v: received.append((k, v)), len(data))
    spliced.edits = [(head.arch2infos_offset, 1, unpickler.injection())]
    if head.frame:
        import struct
        spliced.edits.append((head.frame[0] + 1, 8, struct.pack("<Q", head.frame[1] + len(unpickler.injection()) - 1)))
        spliced.edits.sort()
    try:
        top = unpickler.load()
    except Exception as exc:
        raise describe_load_error(exc, "test") from None
    assert top["arch2infos"] is unpickler.arch2infos and not top["arch2infos"]
    assert top["meta_archs"] == list(official_arch_strings()[:3])
    return received


@pytest.mark.parametrize("protocol", [2, 4])
def test_pruned_memo_keeps_shared_objects_across_batches(protocol):
    # 2,500 items: three SETITEMS batches, so the memo is pruned between them.
    items = [(i, {"full": {"name": "cifar10", "params": float(i), "seed": f"{i:04d}"}}) for i in range(2500)]
    assert _read(_stream(items, protocol)) == items


def test_reference_to_a_dropped_object_is_a_clear_error():
    shared_list = [1.0, 2.0]                  # one object in two archs, two batches apart
    items = {i: {"full": shared_list if i in (3, 1500) else [float(i)]} for i in range(1600)}
    top = {"meta_archs": list(official_arch_strings()[:3]), "total_archs": 3, "arch2infos": items}
    data = pickle.dumps(top, protocol=2)      # CPython's pickler: arch 1500 BINGETs arch 3's list
    with pytest.raises(InputError, match="references an object pickled with an earlier one"):
        _read(data)


def test_memo_proxy_holds_exactly_the_entries():
    unpickler = pickle.Unpickler(io.BytesIO(b"\x80\x02j\x10\x27\x00\x00h\x05\x86."))
    unpickler.memo = memo_proxy({5: "five", 10000: "ten thousand"})
    assert unpickler.memo.copy() == {5: "five", 10000: "ten thousand"}
    assert unpickler.load() == ("ten thousand", "five")


def test_head_scan_finds_arch2infos():
    data = _stream([(0, {"full": 1.0})])
    head = scan_head(io.BytesIO(data), "test")
    assert isinstance(head, HeadInfo) and data[head.arch2infos_offset:head.arch2infos_offset + 1] == b"}"
    assert head.meta_archs_memo is not None and head.frame is None


# -- marker mode (one architecture alive at a time) and its fallback ------------------------------

class _Collect:
    """Stands in for the pipe to the parent process."""

    def __init__(self):
        self.rows = []

    def send(self, message):
        if message[0] == "rows":
            self.rows += message[1]


def _legacy_file(path, items, head_strings: int = 300):
    top = {"meta_archs": list(official_arch_strings()[:head_strings]), "total_archs": head_strings,
           "arch2infos": None}
    with open(path, "wb") as out:
        for part in (TORCH_MAGIC, TORCH_PROTOCOL_VERSION, TORCH_SYS_INFO):
            pickle.dump(part, out, protocol=2)
        StreamingPickler(out, 2).dump_streaming(top, "arch2infos", iter(items))
        pickle.dump([], out, protocol=2)
    return path


def _produce(path, monkeypatch=None):
    from pathlib import Path

    from generators.nasbench201.streamed import _Producer

    sink = _Collect()
    producer = _Producer(sink, Path(path), "pth-legacy")
    producer.run()
    return producer, sink.rows


def test_pth_is_read_one_architecture_at_a_time(tmp_path):
    path = write_fixture(tmp_path / "a.pth", "pth-legacy", 6)
    producer, rows = _produce(path)
    assert producer.read_mode == "markers"
    assert [r.configs[0][-1] for r in rows] == list(range(6))


def test_a_marker_in_the_wrong_place_falls_back_to_batch_mode(tmp_path, monkeypatch):
    from generators.nasbench201 import spliced

    path = write_fixture(tmp_path / "a.pth", "pth-legacy", 6)
    _, expected = _produce(path)
    real_call = spliced.ArchBoundaryFinder.__call__

    def with_a_false_match(self, data, base, first, limit):
        edits = real_call(self, data, base, first, limit)
        if edits and self.last_key >= 3 and not getattr(self, "faked", False):
            # A marker inside arch 2's data, announcing the next key as a false match would.
            self.faked = True
            edits.append((edits[2][0] + 5000, 0, self.marker(edits[2][0] + 5000 - self.origin, 3, self.last_memo_index)))
            edits.sort()
        return edits

    monkeypatch.setattr(spliced.ArchBoundaryFinder, "__call__", with_a_false_match)
    producer, rows = _produce(path)
    assert producer.read_mode == "batch"
    assert [(r.configs, r.trials) for r in rows] == [(r.configs, r.trials) for r in expected]


def test_marker_mode_prunes_the_memo_and_keeps_shared_objects(tmp_path):
    from generators.nasbench201 import stream

    # 2,500 entries of ~3 KB: markers are made ~1 MB ahead of unpickling, so the memo decision (marker
    # DECIDE_AT_MARKER) precedes making marker 1000, which prunes; every entry references shared keys.
    assert stream.DECIDE_AT_MARKER < stream.PRUNE_EVERY <= 1000
    count = 2500
    items = [(i, {"less": {"arch_index": i, "name": "cifar10", "train_losses": [float(j) for j in range(300)]},
                  "full": {"arch_index": i, "seed": f"{i:04d}"}}) for i in range(count)]
    path = _legacy_file(tmp_path / "small.pth", items)
    received = []
    source = open(path, "rb")
    for _ in range(3):
        restricted_load(source, [], "test")
    from generators.nasbench201.pickle_head import scan_head as scan
    from generators.nasbench201.spliced import ArchBoundaryFinder
    start = source.tell()
    head = scan(source, "test")
    source.seek(start)
    unpickler = None
    finder = ArchBoundaryFinder(start, head.arch2infos_offset, lambda: count,
                                lambda *found: unpickler.marker(*found))
    spliced = SplicedReader(source, start, [], finder)
    # Entries are emptied once handed over (their memory is freed early), so keep copies.
    unpickler = StreamingUnpickler(io.BufferedReader(spliced), "test", head,
                                   lambda k, v: received.append((k, copy.deepcopy(v))), path.stat().st_size - start)
    spliced.edits = [(head.arch2infos_offset, 1, unpickler.injection())]
    unpickler.load()
    unpickler.check_markers_done()
    source.close()
    assert len(unpickler.marker_keys) == count and unpickler.presized
    assert received == items
    assert len(unpickler.memo.copy()) < count * 4     # pruned: not every object of every entry
