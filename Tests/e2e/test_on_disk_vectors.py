"""On-disk vectors through the real server, the Python client and the CLI: a collection created
with on_disk=True keeps its full vectors in a memory-mapped scratch file (not counted in
memory_bytes), answers as an in-memory twin does, and restarts (snapshot plus log) with every
search unchanged; tiered collections are on disk without asking."""
import os

import numpy as np

import ruvector
from conftest import RunningServer
from test_cli import run_json

DIM = 24


def _results(db, name, queries):
    return [[(h.id, round(h.score, 4)) for h in db.search(name, q, k=10, with_payload=False)] for q in queries]


def _recall(db, name, queries):
    found = 0
    for q in queries:
        truth = {h.id for h in db.search(name, q, k=10, exact=True, with_payload=False)}
        found += len(truth & {h.id for h in db.search(name, q, k=10, ef=64, with_payload=False)})
    return found / (10 * len(queries))


def test_on_disk_collection_answers_like_memory_and_survives_restart(tmp_path):
    rng = np.random.default_rng(23)
    centers = rng.normal(0, 3, size=(12, DIM))
    vectors = (centers[np.arange(3000) % 12] + rng.normal(size=(3000, DIM))).astype(np.float32)
    queries = (centers[np.arange(40) % 12] + rng.normal(size=(40, DIM))).astype(np.float32)
    data = tmp_path / "data"
    server = RunningServer(["--auto-snapshot-replay-millis", "0"], data)
    try:
        with ruvector.Client(server.address, timeout=60) as db:
            disk = db.create_collection("disk", dimension=DIM, metric="l2", quantization="scalar", on_disk=True)
            memory = db.create_collection("memory", dimension=DIM, metric="l2", quantization="scalar")
            assert disk.on_disk and not memory.on_disk
            for name in ("disk", "memory"):
                for start in range(0, 2500, 500):
                    db.upsert(name, ids=range(start, start + 500), vectors=vectors[start:start + 500])
                db.create_snapshot(name)
                # After the snapshot: replayed into the scratch file at the next start.
                db.upsert(name, ids=range(2500, 3000), vectors=vectors[2500:3000])
                db.delete(name, ids=list(range(10, 30)))
            disk, memory = db.get_collection("disk"), db.get_collection("memory")
            assert disk.points_count == memory.points_count == 2980
            assert disk.on_disk_vector_bytes == 3000 * DIM * 4 and memory.on_disk_vector_bytes == 0
            assert memory.memory_bytes - disk.memory_bytes == 3000 * DIM * 4
            assert _recall(db, "disk", queries) >= 0.95
            assert abs(_recall(db, "disk", queries) - _recall(db, "memory", queries)) <= 0.02
            # Full vectors read back exactly from the file.
            got = db.get("disk", [2999], with_vectors=True)[0]
            assert np.allclose(got.vector, vectors[2999])
            tiered = db.create_collection("tiered", dimension=DIM, metric="l2", quantization="tiered")
            assert tiered.on_disk, "tiered collections keep full vectors on disk"
            before = _results(db, "disk", queries)
        # The scratch file has no name: nothing of it shows in the data directory.
        names = [f for _, _, files in os.walk(data) for f in files]
        assert any(f == "collection.bin" for f in names) and not [f for f in names if f.startswith(".scratch")]
    finally:
        assert server.stop() == 0

    server = RunningServer([], data)
    try:
        with ruvector.Client(server.address, timeout=60) as db:
            info = db.get_collection("disk")
            assert info.on_disk and info.on_disk_vector_bytes == 3000 * DIM * 4
            assert db.count("disk") == 2980
            assert _results(db, "disk", queries) == before
            db.upsert("disk", ids=[5000], vectors=vectors[:1] + 1)
            assert db.search("disk", vectors[0] + 1, k=1, with_payload=False)[0].id == 5000
    finally:
        assert server.stop() == 0


def test_cli_creates_and_describes_on_disk_collections(server):
    created = run_json("collections", "create", "cli_disk", "--dimension", 8, "--metric", "l2",
                       "--quantization", "scalar", "--on-disk", server=server)
    assert created["on_disk"] is True
    described = run_json("collections", "get", "cli_disk", server=server)
    assert described["on_disk"] is True and described["on_disk_vector_bytes"] == 0
    plain = run_json("collections", "create", "cli_mem", "--dimension", 8, server=server)
    assert plain["on_disk"] is False
