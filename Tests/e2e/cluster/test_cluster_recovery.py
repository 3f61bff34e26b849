"""Nodes that come back: one that was down while the log was compacted catches up, and a
whole cluster killed with kill -9 keeps every collection whose creation was acknowledged."""
from __future__ import annotations

import time

import pytest

import ruvector
from harness import Cluster, collection_names, make_cluster  # noqa: F401 (make_cluster is a fixture)
from load import DIMENSION, WriteLoad

pytestmark = pytest.mark.cluster

#: Log entries between Raft snapshots (the log is compacted behind each).
SNAPSHOT_ENTRIES = 100


def _holds_exactly(cluster: Cluster, i: int, names: set[str]) -> bool:
    """Node i's metadata and its vector service both list exactly `names`."""
    return (collection_names(cluster.state(i)) == names
            and {c.name for c in cluster.client(i).list_collections()} == names)


def _summary(state) -> str:
    return (f"node {state.answered_by}: {len(state.collections)} collections, applied index {state.applied_index}, "
            f"commit index {state.commit_index}, leader {state.leader_id}")


def _retrying(call, done_already: type[Exception], timeout: float = 15.0) -> None:
    """`call()` until it succeeds, retrying while the two survivors elect a leader (UNAVAILABLE,
    as the error says: a loaded machine can delay a heartbeat past the election timeout). An
    answer lost to such a hiccup may have committed: then the retry gets `done_already`."""
    deadline = time.monotonic() + timeout
    retried = False
    while True:
        try:
            call()
            return
        except done_already:
            if retried:
                return
            raise
        except ruvector.Unavailable:
            if time.monotonic() > deadline:
                raise
            retried = True
            time.sleep(0.1)


def test_a_node_down_while_the_log_was_compacted_catches_up(make_cluster) -> None:
    cluster = make_cluster(3, extra_args=["--raft-snapshot-entries", str(SNAPSHOT_ENTRIES)])
    leader = cluster.leader(timeout=5, everyone=True)
    down = min(i for i in cluster.nodes if i != leader)
    cluster.kill(down)
    survivors = [cluster.client(i) for i in cluster.live_ids()]
    # Three snapshots' worth of entries, through both survivors (a follower forwards to the leader).
    for k in range(2 * SNAPSHOT_ENTRIES):
        _retrying(lambda: survivors[k % 2].create_collection(f"c{k}", dimension=DIMENSION, metric="l2"),
                  ruvector.AlreadyExists)
    for k in range(0, 2 * SNAPSHOT_ENTRIES, 2):
        _retrying(lambda: survivors[k % 2].delete_collection(f"c{k}"), ruvector.NotFound)
    expected = {f"c{k}" for k in range(1, 2 * SNAPSHOT_ENTRIES, 2)}

    cluster.restart(down)
    cluster.wait_until(lambda: _holds_exactly(cluster, down, expected), timeout=30,
                       what=f"node {down} catches up to {len(expected)} collections",
                       progress=lambda: _summary(cluster.state(down)))
    assert collection_names(cluster.state(down, stale_ok=False, timeout=5)) == expected
    # It caught up from a snapshot (the entries it missed were compacted away), not from the log.
    assert "metadata snapshot installed" in cluster.nodes[down].log_path.read_text(errors="replace"), cluster.log_tail(down)


def test_a_whole_cluster_killed_keeps_every_acknowledged_collection(make_cluster) -> None:
    cluster = make_cluster(3)
    cluster.leader(timeout=5, everyone=True)
    with WriteLoad(cluster, delete=False, prefix="durable") as load:
        load.wait_for_successes(30, timeout=10)
        for i in cluster.nodes:      # while writes are in flight
            cluster.kill(i)
    acknowledged = load.acknowledged()
    assert len(acknowledged) >= 30

    cluster.restart_all()
    leader = cluster.leader(timeout=10)
    listed = collection_names(cluster.state(leader, stale_ok=False, timeout=5))
    assert acknowledged <= listed, f"acknowledged, then lost: {sorted(acknowledged - listed)}"
    for i in cluster.nodes:
        cluster.wait_until(lambda: acknowledged <= {c.name for c in cluster.client(i).list_collections()},
                           timeout=30, what=f"node {i} holds every acknowledged collection")
