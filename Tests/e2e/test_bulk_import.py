"""Bulk import end to end: UpsertStream messages linked on several threads (the server's
--import-threads) answer searches like a brute-force oracle, an import acknowledged with
wait=False survives a SIGKILL before it is indexed, a wait=True stream is searchable when it
returns, the CLI's imports land whole, and the Python client's hand-written UpsertRequest
bytes (ruvector.wire) are exactly protobuf's."""
import os
import pathlib
import signal
import subprocess
import uuid

import numpy as np
import pytest

import ruvector
from conftest import RunningServer
from ruvector import convert, wire
from ruvector.v1 import vector_pb2

CLI = pathlib.Path(os.environ.get("RUVECTOR_SERVER_BINARY", "")).parent / "ruvector"
# Small limits: the attack-free tests still never let a server grow past a few hundred MiB.
SERVER_ARGS = ["--import-threads", "2", "--memory-limit", "1GiB"]


def _clustered(n, dim, seed):
    """Seeded clustered Gaussians (as the benchmarks' data): neighbours are not all ties."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3, size=(20, dim))
    return (centres[rng.integers(0, 20, size=n)] + rng.normal(size=(n, dim))).astype("<f4")


def _recall(db, collection, data, queries, k=10):
    """Mean recall@k of the server's HNSW search against exact L2 neighbours."""
    found = 0
    for q in queries:
        exact = set(np.argsort(((data - q) ** 2).sum(axis=1), kind="stable")[:k].tolist())
        found += len(exact & {h.id for h in db.search(collection, q, k=k)})
    return found / (k * len(queries))


def _assert_all_stored(db, collection, data):
    assert db.count(collection) == len(data)
    for start in range(0, len(data), 1000):
        ids = list(range(start, min(start + 1000, len(data))))
        records = {r.id: r for r in db.get(collection, ids, with_vectors=True)}
        assert sorted(records) == ids, f"{collection}: points missing in {start}..{ids[-1]}"
        got = np.array([records[i].vector for i in ids], dtype="<f4")
        assert np.array_equal(got, data[ids[0]:ids[-1] + 1]), f"{collection}: a vector changed in {start}..{ids[-1]}"


def test_wire_bytes_are_protobufs_own():
    """Every kind of id, vector and payload the client takes encodes to the bytes protobuf writes."""
    rng = np.random.default_rng(4)
    points = [
        (0, rng.normal(size=16).astype(np.float32), None),                      # id 0 is still written
        (2 ** 63 - 1, rng.normal(size=3), {"lang": "swift", "n": 3, "x": [1.5, None], "m": {"a": True}}),
        (np.int64(300), [0.1, -2.5, 1e-40], {}),                                # numpy id, list, a subnormal
        (uuid.UUID("550e8400-e29b-41d4-a716-446655440000"), (1.0, 2.0), None),
        ("550e8400-e29b-41d4-a716-446655440001", np.arange(4, dtype=np.int32), None),
        (7, [], None),                                                          # empty vector
        (8, [1e39, -1e39, float("nan")], None),                                 # beyond float32: infinities
        (129, np.float64([1 / 3, 2 / 3]), {"big": 2 ** 40}),
    ]
    for wait in (0, vector_pb2.WRITE_WAIT_DURABLE, vector_pb2.WRITE_WAIT_ACCEPTED):
        for collection in ("docs", "", "ünïcode"):
            expected = vector_pb2.UpsertRequest(collection=collection, wait=wait, points=[
                vector_pb2.PointStruct(id=convert.to_id(i), vector=convert.to_vector(v), payload=convert.to_payload(p))
                for i, v, p in points])
            assert wire.upsert_request(collection, points, wait) == expected.SerializeToString()
    for value in (1, 127, 128, 300, 2 ** 35, 2 ** 63 - 1, 2 ** 64 - 1):     # (a plain 0 field is not written)
        message = vector_pb2.UpdateResult(sequence=value).SerializeToString()
        assert message == b"\x08" + wire.varint(value)


def test_bad_points_raise_before_anything_is_sent(server):
    """A point the client cannot encode raises the client's own error (not CANCELLED); one the
    server refuses ends the stream with its status, saying what was written before."""
    with ruvector.Client(server.address, timeout=30) as db:
        db.create_collection("docs", dimension=4, metric="l2")
        with pytest.raises(TypeError, match="nested sequence"):
            db.import_stream("docs", [(1, [[1.0, 2.0], [3.0, 4.0]])])
        with pytest.raises(ValueError, match="2\\*\\*63"):
            db.import_stream("docs", [(2 ** 63, [1.0, 2.0, 3.0, 4.0])])
        with pytest.raises(TypeError, match="Point, an"):
            db.import_stream("docs", [42])
        good = [(i, [float(i), 0.0, 0.0, 1.0]) for i in range(100)]
        with pytest.raises(ruvector.InvalidArgument, match="100 points of the earlier messages were written"):
            db.import_stream("docs", good + [(500, [1.0, 2.0])], batch_size=100)
        # wait=True (the default): what was written is applied when the call ends, even failed.
        assert db.count("docs") == 100 and not db.get_collection("docs").indexing


def test_parallel_import_matches_brute_force_and_survives_sigkill(tmp_path):
    """Messages of 500 points are linked on 2 threads: recall against exact neighbours stays
    high, a wait=True stream is searchable when it returns, and a wait=False import killed
    (SIGKILL) before it is indexed comes back whole after a restart, searchable."""
    data = _clustered(8000, 24, seed=11)
    queries = _clustered(40, 24, seed=12)
    server = RunningServer(SERVER_ARGS, tmp_path / "data")
    try:
        with ruvector.Client(server.address, timeout=60) as db:
            db.create_collection("applied", dimension=24, metric="l2")
            result = db.import_stream("applied", ((i, data[i]) for i in range(len(data))), batch_size=500, wait=True)
            assert result.points_affected == 8000 and result.applied
            assert not db.get_collection("applied").indexing and db.count("applied") == 8000
            assert _recall(db, "applied", data, queries) >= 0.9

            db.create_collection("queued", dimension=24, metric="l2")
            result = db.import_stream("queued", ((i, data[i]) for i in range(len(data))), batch_size=500, wait=False)
            assert result.points_affected == 8000 and not result.applied
        server.process.send_signal(signal.SIGKILL)      # at once: some of it is likely still queued
        server.process.wait(timeout=10)
        server = RunningServer(SERVER_ARGS, tmp_path / "data")
        with ruvector.Client(server.address, timeout=60) as db:
            for name in ("applied", "queued"):
                _assert_all_stored(db, name, data)
                assert _recall(db, name, data, queries) >= 0.9, name
    finally:
        server.stop()


def test_cli_imports_land_whole(server, tmp_path):
    """`ruvector upsert` of a .npy file, acknowledged once applied (default) and once logged
    (--wait accepted): every point stored, searches agree with brute force."""
    data = _clustered(5000, 16, seed=21)
    queries = _clustered(30, 16, seed=22)
    np.save(tmp_path / "points.npy", data)
    with ruvector.Client(server.address, timeout=60) as db:
        for name, wait in (("default", []), ("accepted", ["--wait", "accepted"])):
            db.create_collection(name, dimension=16, metric="l2")
            result = subprocess.run([str(CLI), "upsert", "--server", server.address, "--collection", name,
                                     "--file", str(tmp_path / "points.npy"), "--batch-size", "700", "--no-progress",
                                     "--json", *wait], capture_output=True, text=True, timeout=120)
            assert result.returncode == 0, result.stderr
            if not wait:
                assert not db.get_collection(name).indexing
            db.wait_indexed(name, timeout=60)
            _assert_all_stored(db, name, data)
            assert _recall(db, name, data, queries) >= 0.9, name
