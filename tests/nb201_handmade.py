"""A tiny NAS-Bench-201 DB written by hand from SCHEMA_SQL, so query tests know every value."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from nasbenchmark.nasbench201.graph_util import arch_str_to_dict
from nasbenchmark.nasbench201.schema import INTERMEDIATE_COLUMNS, SCHEMA_SQL, STATS_COLUMNS

ARCHS = [
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
    "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|",
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
]


def _stats(arch_index: int, dataset_index: int, seed: int) -> list:
    """Distinct, predictable values: test_acc = 50 + 10*arch + dataset + seed/1000."""
    base = 50 + 10 * arch_index + dataset_index + seed / 1000
    values = {c: base + i / 100 for i, c in enumerate(STATS_COLUMNS)}
    if dataset_index == 1:  # cifar10: no validation split
        values["valid_acc"] = values["valid_loss"] = values["valid_evaluation_time"] = None
    return [values[c] for c in STATS_COLUMNS]


def write(path: Path) -> Path:
    """3 archs x 2 datasets (cifar10-valid, cifar10) x 200 epochs with seeds 777/888, 12 epochs seed 111
    for arch 0 only. Intermediates: 3 epochs per 200-epoch run, epoch 2 has only train metrics."""
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA_SQL)
    conn.execute("create table metadata (key text primary key, value text not null)")
    conn.executemany("insert into metadata values (?, ?)", [("benchmark", "nb201"), ("synthetic", "true")])
    config_id = trial_id = inter_id = 0
    for index, arch_str in enumerate(ARCHS):
        arch = arch_str_to_dict(arch_str)
        arch_json = json.dumps(arch, sort_keys=True, separators=(",", ":"))
        conn.execute("insert into nb201arch values (?,?,?,?,?,?,?,?,?)",
                     (index, arch_str, arch_json, *arch.values()))
        setups = [(200, d, [777, 888]) for d in range(2)] + ([(12, 0, [111])] if index == 0 else [])
        for epochs, dataset_index, seeds in setups:
            config_id += 1
            conn.execute("insert into nb201trialconfig values (?,?,?,?,?,?,?)",
                         (config_id, arch_json, epochs, 16, 5, ["cifar10-valid", "cifar10"][dataset_index], index))
            for seed in seeds:
                trial_id += 1
                conn.execute(f"insert into nb201trialstats values ({','.join('?' * (3 + len(STATS_COLUMNS)))})",
                             (trial_id, config_id, seed, *_stats(index, dataset_index, seed)))
                for epoch in (1, 2, 3):
                    inter_id += 1
                    metrics = [epoch * 10 + seed / 1000 + i for i in range(len(INTERMEDIATE_COLUMNS))]
                    if epoch == 2:
                        metrics = [m if c.startswith("train") else None for c, m in zip(INTERMEDIATE_COLUMNS, metrics)]
                    conn.execute(f"insert into nb201intermediatestats values "
                                 f"({','.join('?' * (3 + len(INTERMEDIATE_COLUMNS)))})",
                                 (inter_id, trial_id, epoch, *metrics))
    conn.commit()
    conn.close()
    return path
