"""Cluster snapshots of a sharded collection: create, list, download, restore (issue 18).

A 3-node cluster, a collection of 6 shards with 2 copies each and 2,000 random 16-d points.
CreateSnapshot through a node that is not the Raft leader; the file downloaded through
another node; the collection deleted and the file restored through a third: every point (id,
vector, payload) identical, exact search equal to a NumPy brute force, the same shard count.
Writes running during CreateSnapshot: the snapshot holds every write acknowledged before the
call. Hostile uploads (cut, a byte flipped, a manifest claiming 10^6 shards or another
dimension) are refused with INVALID_ARGUMENT and create nothing. A primary killed or frozen
during CreateSnapshot gives a clear error or a complete snapshot, never a listed partial one; a
shard with no live copy fails the call with UNAVAILABLE naming it. A
single server's snapshot restores on a cluster (sharded), a cluster snapshot on a single server
(merged).
"""
from __future__ import annotations

import struct
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import ruvector
from harness import Cluster, make_cluster  # noqa: F401 (fixture)
from ruvector.crc import crc32c
from shards import shard_map, wait_listed
from test_cli import run, run_json

pytestmark = pytest.mark.cluster

SHARDS = 6
DIMENSION = 16
POINTS = 2000
K = 10
NAME = "docs"


def _data(seed: int = 31) -> tuple[np.ndarray, list[int], list[dict]]:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((POINTS, DIMENSION)).astype("<f4")
    ids = list(range(1, POINTS + 1))
    payloads = [{"group": i % 7, "tag": f"t{i}", "score": i / 8} for i in ids]
    return vectors, ids, payloads


def _fill(db: ruvector.Client, name: str, vectors: np.ndarray, ids: list[int], payloads: list[dict]) -> None:
    for start in range(0, len(ids), 500):
        db.upsert(name, ids[start:start + 500], vectors[start:start + 500], payloads[start:start + 500])


def _points(db: ruvector.Client, name: str) -> dict[int, tuple[list[float], dict]]:
    """Every point of `name`: id -> (vector, payload), read from the primaries."""
    ids = [r.id for r in db.scroll(name, page_size=500, with_payload=False)]
    found: dict[int, tuple[list[float], dict]] = {}
    for start in range(0, len(ids), 1000):
        for record in db.get(name, ids[start:start + 1000], with_vectors=True):
            found[record.id] = (list(np.array(record.vector, dtype="<f4")), record.payload)
    return found


def _non_leaders(cluster: Cluster) -> list[int]:
    leader = cluster.leader(timeout=5, everyone=True)
    return [n for n in cluster.nodes if n != leader]


def _exact_top(vectors: np.ndarray, ids: list[int], query: np.ndarray) -> list[int]:
    distances = ((vectors.astype("f8") - query.astype("f8")) ** 2).sum(axis=1)
    return [ids[n] for n in np.argsort(distances, kind="stable")[:K]]


def _filled_cluster(make_cluster) -> tuple[Cluster, np.ndarray, list[int], list[dict]]:
    """Three nodes (no proxies) and collection NAME: SHARDS shards of 2 copies, the points of `_data`."""
    cluster = make_cluster(3, proxied=False)
    cluster.leader(timeout=5, everyone=True)
    vectors, ids, payloads = _data()
    cluster.client(1).create_collection(NAME, DIMENSION, "l2", shards=SHARDS, replication_factor=2)
    wait_listed(cluster, NAME)
    _fill(cluster.client(1), NAME, vectors, ids, payloads)
    return cluster, vectors, ids, payloads


def test_snapshot_download_delete_restore_through_three_nodes(make_cluster, tmp_path: Path) -> None:
    cluster, vectors, ids, payloads = _filled_cluster(make_cluster)
    first, second = _non_leaders(cluster)
    third = next(n for n in cluster.nodes if n not in (first, second))
    before = _points(cluster.client(1), NAME)
    assert len(before) == POINTS

    started = time.monotonic()
    info = cluster.client(first).create_snapshot(NAME, timeout=60)
    print(f"cluster snapshot of {POINTS} points in {SHARDS} shards: {info.size_bytes} bytes, "
          f"{time.monotonic() - started:.2f} s through node {first}")
    assert info.name.startswith("cluster-") and info.name.endswith(f"-n{first}.rvcsnap")
    for node in cluster.nodes:
        assert info.name in [s.name for s in cluster.client(node).list_snapshots(NAME)], node
    path = tmp_path / "docs.rvcsnap"
    assert cluster.client(second).download_snapshot(NAME, info.name, path) == info.size_bytes
    assert crc32c(path.read_bytes()) == info.crc32c

    cluster.client(second).delete_collection(NAME)
    # The backup outlives the collection.
    assert info.name in [s.name for s in cluster.client(third).list_snapshots(NAME)]
    restored = cluster.client(third).restore_snapshot(NAME, path, timeout=120)
    assert (restored.shards, restored.points_count) == (SHARDS, POINTS)
    wait_listed(cluster, NAME)
    assert len(shard_map(cluster, NAME)) == SHARDS
    for node in cluster.nodes:
        assert cluster.client(node).count(NAME) == POINTS, node
    assert _points(cluster.client(second), NAME) == before
    rng = np.random.default_rng(5)
    for query in rng.standard_normal((10, DIMENSION)).astype("<f4"):
        hits = cluster.client(first).search(NAME, query, k=K, exact=True)
        assert [h.id for h in hits] == _exact_top(vectors, ids, query)

    # Restoring onto a collection that exists is refused; by name into a new one it works.
    with pytest.raises(ruvector.FailedPrecondition):
        cluster.client(first).restore_snapshot(NAME, path)
    cluster.client(first).delete_collection(NAME)
    cluster.client(second).restore_snapshot(NAME, name=info.name, timeout=120)
    assert _points(cluster.client(third), NAME) == before


def test_writes_during_create_snapshot(make_cluster, tmp_path: Path) -> None:
    cluster, vectors, ids, payloads = _filled_cluster(make_cluster)
    first, _ = _non_leaders(cluster)
    acknowledged: list[int] = []
    stop = threading.Event()

    def write() -> None:
        db = cluster.client(3)
        next_id = 100_000
        while not stop.is_set():
            batch = list(range(next_id, next_id + 20))
            db.upsert(NAME, batch, np.full((20, DIMENSION), 0.25, dtype="<f4"), [{"w": i} for i in batch])
            acknowledged.extend(batch)
            next_id += 20

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        time.sleep(0.5)
        before_call = list(acknowledged)
        info = cluster.client(first).create_snapshot(NAME, timeout=60)
    finally:
        stop.set()
        writer.join(timeout=30)
    assert before_call, "the writer acknowledged nothing before the snapshot"
    path = tmp_path / "during.rvcsnap"
    cluster.client(2).download_snapshot(NAME, info.name, path)
    cluster.client(2).restore_snapshot("copy", path, timeout=120)
    restored = _points(cluster.client(2), "copy")
    missing = set(before_call) - set(restored)
    assert not missing, f"{len(missing)} writes acknowledged before CreateSnapshot are not in it"
    assert set(restored) <= set(ids) | set(acknowledged) | set(range(100_000, 100_000 + len(acknowledged) + 20))
    print(f"{len(acknowledged)} writes during the snapshot; {len(before_call)} acknowledged before the call, "
          f"{len(restored) - POINTS} in the snapshot")


def _bundle(parts: list[bytes], manifest: bytes) -> bytes:
    """A snapshot bundle as docs/storage-format.md defines it (checksums right)."""
    body = b"RVBUNDL1" + struct.pack("<II", 1, 0)
    offsets = []
    for part in parts:
        offsets.append((len(body), len(part), crc32c(part)))
        body += part
    directory = struct.pack("<I", len(parts))
    for offset, size, crc in offsets:
        directory += struct.pack("<QQI", offset, size, crc)
    directory += struct.pack("<Q", len(manifest)) + manifest
    tail = directory + struct.pack("<QII", len(body), len(directory), crc32c(directory)) + b"RVBNDEND"
    whole = body + tail
    return whole + struct.pack("<I", crc32c(whole))


def _split(bundle: bytes) -> tuple[list[bytes], bytes]:
    """The parts and manifest of a valid bundle."""
    offset, length, _ = struct.unpack("<QII", bundle[-28:-12])
    directory = bundle[offset:offset + length]
    (count,) = struct.unpack("<I", directory[:4])
    parts = []
    for n in range(count):
        start, size, _ = struct.unpack("<QQI", directory[4 + 20 * n:24 + 20 * n])
        parts.append(bundle[start:start + size])
    (manifest_length,) = struct.unpack("<Q", directory[4 + 20 * count:12 + 20 * count])
    return parts, directory[12 + 20 * count:12 + 20 * count + manifest_length]


def _manifest_with(manifest: bytes, *, shards: int | None = None, dimension: int | None = None) -> bytes:
    """`manifest` with its shard count or dimension field replaced (layout: version, collection,
    created, node, request, dimension, metric, replication factor, shard count, shards)."""
    at = 4
    (name_length,) = struct.unpack("<I", manifest[at:at + 4])
    at += 4 + name_length + 16
    (request_length,) = struct.unpack("<Q", manifest[at:at + 8])
    at += 8 + request_length
    out = bytearray(manifest)
    if dimension is not None:
        out[at:at + 4] = struct.pack("<I", dimension)
    if shards is not None:
        out[at + 12:at + 16] = struct.pack("<I", shards)
    return bytes(out)


def test_hostile_uploads_are_refused_and_create_nothing(make_cluster, tmp_path: Path) -> None:
    cluster = make_cluster(3, proxied=False)
    cluster.leader(timeout=5, everyone=True)
    vectors, ids, payloads = _data()
    db = cluster.client(2)
    db.create_collection(NAME, DIMENSION, "l2", shards=3, replication_factor=2)
    wait_listed(cluster, NAME)
    _fill(db, NAME, vectors[:300], ids[:300], payloads[:300])
    info = db.create_snapshot(NAME, timeout=60)
    good = tmp_path / "good.rvcsnap"
    db.download_snapshot(NAME, info.name, good)
    bundle = good.read_bytes()
    assert _bundle(*_split(bundle)) == bundle, "the test's bundle writer disagrees with the server's format"
    parts, manifest = _split(bundle)
    flipped = bytearray(bundle)
    flipped[len(bundle) // 3] ^= 0x40
    hostile = {
        "cut": bundle[:len(bundle) - 1000],
        "flipped": bytes(flipped),
        "a million shards": _bundle(parts, _manifest_with(manifest, shards=1_000_000)),
        "another dimension": _bundle(parts, _manifest_with(manifest, dimension=DIMENSION + 1)),
        "a part missing": _bundle(parts[:-1], manifest),
        "not a snapshot": b"hello" * 100,
    }
    for what, data in hostile.items():
        path = tmp_path / "hostile.bin"
        path.write_bytes(data)
        with pytest.raises(ruvector.InvalidArgument):
            db.restore_snapshot("hostile", path, timeout=30)
        assert "hostile" not in {c.name for c in db.list_collections()}, what
    assert db.count(NAME) == 300
    assert cluster.live_ids() == list(cluster.nodes)
    for node in cluster.nodes:
        assert cluster.client(node).count(NAME) == 300, node


def _snapshot_in_background(db: ruvector.Client, name: str) -> tuple[threading.Thread, dict[str, object]]:
    """CreateSnapshot of `name` on a thread; the outcome lands in the dict ("info" or "error")."""
    outcome: dict[str, object] = {}

    def snapshot() -> None:
        started = time.monotonic()
        try:
            outcome["info"] = db.create_snapshot(name, timeout=60)
        except ruvector.RuVectorError as error:
            outcome["error"] = error
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=snapshot, daemon=True)
    thread.start()
    return thread, outcome


def _listed_snapshots_restore_in_full(cluster: Cluster, via: int, tmp_path: Path, points: int) -> int:
    """Restores every listed cluster snapshot of NAME under a new name: each must hold every point."""
    listed = cluster.client(via).list_snapshots(NAME)
    for n, snapshot_info in enumerate(listed):
        path = tmp_path / f"{n}.rvcsnap"
        cluster.client(via).download_snapshot(NAME, snapshot_info.name, path)
        cluster.client(via).restore_snapshot(f"check-{n}", path, timeout=120)
        assert cluster.client(via).count(f"check-{n}") == points, snapshot_info.name
    return len(listed)


@pytest.mark.parametrize("fault", ["killed", "paused"])
def test_primary_lost_during_create_snapshot(make_cluster, tmp_path: Path, fault: str) -> None:
    """The victim is paused first, so the call is certainly waiting on it when it dies (or stays
    frozen); the leader then promotes its shards' replicas and the snapshot goes on there."""
    cluster, vectors, ids, payloads = _filled_cluster(make_cluster)
    caller, _ = _non_leaders(cluster)
    victim = next(s.primary for s in shard_map(cluster, NAME).values() if s.primary != caller)
    cluster.pause(victim)
    thread, outcome = _snapshot_in_background(cluster.client(caller), NAME)
    time.sleep(0.3)
    assert thread.is_alive(), "CreateSnapshot did not wait for the paused primary"
    if fault == "killed":
        cluster.kill(victim)
    thread.join(timeout=90)
    assert not thread.is_alive()
    if "error" in outcome:
        error = outcome["error"]
        print(f"CreateSnapshot, primary {victim} {fault}: {type(error).__name__}: {error} after {outcome['seconds']:.2f} s")
        assert isinstance(error, ruvector.Unavailable) and "shard" in str(error), error
    else:
        print(f"CreateSnapshot, primary {victim} {fault}: complete after failover, {outcome['seconds']:.2f} s")
        assert outcome["info"].name in [s.name for s in cluster.client(caller).list_snapshots(NAME)]
    # Every listed snapshot is complete (with every node back, so the restored collections'
    # primaries are alive).
    if fault == "killed":
        cluster.restart(victim)
    else:
        cluster.resume(victim)
    _listed_snapshots_restore_in_full(cluster, caller, tmp_path, POINTS)


def test_a_shard_without_a_live_copy_fails_the_snapshot_naming_it(make_cluster, tmp_path: Path) -> None:
    """Replication factor 1: a dead node's shards have no other copy, so no failover. The call
    fails with UNAVAILABLE naming a shard, and no snapshot (nor a partial file) is left."""
    cluster = make_cluster(3, proxied=False)
    cluster.leader(timeout=5, everyone=True)
    vectors, ids, payloads = _data()
    db = cluster.client(1)
    db.create_collection(NAME, DIMENSION, "l2", shards=SHARDS, replication_factor=1)
    wait_listed(cluster, NAME)
    _fill(db, NAME, vectors, ids, payloads)
    caller, _ = _non_leaders(cluster)
    victim = next(s.primary for s in shard_map(cluster, NAME).values() if s.primary != caller)
    cluster.kill(victim)
    started = time.monotonic()
    with pytest.raises(ruvector.Unavailable) as failure:
        cluster.client(caller).create_snapshot(NAME, timeout=60)
    print(f"CreateSnapshot with node {victim} (sole copy of some shards) dead: {failure.value} "
          f"after {time.monotonic() - started:.2f} s")
    assert f"of '{NAME}'" in str(failure.value) or NAME in str(failure.value)
    assert "shard" in str(failure.value)
    assert cluster.client(caller).list_snapshots(NAME) == []
    folder = cluster.nodes[caller].data_dir / "cluster-snapshots" / NAME
    assert not folder.exists() or not any(folder.iterdir()), sorted(folder.iterdir())


def test_snapshots_move_between_a_single_server_and_a_cluster(make_cluster, server, tmp_path: Path) -> None:
    """A single server's snapshot restored on a cluster is sharded (one shard per node); a
    cluster snapshot restored on a single server merges its shards (creating, or replacing)."""
    vectors, ids, payloads = _data()
    vectors, ids, payloads = vectors[:600], ids[:600], payloads[:600]
    solo_file, bundle_file = tmp_path / "solo.rvsnap", tmp_path / "solo.rvcsnap"
    with ruvector.Client(server.address, timeout=60) as single:
        single.create_collection("solo", DIMENSION, "l2")
        _fill(single, "solo", vectors, ids, payloads)
        original = _points(single, "solo")
        single.download_snapshot("solo", single.create_snapshot("solo").name, solo_file)

        cluster = make_cluster(3, proxied=False)
        cluster.leader(timeout=5, everyone=True)
        info = cluster.client(2).restore_snapshot("solo", solo_file, timeout=120)
        assert info.shards == 3
        wait_listed(cluster, "solo")
        for node in cluster.nodes:
            assert cluster.client(node).count("solo") == len(ids), node
        assert _points(cluster.client(3), "solo") == original
        snapshot = cluster.client(1).create_snapshot("solo", timeout=60)
        cluster.client(1).download_snapshot("solo", snapshot.name, bundle_file)

        single.restore_snapshot("merged", bundle_file, timeout=120)
        assert _points(single, "merged") == original
        single.delete("solo", ids[:100])
        single.restore_snapshot("solo", bundle_file, timeout=120)
        assert _points(single, "solo") == original
        hits = single.search("merged", vectors[7], k=K, exact=True)
        assert [h.id for h in hits] == _exact_top(vectors, ids, vectors[7])


def test_cluster_snapshots_through_the_cli(make_cluster, tmp_path: Path) -> None:
    cluster, vectors, ids, payloads = _filled_cluster(make_cluster)
    first, second, third = (cluster.nodes[n] for n in (1, 2, 3))
    created = run_json("snapshot", "create", "--collection", NAME, server=second)
    assert len(created) == 1 and created[0]["name"].endswith("-n2.rvcsnap")
    name = created[0]["name"]
    assert name in [s["name"] for s in run_json("snapshot", "list", "--collection", NAME, server=third)]
    _, table, _ = run("snapshot", "list", "--collection", NAME, server=first, check=True)
    assert name in table
    out_file = tmp_path / "docs.rvcsnap"
    downloaded = run_json("snapshot", "download", "--collection", NAME, "--name", name, "--output", out_file, server=third)
    assert downloaded["size_bytes"] == created[0]["size_bytes"] == out_file.stat().st_size
    cluster.client(1).delete_collection(NAME)
    restored = run_json("snapshot", "restore", "--collection", NAME, "--file", out_file, server=first)
    assert restored["points_count"] == POINTS and restored["shards"] == SHARDS
    cluster.client(1).delete_collection(NAME)
    by_name = run_json("snapshot", "restore", "--collection", NAME, "--name", name, server=third)
    assert by_name["points_count"] == POINTS
