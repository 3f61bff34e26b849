"""Durable storage through the real binary: a torn write-ahead log tail is cut at start with a
log line saying how much, a damaged newest snapshot falls back to the previous one, and files of
a newer format are refused with a message saying to upgrade (at start, and as an upload)."""
import os
import re
import signal
import subprocess
import time

import grpc
from ruvector.v1 import common_pb2, vector_pb2, vector_pb2_grpc

from conftest import RunningServer, expect_status
from ruvector import crc32c


def _stub(server):
    return vector_pb2_grpc.VectorServiceStub(grpc.insecure_channel(server.address))


def _points(ids):
    return [vector_pb2.PointStruct(id=common_pb2.PointId(num=i),
                                   vector=common_pb2.Vector(values=[i % 7, i % 11, i % 13, 1 + i % 3]),
                                   payload=common_pb2.Struct(fields={"n": common_pb2.Value(int_value=i)}))
            for i in ids]


def _populated(data, ids):
    """A server on `data` holding collection "docs" with points `ids`."""
    server = RunningServer([], data)
    stub = _stub(server)
    stub.CreateCollection(vector_pb2.CreateCollectionRequest(name="docs", dimension=4, metric=vector_pb2.METRIC_L2))
    stub.Upsert(vector_pb2.UpsertRequest(collection="docs", points=_points(ids)))
    return server, stub


def _kill(server):
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()


def _recovered_line(server, collection="docs"):
    """The start-up log line of `collection`'s recovery (stderr is read by a thread: wait for it)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for line in server.stderr_lines:
            if "collection recovered" in line and f"collection={collection}" in line:
                return line
        time.sleep(0.05)
    raise AssertionError("no 'collection recovered' line:\n" + "".join(server.stderr_lines))


def _search(stub, queries):
    return [[(h.id.num, h.score) for h in stub.Search(vector_pb2.SearchRequest(
        collection="docs", vector=common_pb2.Vector(values=q), k=5)).hits] for q in queries]


def test_torn_log_tail_is_cut_and_logged(tmp_path):
    data = tmp_path / "data"
    server, _ = _populated(data, range(1, 51))
    _kill(server)
    wal = data / "collections" / "docs" / "wal"
    segment = sorted(wal.glob("wal-*.log"))[-1]
    # A record header promising 64 payload bytes, cut after 7 of them: what a crash mid-write leaves.
    torn = (64).to_bytes(4, "little") + bytes([1, 0, 0, 0]) + (2).to_bytes(8, "little") + bytes(4) + bytes(range(7))
    with open(segment, "ab") as file:
        file.write(torn)

    server = RunningServer([], data)
    try:
        line = _recovered_line(server)
        assert f"wal_dropped_bytes={len(torn)}" in line, line
        assert re.search(r"wal_dropped_reason=.*cut short", line), line
        assert re.search(r"open_ms=[0-9.]+", line), line          # start-up time, per collection
        assert any("data directory opened" in l and "duration=" in l for l in server.stderr_lines)
        stub = _stub(server)
        assert stub.Count(vector_pb2.CountRequest(collection="docs")).count == 50
        # The log goes on where the valid records end.
        stub.Upsert(vector_pb2.UpsertRequest(collection="docs", points=_points(range(51, 61))))
        _kill(server)
        server = RunningServer([], data)
        assert "wal_dropped_bytes=0" in _recovered_line(server)
        assert _stub(server).Count(vector_pb2.CountRequest(collection="docs")).count == 60
    finally:
        server.stop()


def test_damaged_newest_snapshot_falls_back_to_the_previous_one(tmp_path):
    data = tmp_path / "data"
    server, stub = _populated(data, range(1, 201))
    stub.CreateSnapshot(vector_pb2.CreateSnapshotRequest(collection="docs"))
    stub.Upsert(vector_pb2.UpsertRequest(collection="docs", points=_points(range(201, 401))))
    newest = stub.CreateSnapshot(vector_pb2.CreateSnapshotRequest(collection="docs"))
    stub.Delete(vector_pb2.DeleteRequest(collection="docs", ids=vector_pb2.PointIdList(ids=[common_pb2.PointId(num=7)])))
    queries = [[i % 5, i % 3, i % 9, 1] for i in range(10)]
    expected = _search(stub, queries)
    _kill(server)
    path = data / "collections" / "docs" / "snapshots" / newest.name
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 2] ^= 0x20
    path.write_bytes(bytes(damaged))

    server = RunningServer([], data)
    try:
        line = _recovered_line(server)
        assert newest.name in line and "skipped_snapshots" in line, line
        stub = _stub(server)
        assert stub.Count(vector_pb2.CountRequest(collection="docs")).count == 399
        assert _search(stub, queries) == expected
    finally:
        server.stop()


def _start_fails(data):
    result = subprocess.run([os.environ["RUVECTOR_SERVER_BINARY"], "--listen", "127.0.0.1:0", "--data-dir", str(data)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0, result.stdout
    return result.stderr


def test_files_of_a_newer_format_are_refused_at_start(tmp_path):
    data = tmp_path / "data"
    server, stub = _populated(data, range(1, 21))
    snapshot = stub.CreateSnapshot(vector_pb2.CreateSnapshotRequest(collection="docs"))
    assert server.stop() == 0
    folder = data / "collections" / "docs"
    for path in [folder / "snapshots" / snapshot.name, sorted((folder / "wal").glob("wal-*.log"))[0]]:
        original = path.read_bytes()
        newer = bytearray(original)
        newer[8] = 99                       # the format version, after the 8-byte magic
        path.write_bytes(bytes(newer))
        stderr = _start_fails(data)
        assert "format version 99" in stderr and "upgrade ruvector-server" in stderr, stderr
        path.write_bytes(original)
    # Nothing was changed by the refused starts.
    server = RunningServer([], data)
    try:
        assert _stub(server).Count(vector_pb2.CountRequest(collection="docs")).count == 20
    finally:
        server.stop()


def test_upload_of_a_newer_format_is_failed_precondition(server):
    stub = _stub(server)
    stub.CreateCollection(vector_pb2.CreateCollectionRequest(name="docs", dimension=4, metric=vector_pb2.METRIC_L2))
    stub.Upsert(vector_pb2.UpsertRequest(collection="docs", points=_points(range(1, 21))))
    snapshot = stub.CreateSnapshot(vector_pb2.CreateSnapshotRequest(collection="docs"))
    data = bytearray(b"".join(c.data for c in stub.DownloadSnapshot(
        vector_pb2.DownloadSnapshotRequest(collection="docs", name=snapshot.name))))
    data[8] = 3
    upload = vector_pb2.RestoreSnapshotRequest(collection="copy", chunk=common_pb2.FileChunk(
        offset=0, data=bytes(data), trailer=common_pb2.FileTrailer(size_bytes=len(data), crc32c=crc32c(bytes(data)))))
    message = expect_status(grpc.StatusCode.FAILED_PRECONDITION, lambda: stub.RestoreSnapshot(iter([upload])))
    assert "format version 3" in message and "upgrade" in message
    assert [c.name for c in stub.ListCollections(vector_pb2.ListCollectionsRequest()).collections] == ["docs"]


def test_automatic_snapshots_bound_what_a_crash_leaves_to_replay(tmp_path):
    """With --auto-snapshot-changes 2000, an import of 20,000 points is snapshotted in the
    background as it goes (the log says why each was taken): a SIGKILL right after leaves at
    most the bound plus what was written while the last snapshot ran, never the whole import."""
    data = tmp_path / "data"
    server = RunningServer(["--wal-sync", "never", "--auto-snapshot-changes", "2000", "--auto-snapshot-replay-millis", "0"],
                           data)
    stub = _stub(server)
    stub.CreateCollection(vector_pb2.CreateCollectionRequest(name="docs", dimension=4, metric=vector_pb2.METRIC_L2))
    for first in range(0, 20_000, 500):
        stub.Upsert(vector_pb2.UpsertRequest(collection="docs", points=_points(range(first, first + 500))))
    deadline = time.monotonic() + 10
    while sum("automatic snapshot" in line and "reason=changes" in line for line in server.stderr_lines) < 5:
        assert time.monotonic() < deadline, "".join(server.stderr_lines[-20:])
        time.sleep(0.05)
    _kill(server)
    server = RunningServer([], data)
    try:
        line = _recovered_line(server)
        replayed = int(re.search(r"replayed_records=(\d+)", line).group(1))
        assert replayed < 20, line              # 40 writes in all; at most 2000 points owed + one snapshot's worth
        assert _stub(server).Count(vector_pb2.CountRequest(collection="docs")).count == 20_000
    finally:
        server.stop()
