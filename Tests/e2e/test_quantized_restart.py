"""Quantized collections through the real binary and the Python client: a restart (snapshot plus
the log after it) answers every search exactly as before, because the snapshot stores the trained
quantizer and its codes instead of training again at start."""
import re

import numpy as np

import ruvector
from conftest import RunningServer
from test_storage_recovery import _recovered_line

DIM = 16
KINDS = {"int8": {"quantization": "scalar"}, "int4": {"quantization": "int4"},
         "pq4": {"quantization": "pq4", "pq_subvectors": 8}}
#: What GetCollection says each collection is quantized with.
DESCRIBED = {"int8": "scalar", "int4": "int4", "pq4": "pq4"}


def _results(db, name, queries):
    out = []
    for q in queries:
        out.append([(h.id, h.score) for h in db.search(name, q, k=10, with_payload=False)])
        out.append([(h.id, h.score) for h in db.search(name, q, k=10, ef=10, with_payload=False)])
    return out


def test_quantized_collections_restart_with_identical_results(tmp_path):
    rng = np.random.default_rng(17)
    vectors = rng.normal(size=(3500, DIM)).astype(np.float32)
    queries = rng.normal(size=(50, DIM)).astype(np.float32)
    data = tmp_path / "data"
    # Only the snapshot taken below: the log after it must be replayed (no automatic snapshot
    # for the time the writes took to apply, which a slow build under load can reach).
    server = RunningServer(["--auto-snapshot-replay-millis", "0"], data)
    try:
        with ruvector.Client(server.address, timeout=60) as db:
            for name, options in KINDS.items():
                db.create_collection(name, dimension=DIM, metric="l2", **options)
                # Trained once 1024 points are in (after the third batch), on those points only.
                for start in range(0, 3000, 500):
                    db.upsert(name, ids=range(start, start + 500), vectors=vectors[start:start + 500])
                db.create_snapshot(name)
                # Logged after the snapshot: replayed at start, encoded by the stored quantizer.
                db.upsert(name, ids=range(3000, 3500), vectors=vectors[3000:3500])
                db.upsert(name, ids=range(0, 50), vectors=vectors[3000:3050] * 2)
                db.delete(name, ids=list(range(100, 120)))
            before = {name: _results(db, name, queries) for name in KINDS}
    finally:
        assert server.stop() == 0

    server = RunningServer([], data)
    try:
        for name in KINDS:
            line = _recovered_line(server, name)
            assert re.search(r"replayed_records=3\b", line), line
            assert not re.search(r"snapshot_sequence=0\b", line), line
        with ruvector.Client(server.address, timeout=60) as db:
            for name in KINDS:
                assert db.get_collection(name).quantization == DESCRIBED[name]
                assert db.count(name) == 3480
                after = _results(db, name, queries)
                changed = sum(1 for a, b in zip(before[name], after) if a != b)
                assert changed == 0, f"{name}: {changed} of {len(after)} searches changed after the restart"
    finally:
        assert server.stop() == 0
