"""Generated Datasette files: metadata.yml (0.65), datasette.yaml (1.0), inspect cache, serve argv."""
from __future__ import annotations

import os
import sqlite3

import pytest
import yaml

import nb201_handmade
from nasbenchmark import database, registry, serving
from nasbenchmark.provenance import SYNTHETIC_LABEL
from nasbenchmark.nasbench201.descriptor import BENCHMARK as NB201


@pytest.fixture
def db_dir(tmp_path):
    """A DB dir holding only the tiny hand-written NB201 DB (synthetic=true)."""
    nb201_handmade.write(tmp_path / NB201.db_filename)
    return tmp_path


def _set_synthetic(path, value: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("update metadata set value = ? where key = 'synthetic'", (value,))


def test_synthetic_db_is_labelled_everywhere(db_dir):
    meta = serving.build_metadata(registry.benchmarks(), serving.available_databases(db_dir))
    entry = meta["databases"]["nasbench201"]
    assert entry["title"].startswith(SYNTHETIC_LABEL)
    assert entry["description"].startswith(SYNTHETIC_LABEL)
    assert SYNTHETIC_LABEL in meta["description"]
    assert entry["queries"] and all(q["description"].startswith(SYNTHETIC_LABEL)
                                    for q in entry["queries"].values())


def test_real_db_is_not_labelled(db_dir):
    _set_synthetic(db_dir / NB201.db_filename, "false")
    meta = serving.build_metadata(registry.benchmarks(), serving.available_databases(db_dir))
    assert "SYNTHETIC" not in yaml.safe_dump(meta)
    assert meta["databases"]["nasbench201"]["title"] == NB201.title


def test_metadata_carries_the_catalog(db_dir):
    entry = serving.build_metadata(registry.benchmarks(), serving.available_databases(db_dir))["databases"]["nasbench201"]
    for key in ("license", "license_url", "source", "source_url"):
        assert entry[key] == getattr(NB201, key)
    stats = entry["tables"]["nb201trialstats"]
    assert stats["columns"]["test_acc"] == "Top-1 test accuracy, in percent"
    assert stats["columns"]["training_time"].endswith(", in seconds")
    assert entry["tables"]["nb201arch"]["label_column"] == "arch_str"
    assert entry["tables"]["nb201trialconfig"]["facets"] == ["dataset", "num_epochs"]
    for query in NB201.queries:
        generated = entry["queries"][query.name]
        assert generated["sql"] == query.sql and generated["params"] == list(query.defaults)
        assert generated["title"] == query.title and query.description in generated["description"]


def test_datasette_1_config_has_settings_table_options_and_the_same_queries(db_dir):
    db_paths = serving.available_databases(db_dir)
    meta = serving.build_metadata(registry.benchmarks(), db_paths)
    config = serving.build_config(registry.benchmarks(), db_paths)
    assert config["settings"] == serving.SETTINGS
    assert config["databases"]["nasbench201"]["queries"] == meta["databases"]["nasbench201"]["queries"]
    tables = config["databases"]["nasbench201"]["tables"]
    assert tables["nb201arch"] == {"facets": list(NB201.table("nb201arch").facets), "label_column": "arch_str"}
    assert "nb201intermediatestats" not in tables  # no options: nothing to configure


def test_write_config_writes_parseable_files(db_dir):
    files = serving.write_config(db_dir)
    assert files.metadata.parent == db_dir / serving.CACHE_DIRNAME
    db_paths = serving.available_databases(db_dir)
    assert yaml.safe_load(files.metadata.read_text()) == serving.build_metadata(registry.benchmarks(), db_paths)
    assert yaml.safe_load(files.config.read_text()) == serving.build_config(registry.benchmarks(), db_paths)
    assert "sql: |" in files.metadata.read_text()  # SQL as readable YAML blocks


def test_inspect_data_is_cached_until_the_db_changes(db_dir):
    db = db_dir / NB201.db_filename
    files = serving.write_config(db_dir)
    counts = yaml.safe_load(files.inspect.read_text())["nasbench201"]["tables"]
    assert counts["nb201trialstats"]["count"] == 13 and counts["nb201arch"]["count"] == 3
    (cached,) = (db_dir / serving.CACHE_DIRNAME).glob("inspect-nasbench201-*.json")
    os.utime(cached, ns=(1, 1))  # marks the file so a rewrite would show
    serving.write_config(db_dir)
    assert cached.stat().st_mtime_ns == 1
    with sqlite3.connect(db) as conn:
        conn.execute("delete from nb201trialstats where seed = 111")
    os.utime(db, ns=(db.stat().st_atime_ns, db.stat().st_mtime_ns + 10**9))
    files = serving.write_config(db_dir)
    (renewed,) = (db_dir / serving.CACHE_DIRNAME).glob("inspect-nasbench201-*.json")
    assert renewed != cached
    assert yaml.safe_load(files.inspect.read_text())["nasbench201"]["tables"]["nb201trialstats"]["count"] == 12


def test_no_database_is_a_clear_error(tmp_path):
    with pytest.raises(database.DatabaseNotFoundError, match=f"no benchmark database in {tmp_path}.*generate"):
        serving.write_config(tmp_path)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_damaged_database_is_named_with_the_fix(db_dir, damage):
    db = db_dir / NB201.db_filename
    db.write_bytes(b"not a database" * 1000 if damage == "garbage" else db.read_bytes()[:3 * 4096])
    with pytest.raises(serving.ServeError, match=f"{db}: not a readable SQLite database.*generate nb201"):
        serving.write_config(db_dir)


def test_datasette_command_serves_immutable_dbs_with_cached_counts(db_dir):
    files = serving.write_config(db_dir)
    argv = serving.datasette_command(files, host="127.0.0.1", port=8123)
    assert argv[1:4] == ["-m", "datasette", "serve"]
    assert argv[argv.index("-i") + 1] == str((db_dir / NB201.db_filename).resolve())
    assert argv[argv.index("--inspect-file") + 1] == str(files.inspect)
    assert argv[argv.index("--metadata") + 1] == str(files.metadata)
    assert argv[argv.index("--host") + 1] == "127.0.0.1" and argv[argv.index("--port") + 1] == "8123"
    settings = {argv[i + 1]: argv[i + 2] for i, arg in enumerate(argv) if arg == "--setting"}
    assert settings == {"sql_time_limit_ms": "2000", "max_returned_rows": "30000", "default_page_size": "100",
                        "suggest_facets": "off"}
