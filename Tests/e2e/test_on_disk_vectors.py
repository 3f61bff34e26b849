"""On-disk vectors through the real server, the Python client and the CLI: a collection created
with on_disk=True keeps its full vectors in a memory-mapped scratch file (not counted in
memory_bytes), answers as an in-memory twin does, and restarts (snapshot plus log) with every
search unchanged; tiered collections are on disk without asking. With on_disk_graph=True the
graph's level-0 links go to a mapped file too (and the vectors with them)."""
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


def _clustered(seed, count, queries):
    """`count` points and `queries` queries around 12 seeded centres."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, size=(12, DIM))
    return tuple((centers[np.arange(n) % 12] + rng.normal(size=(n, DIM))).astype(np.float32) for n in (count, queries))


def test_on_disk_collection_answers_like_memory_and_survives_restart(tmp_path):
    vectors, queries = _clustered(23, 3000, 40)
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


def test_on_disk_graph_answers_like_memory_and_survives_restart(tmp_path):
    vectors, queries = _clustered(29, 2000, 30)
    data = tmp_path / "data"
    server = RunningServer(["--auto-snapshot-replay-millis", "0"], data)
    try:
        with ruvector.Client(server.address, timeout=60) as db:
            graph = db.create_collection("graph", dimension=DIM, metric="l2", m=8, quantization="scalar",
                                         on_disk_graph=True)
            vectors_only = db.create_collection("vectors", dimension=DIM, metric="l2", m=8, quantization="scalar",
                                                on_disk=True)
            assert graph.on_disk and graph.on_disk_graph, "a graph on disk takes the vectors with it"
            assert vectors_only.on_disk and not vectors_only.on_disk_graph
            for name in ("graph", "vectors"):
                db.upsert(name, ids=range(1500), vectors=vectors[:1500])
                db.create_snapshot(name)
                db.upsert(name, ids=range(1500, 2000), vectors=vectors[1500:])
            g, v = db.get_collection("graph"), db.get_collection("vectors")
            assert g.on_disk_graph_bytes == 2000 * 17 * 4 and v.on_disk_graph_bytes == 0
            assert v.memory_bytes - g.memory_bytes == 2000 * 17 * 4
            # The same writes, the same rule for linking (codes): the same graph, the same answers.
            before = _results(db, "graph", queries)
            assert before == _results(db, "vectors", queries)
            assert _recall(db, "graph", queries) >= 0.95
    finally:
        assert server.stop() == 0
    server = RunningServer([], data)
    try:
        with ruvector.Client(server.address, timeout=60) as db:
            info = db.get_collection("graph")
            assert info.on_disk_graph and info.on_disk_graph_bytes == 2000 * 17 * 4
            assert _results(db, "graph", queries) == before
    finally:
        assert server.stop() == 0


def test_cli_creates_on_disk_graph_collections(server):
    created = run_json("collections", "create", "cli_graph", "--dimension", 8, "--metric", "l2",
                       "--quantization", "scalar", "--on-disk-graph", server=server)
    assert created["on_disk"] is True and created["on_disk_graph"] is True
