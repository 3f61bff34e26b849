"""Membership change under load: a 4th node joins (--join), is promoted to voter once caught
up, then the old leader is removed (Leave); the remaining nodes end with one view."""
from __future__ import annotations

import time

import pytest

import ruvector

from harness import Cluster, collection_names, make_cluster  # noqa: F401 (make_cluster is a fixture)
from load import WriteLoad

pytestmark = pytest.mark.cluster


def _role(cluster: Cluster, asked: int, node_id: int) -> str | None:
    member = cluster.state(asked, stale_ok=False, timeout=2).member(node_id)
    return None if member is None else member.role


def _same_view(cluster: Cluster, nodes: list[int]) -> bool:
    """Every node in `nodes` lists exactly `nodes` as voters and the same collections."""
    states = [cluster.state(i) for i in nodes]
    return (all(s.voters == nodes and len(s.members) == len(nodes) for s in states)
            and len({frozenset(collection_names(s)) for s in states}) == 1)


def test_a_joined_node_becomes_a_voter_and_the_old_leader_leaves(make_cluster) -> None:
    cluster = make_cluster(3)
    old = cluster.leader(timeout=5, everyone=True)
    follower = min(i for i in cluster.nodes if i != old)
    with WriteLoad(cluster) as load:
        load.wait_for_successes(10, timeout=5)
        joined = cluster.add_node(join_via=follower)
        cluster.wait_until(lambda: _role(cluster, follower, joined) == "voter", timeout=20,
                           what=f"node {joined} promoted to voter",
                           progress=lambda: cluster.state(follower, stale_ok=False, timeout=2).members)
        load.wait_for_successes(10, timeout=5)

        # Sent to a follower, which names the leader: db.cluster follows the hint. The node's
        # shard copies (of every collection the load made) move first: a Leave cut short by its
        # deadline is called again, as the docs say; so is one that found no leader (an election
        # under load: nothing was proposed).
        deadline = time.monotonic() + 60
        while True:
            try:
                cluster.client(follower).cluster.leave(old, timeout=10)
                break
            except (ruvector.DeadlineExceeded, ruvector.Unavailable):
                assert time.monotonic() < deadline, f"node {old} still not drained after 60 s"
                time.sleep(0.1)
        load.exclude(old)
        cluster.wait_until(lambda: cluster.state(follower, stale_ok=False, timeout=2).member(old) is None,
                           timeout=5, what=f"node {old} no longer a member")
        cluster.leader(timeout=5, excluding={old})
        load.wait_for_successes(10, timeout=5)

    remaining = sorted(i for i in cluster.nodes if i != old)
    cluster.wait_until(lambda: _same_view(cluster, remaining), timeout=10,
                       what=f"nodes {remaining} agree on members and collections",
                       progress=lambda: {i: (cluster.state(i).voters, len(cluster.state(i).collections))
                                         for i in remaining})
    expected = collection_names(cluster.state(remaining[0], stale_ok=False, timeout=5))
    assert load.acknowledged() <= expected
    for i in remaining:
        cluster.wait_until(lambda: {c.name for c in cluster.client(i).list_collections()} == expected, timeout=10,
                           what=f"node {i} holds exactly the collections of the metadata")
