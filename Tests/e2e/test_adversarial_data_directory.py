"""Attacks on the data directory (issue 16): a second server on the same --data-dir, names that
try to reach outside it (or create folders before they are refused), and errors that would hand
a client the server's paths.

Every refused request must leave the whole data directory, and any /tmp target a traversal
aims at, byte for byte as it was: each test lists every path with its size and mtime before
and after."""
import os
import re
import signal
import subprocess
import threading
import time
import uuid

import grpc
import pytest
from ruvector.v1 import common_pb2, graph_pb2, graph_pb2_grpc, vector_pb2, vector_pb2_grpc

import ruvector
from adversarial import Guard, assert_healthy
from conftest import RunningServer, expect_status

BINARY = os.environ.get("RUVECTOR_SERVER_BINARY", "")


def tree(root, skip=("collections/canary",)):
    """Every path under `root` (the canary's own folder aside: it writes during the attack) with
    its type, size and mtime in nanoseconds."""
    listing = {}
    for folder, dirs, files in os.walk(root):
        relative = os.path.relpath(folder, root)
        if any(relative == s or relative.startswith(s + "/") for s in skip):
            dirs[:] = []
            continue
        for name in dirs + files:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            listing[os.path.relpath(path, root)] = (info.st_mode, info.st_size, info.st_mtime_ns)
    return listing


def _points(ids):
    return [vector_pb2.PointStruct(id=common_pb2.PointId(num=i), vector=common_pb2.Vector(values=[i % 7, i % 5, 1, 2]))
            for i in ids]


def _start_second(data, timeout=20):
    """Starts a second server on `data`; returns (process, first stdout line or '' if it exited)."""
    process = subprocess.Popen([BINARY, "--listen", "127.0.0.1:0", "--data-dir", str(data)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return process, (line[0] if line else "")


def test_a_second_server_on_the_same_data_directory_exits_at_once_naming_the_first(tmp_path):
    """The attack: two servers on one --data-dir, the second acknowledges 100 points, a restart
    loses them. Now the second never starts: it exits non-zero at once, naming the first
    server's pid, and every acknowledged point is there after the restart."""
    data = tmp_path / "data"
    first = RunningServer(["--wal-sync", "always"], data)
    acknowledged = []
    second = None
    second_served = False
    try:
        with Guard(first, rss_slack_bytes=128 << 20):
            stub = vector_pb2_grpc.VectorServiceStub(grpc.insecure_channel(first.address))
            stub.CreateCollection(vector_pb2.CreateCollectionRequest(name="docs", dimension=4, metric=vector_pb2.METRIC_L2))
            stub.Upsert(vector_pb2.UpsertRequest(collection="docs", points=_points(range(0, 100))))
            acknowledged += range(0, 100)
            started = time.monotonic()
            second, line = _start_second(data)
            if "listening on" in line:
                # The bug: it serves. Write through it as the attacker did; the restart below shows the loss.
                second_served = True
                address = re.search(r"listening on (\S+)", line).group(1)
                other = vector_pb2_grpc.VectorServiceStub(grpc.insecure_channel(address))
                other.Upsert(vector_pb2.UpsertRequest(collection="docs", points=_points(range(100, 200))))
                acknowledged += range(100, 200)
                second.terminate()
            code = second.wait(timeout=20)
            stderr = second.stderr.read()
            exited = time.monotonic() - started
            # The first one goes on taking writes.
            stub.Upsert(vector_pb2.UpsertRequest(collection="docs", points=_points(range(200, 300))))
            acknowledged += range(200, 300)
    finally:
        if second and second.poll() is None:
            second.kill()
            second.wait()
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
    restarted = RunningServer([], data)
    try:
        stub = vector_pb2_grpc.VectorServiceStub(grpc.insecure_channel(restarted.address))
        got = stub.Get(vector_pb2.GetRequest(collection="docs", ids=[common_pb2.PointId(num=i) for i in acknowledged]))
        lost = set(acknowledged) - {p.id.num for p in got.points}
        assert not lost, f"{len(lost)} acknowledged points lost after the restart"
        assert f"pid={restarted.process.pid}\n" in (data / "LOCK").read_text()
    finally:
        restarted.stop()
    assert not second_served and code != 0, "the second server started on a data directory in use"
    assert exited < 10, f"the second server took {exited:.1f} s to give up"
    assert f"is in use by ruvector-server pid {first.process.pid} (started " in stderr, stderr
    assert "stop it or use another --data-dir" in stderr, stderr


# Every class of refused name (issue 16): traversal, separators, empty, too long, NUL and
# control characters, non-ASCII, leading dot (the catalog's own .restore-/.replaced-), . and ..,
# reserved file names.
ESCAPE = f"ruvector-escape-{uuid.uuid4().hex[:12]}"
BAD_NAMES = {
    "traversal": f"../../../../tmp/{ESCAPE}",
    "parent": "..",
    "current": ".",
    "parent-prefix": "../x",
    "slash": "a/b",
    "absolute": f"/tmp/{ESCAPE}",
    "backslash": "a\\b",
    "empty": "",
    "too-long-256": "n" * 256,
    "too-long-201": "n" * 201,
    "control": "tab\tname",
    "newline": "line\nname",
    "non-ascii": "caf\u00e9",
    "leading-dot": ".hidden",
    "restore-staging": ".restore-docs",
    "replaced-staging": ".replaced-docs",
    "reserved-file": "collection.bin",
    "lock-file": "LOCK.",
    "snapshot-file": "snapshot-00000000000000000001.rvsnap",
}
# protobuf-c refuses strings with NUL before any handler runs (INVALID_ARGUMENT too).
NUL_NAME = "nul\x00name"


def _snapshot_file(stub):
    """A valid snapshot file of collection 'docs' (to upload under refused names)."""
    info = stub.CreateSnapshot(vector_pb2.CreateSnapshotRequest(collection="docs"))
    return b"".join(c.data for c in stub.DownloadSnapshot(
        vector_pb2.DownloadSnapshotRequest(collection="docs", name=info.name))), info.name


COLLECTION_RULE = "1 to 200 characters of A-Z a-z 0-9 _ -"
SNAPSHOT_RULE = "is not a snapshot name"


def _name_calls(stub, name, upload, snapshot_name):
    """Every RPC that takes a collection or snapshot name, called with `name` there: (rpc, what
    the refusal must say a valid name is, call)."""
    def restore_upload():
        chunks = [vector_pb2.RestoreSnapshotRequest(collection=name, chunk=common_pb2.FileChunk(
            offset=0, data=upload, trailer=common_pb2.FileTrailer(size_bytes=len(upload), crc32c=ruvector.crc32c(upload))))]
        return stub.RestoreSnapshot(iter(chunks))
    query = common_pb2.Vector(values=[1, 2, 3, 4])
    calls = [
        ("CreateCollection", lambda: stub.CreateCollection(
            vector_pb2.CreateCollectionRequest(name=name, dimension=4, metric=vector_pb2.METRIC_L2))),
        ("GetCollection", lambda: stub.GetCollection(vector_pb2.GetCollectionRequest(name=name))),
        ("DeleteCollection", lambda: stub.DeleteCollection(vector_pb2.DeleteCollectionRequest(name=name))),
        ("Upsert", lambda: stub.Upsert(vector_pb2.UpsertRequest(collection=name, points=_points([1])))),
        ("UpsertStream", lambda: stub.UpsertStream(iter([vector_pb2.UpsertRequest(collection=name, points=_points([1]))]))),
        ("Get", lambda: stub.Get(vector_pb2.GetRequest(collection=name, ids=[common_pb2.PointId(num=1)]))),
        ("Delete", lambda: stub.Delete(vector_pb2.DeleteRequest(
            collection=name, ids=vector_pb2.PointIdList(ids=[common_pb2.PointId(num=1)])))),
        ("Count", lambda: stub.Count(vector_pb2.CountRequest(collection=name))),
        ("Scroll", lambda: stub.Scroll(vector_pb2.ScrollRequest(collection=name))),
        ("Search", lambda: stub.Search(vector_pb2.SearchRequest(collection=name, vector=query, k=1))),
        ("CreateSnapshot", lambda: stub.CreateSnapshot(vector_pb2.CreateSnapshotRequest(collection=name))),
        ("ListSnapshots", lambda: stub.ListSnapshots(vector_pb2.ListSnapshotsRequest(collection=name))),
        ("DownloadSnapshot(collection)", lambda: list(stub.DownloadSnapshot(
            vector_pb2.DownloadSnapshotRequest(collection=name, name=snapshot_name)))),
        ("RestoreSnapshot(upload)", restore_upload),
        ("RestoreSnapshot(by name, collection)", lambda: stub.RestoreSnapshot(iter([
            vector_pb2.RestoreSnapshotRequest(collection=name, snapshot_name=snapshot_name)]))),
    ]
    result = [(rpc, COLLECTION_RULE, call) for rpc, call in calls]
    result += [
        ("DownloadSnapshot(name)", SNAPSHOT_RULE, lambda: list(stub.DownloadSnapshot(
            vector_pb2.DownloadSnapshotRequest(collection="docs", name=name)))),
        ("RestoreSnapshot(by name, snapshot)", SNAPSHOT_RULE, lambda: stub.RestoreSnapshot(iter([
            vector_pb2.RestoreSnapshotRequest(collection="docs", snapshot_name=name)]))),
    ]
    return result


def test_every_refused_name_on_every_rpc_is_invalid_argument_and_touches_nothing(server):
    stub = vector_pb2_grpc.VectorServiceStub(grpc.insecure_channel(server.address))
    graph = graph_pb2_grpc.GraphServiceStub(grpc.insecure_channel(server.address))
    stub.CreateCollection(vector_pb2.CreateCollectionRequest(name="docs", dimension=4, metric=vector_pb2.METRIC_L2))
    stub.Upsert(vector_pb2.UpsertRequest(collection="docs", points=_points(range(50))))
    upload, snapshot_name = _snapshot_file(stub)
    data = server.data_dir
    with Guard(server, rss_slack_bytes=128 << 20):
        before = tree(data)
        failures = []
        for kind, name in BAD_NAMES.items():
            for rpc, rule, call in _name_calls(stub, name, upload, snapshot_name):
                if rule == SNAPSHOT_RULE and kind == "snapshot-file":
                    continue    # a well-formed snapshot name: NOT_FOUND, checked below
                try:
                    call()
                    failures.append(f"{rpc} accepted the {kind} name {name[:40]!r}")
                    continue
                except grpc.RpcError as error:
                    code, message = error.code(), error.details() or ""
                if code != grpc.StatusCode.INVALID_ARGUMENT:
                    failures.append(f"{rpc} {kind}: {code} {message[:200]}")
                elif rule not in message:
                    failures.append(f"{rpc} {kind}: the message does not say what a valid name is: {message[:200]}")
                if len(message) > 300:
                    failures.append(f"{rpc} {kind}: a {len(message)}-character message echoes the whole name")
                if os.path.abspath(data) in message:
                    failures.append(f"{rpc} {kind}: the message holds the server's path")
        assert not failures, "\n".join(failures)
        # A well-formed snapshot name that does not exist: NOT_FOUND, nothing created either.
        expect_status(grpc.StatusCode.NOT_FOUND, lambda: list(stub.DownloadSnapshot(vector_pb2.DownloadSnapshotRequest(
            collection="docs", name="snapshot-00000000000000099999.rvsnap"))))
        expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.CreateCollection(
            vector_pb2.CreateCollectionRequest(name=NUL_NAME, dimension=4, metric=vector_pb2.METRIC_L2)))
        # Graph index names are not paths, but a refused one logs nothing either.
        for name in ["", "i" * 300]:
            expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: graph.CreateIndex(graph_pb2.CreateIndexRequest(
                name=name, label="Doc", property="v", property_index=graph_pb2.PropertyIndexConfig())))
        # A refused configuration under a valid name creates no folder either.
        expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.CreateCollection(vector_pb2.CreateCollectionRequest(
            name="fresh", dimension=4, metric=vector_pb2.METRIC_L2, hnsw=vector_pb2.HnswConfig(m=1))))
        after = tree(data)
        assert after == before, {k: (before.get(k), after.get(k)) for k in set(before) | set(after)
                                 if before.get(k) != after.get(k)}
        assert not os.path.exists(f"/tmp/{ESCAPE}"), "a traversal created a folder outside the data directory"
    assert stub.Count(vector_pb2.CountRequest(collection="docs")).count == 50


def test_a_256_character_name_is_invalid_argument_without_the_servers_path(server):
    """The issue's case: INTERNAL with the absolute path before; now INVALID_ARGUMENT that says
    what a valid name is and echoes the name cut short."""
    stub = vector_pb2_grpc.VectorServiceStub(grpc.insecure_channel(server.address))
    with Guard(server, rss_slack_bytes=128 << 20):
        message = expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.CreateCollection(
            vector_pb2.CreateCollectionRequest(name="x" * 256, dimension=4, metric=vector_pb2.METRIC_L2)))
    assert "1 to 200 characters of A-Z a-z 0-9 _ -" in message and "256 bytes long" in message, message
    assert "x" * 64 + "…" in message and "x" * 65 not in message, message
    assert os.path.abspath(server.data_dir) not in message and "/" not in message.split("characters")[0], message
    assert not os.path.exists(server.data_dir / "collections" / ("x" * 256))


def test_an_io_error_names_what_failed_but_not_the_servers_path(server):
    """A storage failure (here: a file where the snapshots folder should be, so writing a
    snapshot fails even as root) reaches the client as INTERNAL naming the collection and the
    file, never the data directory's absolute path; the server's log has the path."""
    stub = vector_pb2_grpc.VectorServiceStub(grpc.insecure_channel(server.address))
    stub.CreateCollection(vector_pb2.CreateCollectionRequest(name="docs", dimension=4, metric=vector_pb2.METRIC_L2))
    stub.Upsert(vector_pb2.UpsertRequest(collection="docs", points=_points(range(20))))
    snapshots = server.data_dir / "collections" / "docs" / "snapshots"
    with Guard(server, rss_slack_bytes=128 << 20):
        os.rmdir(snapshots)
        snapshots.write_bytes(b"not a folder")
        message = expect_status(grpc.StatusCode.INTERNAL,
                                lambda: stub.CreateSnapshot(vector_pb2.CreateSnapshotRequest(collection="docs")))
        snapshots.unlink()
        snapshots.mkdir()
    absolute = os.path.abspath(server.data_dir)
    assert absolute not in message and "/tmp" not in message, message
    assert "collection 'docs'" in message and "Not a directory" in message, message
    deadline = time.monotonic() + 5
    while not any("storage failure" in line and absolute in line for line in server.stderr_lines):
        assert time.monotonic() < deadline, "".join(server.stderr_lines[-20:])
        time.sleep(0.05)
    assert stub.CreateSnapshot(vector_pb2.CreateSnapshotRequest(collection="docs")).name
