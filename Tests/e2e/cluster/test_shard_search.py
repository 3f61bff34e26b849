"""Reads and writes routed across the shards of a 3-node cluster, against exact answers.

Two collections of 6 shards, one with 3 copies per shard and one with 1, get the same 3,000
random 32-d points, written through the three nodes in turn. Through every node, reading from
the primaries and from any copy: Count, Get (vectors and payloads), Scroll (every point
exactly once), exact search equal to a NumPy brute force (ids and scores), HNSW search at the
default ef with recall@10 at least the single-server floor of the e2e tests (0.9,
test_bulk_import.py), filtered search; then Delete by ids and by filter, routed to every
shard, and the same checks on what is left. Once the writes settle, every copy of a shard has
its primary's checksum (ShardStatus), and each shard holds the points `shards.shard_of` puts
there (the client-side placement rule agrees with the server's).
"""
from __future__ import annotations

import numpy as np
import pytest

import ruvector
from harness import Cluster, make_cluster  # noqa: F401 (fixture)
from shards import copies, shard_map, shard_of, wait_converged, wait_listed, xxh64

pytestmark = pytest.mark.cluster

SHARDS = 6
DIMENSION = 32
POINTS = 3000
QUERIES = 20
K = 10
#: recall@10 of HNSW at the default ef that the single-server e2e tests hold (test_bulk_import.py).
RECALL_FLOOR = 0.9
COLLECTIONS = {"rf3": 3, "rf1": 1}
READ_FROM = ["primary", "any"]


def _data(seed: int = 18) -> tuple[np.ndarray, list[int], list[dict]]:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((POINTS, DIMENSION)).astype("<f4")
    ids = list(range(1, POINTS + 1))
    payloads = [{"group": i % 10, "parity": "even" if i % 2 == 0 else "odd"} for i in ids]
    return vectors, ids, payloads


def _exact(vectors: np.ndarray, ids: list[int], query: np.ndarray,
           keep: list[bool] | None = None) -> list[tuple[int, float]]:
    """The K nearest (id, score) by L2, as the server scores them (minus the squared distance)."""
    distances = ((vectors.astype("f8") - query.astype("f8")) ** 2).sum(axis=1)
    order = [n for n in np.argsort(distances, kind="stable") if keep is None or keep[n]][:K]
    return [(ids[n], -float(distances[n])) for n in order]


def _check_exact(hits: list[ruvector.Hit], expected: list[tuple[int, float]], where: str) -> None:
    assert [h.id for h in hits] == [i for i, _ in expected], where
    for hit, (_, score) in zip(hits, expected):
        assert hit.score == pytest.approx(score, rel=1e-4, abs=1e-3), where


def _check_points(cluster: Cluster, name: str, vectors: np.ndarray, ids: list[int], payloads: list[dict],
                  alive: list[bool]) -> None:
    """Count, Get, Scroll and search through every node, from primaries and from any copy,
    against the points still `alive`."""
    live_ids = [i for i, a in zip(ids, alive) if a]
    rng = np.random.default_rng(7)
    queries = rng.standard_normal((QUERIES, DIMENSION)).astype("<f4")
    exact = [_exact(vectors, ids, q, alive) for q in queries]
    group3 = [a and p["group"] == 3 for a, p in zip(alive, payloads)]
    primary_answers: dict[int, list[list[int]]] = {}
    recalls: list[float] = []
    for node in cluster.nodes:
        db = cluster.client(node)
        for read_from in READ_FROM:
            where = f"{name} through node {node}, read_from {read_from}"
            assert db.count(name, read_from=read_from) == len(live_ids), where
            assert db.count(name, {"group": 3}, read_from=read_from) == sum(group3), where
            scrolled = [r.id for r in db.scroll(name, page_size=128, with_payload=False, read_from=read_from)]
            assert len(scrolled) == len(set(scrolled)) and sorted(scrolled) == live_ids, where
            for n, query in enumerate(queries):
                _check_exact(db.search(name, query, k=K, exact=True, read_from=read_from), exact[n], where)
            _check_exact(db.search(name, queries[0], k=K, exact=True, filter={"group": 3}, read_from=read_from),
                         _exact(vectors, ids, queries[0], group3), where + ", filter group 3")
            answers = [[h.id for h in db.search(name, q, k=K, read_from=read_from)] for q in queries]
            found = sum(len(set(a) & {i for i, _ in e}) for a, e in zip(answers, exact))
            assert found / (K * QUERIES) >= RECALL_FLOOR, f"{where}: recall@10 {found / (K * QUERIES):.3f}"
            recalls.append(found / (K * QUERIES))
            if read_from == "primary":
                primary_answers[node] = answers
    print(f"{name}, {len(live_ids)} points: HNSW recall@10 {min(recalls):.3f}-{max(recalls):.3f} "
          f"(3 nodes x primary/any, {QUERIES} queries)")
    # Every node asks the same primaries: the same HNSW answers.
    assert all(a == primary_answers[1] for a in primary_answers.values()), f"{name}: nodes disagree on HNSW results"
    # Every live point with its vector and payload, through one node per read mode.
    for node, read_from in ((2, "primary"), (3, "any")):
        records = {}
        for start in range(0, len(live_ids), 1000):
            chunk = live_ids[start:start + 1000]
            records.update({r.id: r for r in cluster.client(node).get(name, chunk, with_vectors=True, read_from=read_from)})
        assert sorted(records) == live_ids, f"{name}: Get through node {node} misses points"
        index = {point_id: n for n, point_id in enumerate(ids)}
        for point_id, record in records.items():
            assert np.array_equal(np.array(record.vector, dtype="<f4"), vectors[index[point_id]]), point_id
            assert record.payload == payloads[index[point_id]], point_id


def _check_placement(cluster: Cluster, name: str, replication: int, ids: list[int], alive: list[bool]) -> None:
    """Each shard has `replication` holders, every holder a copy with the primary's checksum,
    and the number of points `shard_of` puts in it."""
    wait_converged(cluster, name, timeout=30)
    assignments = shard_map(cluster, name)
    held = copies(cluster, name, cluster.nodes)
    assert sorted(assignments) == list(range(SHARDS))
    expected = [0] * SHARDS
    for point_id, a in zip(ids, alive):
        if a:
            expected[shard_of(point_id, SHARDS)] += 1
    for shard, assignment in assignments.items():
        holders = {assignment.primary, *assignment.replicas}
        assert len(holders) == replication, (name, assignment)
        assert set(held[shard]) == holders, f"{name} shard {shard}: copies on {sorted(held[shard])}, holders {holders}"
        assert {c.points for c in held[shard].values()} == {expected[shard]}, (name, shard, held[shard], expected[shard])


def test_shard_placement_rule_matches_the_servers_golden_values() -> None:
    """shards.shard_of against PlacementShardTests' and PlacementHashTests' pinned values."""
    assert xxh64(b"abc") == 0x44BC2CF5AD770999
    assert xxh64(bytes((i * 31 + 7) % 256 for i in range(100))) == 0xEFA0AD2D3E70C151
    assert xxh64(bytes((i * 31 + 7) % 256 for i in range(33)), seed=0x0123456789ABCDEF) == 0x1CBD9F0A49F557E8
    for point_id, of8, of100 in ((0, 2, 31), (1, 3, 47), (7, 2, 29), (42, 4, 56), (1000, 3, 41), (2 ** 64 - 1, 2, 33)):
        assert (shard_of(point_id, 8), shard_of(point_id, 100), shard_of(point_id, 1)) == (of8, of100, 0), point_id


def test_reads_and_writes_routed_across_shards_match_brute_force(make_cluster) -> None:
    cluster = make_cluster(3, proxied=False)
    cluster.leader(timeout=5, everyone=True)
    vectors, ids, payloads = _data()
    for name, replication in COLLECTIONS.items():
        info = cluster.client(1).create_collection(name, DIMENSION, "l2", shards=SHARDS, replication_factor=replication)
        assert (info.shards, info.replication_factor) == (SHARDS, replication)
        wait_listed(cluster, name)
        for n, start in enumerate(range(0, POINTS, 250)):
            result = cluster.client(1 + n % 3).upsert(name, ids[start:start + 250], vectors[start:start + 250],
                                                       payloads[start:start + 250])
            assert result.points_affected == 250
    alive = [True] * POINTS
    for name, replication in COLLECTIONS.items():
        _check_placement(cluster, name, replication, ids, alive)
        _check_points(cluster, name, vectors, ids, payloads, alive)

    # Deletes routed to every shard: 150 ids through node 2, then group 7 by filter through node 3.
    doomed = ids[5:POINTS:20]
    deleted_by_filter = sum(1 for i, p in zip(ids, payloads) if p["group"] == 7 and i not in set(doomed))
    for name in COLLECTIONS:
        assert cluster.client(2).delete(name, doomed) == len(doomed)
        assert cluster.client(3).delete(name, filter={"group": 7}) == deleted_by_filter
    gone = set(doomed) | {i for i, p in zip(ids, payloads) if p["group"] == 7}
    alive = [i not in gone for i in ids]
    for name, replication in COLLECTIONS.items():
        assert cluster.client(1).get(name, sorted(gone)) == [], name
        _check_placement(cluster, name, replication, ids, alive)
        _check_points(cluster, name, vectors, ids, payloads, alive)


#: One-way latency put on every link between nodes by the proxies (a LAN with some load).
LINK_DELAY_MILLIS = 30


def test_a_new_collection_is_writable_through_every_node_at_once(make_cluster) -> None:
    cluster = make_cluster(3)
    leader = cluster.leader(timeout=5, everyone=True)
    for i in cluster.nodes:
        for j in cluster.nodes:
            if i != j:
                cluster.delay_link(i, j, LINK_DELAY_MILLIS)
    refusals = []
    for round_number in range(3):
        name = f"fresh-{round_number}"
        cluster.client(leader).create_collection(name, 4, "l2", shards=SHARDS, replication_factor=3)
        for node in (n for n in cluster.nodes if n != leader):
            try:
                cluster.client(node).upsert(name, [1, 2, 3], [[0.5] * 4] * 3)
            except ruvector.NotFound as failure:
                refusals.append(f"created through node {leader} (the Raft leader), written through node {node}: {failure}")
    print(f"{len(refusals)} of 6 writes through the followers right after CreateCollection answered NOT_FOUND")
    assert not refusals, refusals


def test_a_new_collection_is_readable_through_every_node_at_once(make_cluster) -> None:
    """A node learns of a new collection when it applies the creation, and makes its copies
    just after, on its own queue: reads in between (ListCollections, GetCollection, Count from
    any copy or from the primaries) wait for the copy instead of answering UNAVAILABLE "this
    node holds no copy" (what Benchmarks/ClusterBench/cluster_bench.py hit at its first call)."""
    cluster = make_cluster(3)
    cluster.leader(timeout=5, everyone=True)
    failures = []
    for round_number in range(6):
        name = f"fresh-read-{round_number}"
        creator = list(cluster.nodes)[round_number % len(cluster.nodes)]
        cluster.client(creator).create_collection(name, 4, "l2", shards=SHARDS, replication_factor=2)
        for node in cluster.nodes:
            # No client retries: the server must answer at the first try.
            db = ruvector.Client(cluster.nodes[node].address, timeout=10, retries=0)
            reads = {
                "ListCollections": lambda: [c.name for c in db.list_collections()].count(name) == 1,
                "GetCollection": lambda: db.get_collection(name).points_count == 0,
                "Count (any)": lambda: db.count(name, read_from="any") == 0,
                "Count (primary)": lambda: db.count(name, read_from="primary") == 0,
            }
            for what, read in reads.items():
                try:
                    assert read(), f"{what} through node {node}: a wrong answer"
                except ruvector.RuVectorError as failure:
                    failures.append(f"{name} created through node {creator}, {what} through node {node}: {failure}")
            db.close()
    assert not failures, failures
