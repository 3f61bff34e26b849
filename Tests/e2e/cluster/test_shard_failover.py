"""kill -9 of a shard's primary during a steady upsert stream, in sync, semi-sync (one replica)
and async mode.

Three nodes, a collection of 3 shards with 3 copies each (every node holds every shard and
leads one). Three writers upsert batches of 4 points of one shard at a time, shards in turn,
each through a live node at random (pointload.py records every call). Each round kills the
primary of the next shard, waits until the leader promotes a replica (the shard's epoch grows
in a linearizable GetState), and with the writers paused reads every acknowledged point back
from the primaries:

- sync and semi-sync: every acknowledged point holds its last acknowledged value (or the value
  of a later write whose outcome is unknown);
- async: acknowledged points that lost their value are counted and printed, not failed on.

Then the killed node is restarted and every copy of every shard must converge (equal points
and checksums, ShardStatus). The time from the kill to the first acknowledged write to that
shard is printed (in sync mode a write waits for every replica, the dead former primary
included, so the first one comes after the restart).

The nodes dial each other directly, so the leader replaces a killed primary as soon as
connects to it are refused (test_shard_fast_failover.py); once more in semi-sync mode, they dial
through proxies (`--peer-routes`), and the leader waits for the primary's 1.5 s silence.

CI: 3 kills per mode; RUVECTOR_CLUSTER_SOAK=1 or RUVECTOR_SOAK=1: 20 per mode, with p50/p99.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import pytest

import ruvector
from harness import Cluster, make_cluster  # noqa: F401 (fixture)
from pointload import Lost, ShardWriteLoad, foreign_values, lost_writes, read_values
from shards import shard_map, soak_kills, wait_converged, wait_epoch_above, wait_listed

pytestmark = pytest.mark.cluster

COLLECTION = "failover"
SHARDS = 3
#: Bounds of the waits (the leader replaces a primary unheard for 1.5 s).
PROMOTION_TIMEOUT_SECONDS = 10.0
CONVERGENCE_TIMEOUT_SECONDS = 30.0
WRITES_RESUME_TIMEOUT_SECONDS = 10.0


@dataclass
class Round:
    """One kill: who, and how long each step took (seconds after the SIGKILL)."""
    victim: int
    shard: int
    victim_led_raft: bool
    promoted_after: float
    first_write_after: float
    restarted_after: float
    converged_after: float
    lost: list[Lost]

    def describe(self, number: int) -> str:
        """One line for the test's output."""
        return (f"kill {number}: node {self.victim} (primary of shard {self.shard}"
                f"{', Raft leader' if self.victim_led_raft else ''}): promoted after {self.promoted_after * 1000:.0f} ms, "
                f"first acknowledged write to the shard after {self.first_write_after * 1000:.0f} ms, restarted at "
                f"{self.restarted_after * 1000:.0f} ms, copies equal {self.converged_after * 1000:.0f} ms after that; "
                f"acknowledged points without their value: {len(self.lost)}")


def _kill_primary(cluster: Cluster, load: ShardWriteLoad, shard: int, mode: str) -> Round:
    """Kills the primary of `shard`, checks the acknowledged points once a replica is promoted,
    restarts the node and waits until every copy converges."""
    before = shard_map(cluster, COLLECTION)[shard]
    victim = before.primary
    led = cluster.leader(timeout=5) == victim
    load.wait_for_successes(3, timeout=WRITES_RESUME_TIMEOUT_SECONDS, shard=shard)
    killed_at = time.monotonic()
    cluster.kill(victim)
    after = wait_epoch_above(cluster, COLLECTION, shard, before.epoch, timeout=PROMOTION_TIMEOUT_SECONDS)
    promoted_after = time.monotonic() - killed_at
    assert after.primary != victim and victim in after.replicas, (before, after)
    with load.paused():
        # The new primary's own copy (read_from any asks the called node's copy first): in sync
        # mode a primary read would wait for the dead replica, like a write.
        lost, checked = lost_writes(cluster.client(after.primary), COLLECTION, load.writes(), read_from="any")
    if mode != "async":
        assert not lost, (f"{mode}: {len(lost)} of {checked} acknowledged points lost their value when node {victim} "
                          f"died and node {after.primary} took shard {shard} over: {lost[:10]}")
    if mode != "sync":
        # A semi-sync or async write needs no answer from the dead node.
        cluster.wait_until(lambda: load.first_success_after(killed_at, shard) is not None,
                           timeout=WRITES_RESUME_TIMEOUT_SECONDS, what=f"a write to shard {shard} after the kill",
                           progress=load.error_counts)
    restarted_at = time.monotonic()
    cluster.restart(victim)
    cluster.wait_until(lambda: load.first_success_after(killed_at, shard) is not None,
                       timeout=WRITES_RESUME_TIMEOUT_SECONDS, what=f"a write to shard {shard} after the restart",
                       progress=load.error_counts)
    with load.paused():
        converged = wait_converged(cluster, COLLECTION, timeout=CONVERGENCE_TIMEOUT_SECONDS)
    first = load.first_success_after(killed_at, shard)
    return Round(victim, shard, led, promoted_after, first.finished - killed_at, restarted_at - killed_at, converged, lost)


def _percentile(values: list[float], fraction: float) -> float:
    ranked = sorted(values)
    return ranked[max(math.ceil(fraction * len(ranked)) - 1, 0)]


def _final_check(cluster: Cluster, load: ShardWriteLoad, mode: str) -> list[Lost]:
    """With the load stopped and the copies converged: no point holds a value none of its
    writes could have left, through any node and from any copy; acknowledged points hold
    their value (in sync and semi-sync). Returns the acknowledged points that lost it."""
    writes = load.writes()
    wait_converged(cluster, COLLECTION, timeout=CONVERGENCE_TIMEOUT_SECONDS)
    lost, checked = lost_writes(cluster.client(1), COLLECTION, writes)
    if mode != "async":
        assert not lost, f"{mode}: {len(lost)} of {checked} acknowledged points lost their value: {lost[:10]}"
    assert not foreign_values(cluster.client(1), COLLECTION, writes), "a point holds a value none of its writes wrote"
    # The copies are equal, so any copy answers alike.
    primary_view = read_values(cluster.client(1), COLLECTION, sorted({i for w in writes for i in w.ids}))
    for node in cluster.nodes:
        assert read_values(cluster.client(node), COLLECTION, sorted(primary_view), read_from="any") == primary_view, node
    return lost


@pytest.mark.parametrize("mode,proxied", [("sync", False), ("semi-sync", False), ("async", False), ("semi-sync", True)],
                         ids=["sync", "semi-sync", "async", "semi-sync-proxied"])
def test_killing_a_primary_loses_no_acknowledged_write(make_cluster, mode: str, proxied: bool) -> None:
    started = time.monotonic()
    cluster = make_cluster(3, proxied=proxied)
    cluster.leader(timeout=5, everyone=True)
    cluster.client(1).create_collection(COLLECTION, dimension=4, metric="l2", shards=SHARDS, replication_factor=3,
                                        write_consistency=mode, min_replicas=1)
    kills = soak_kills(3)
    rounds: list[Round] = []
    with ShardWriteLoad(cluster, COLLECTION, SHARDS, workers=3, seed=kills) as load:
        for k in range(kills):
            rounds.append(_kill_primary(cluster, load, k % SHARDS, mode))
            print(rounds[-1].describe(k + 1))
    lost = _final_check(cluster, load, mode)
    writes = load.writes()
    print(f"{mode}: {kills} kills in {time.monotonic() - started:.1f} s; writes acknowledged "
          f"{sum(w.ok for w in writes)}, failed {load.error_counts()}; first of each: {load.error_examples()}")
    if mode == "async":
        lost_at_kills = sorted({x.point_id for r in rounds for x in r.lost})
        print(f"async: acknowledged points that lost their value at a kill: {len(lost_at_kills)} {lost_at_kills[:50]}; "
              f"at the end: {len(lost)} {[(x.point_id, x.acknowledged, x.found) for x in lost[:50]]}")
    if len(rounds) >= 10:
        for what, values in (("promotion", [r.promoted_after for r in rounds]),
                             ("first write", [r.first_write_after for r in rounds])):
            print(f"{mode} {what} over {len(values)} kills: p50 {_percentile(values, 0.5) * 1000:.0f} ms, "
                  f"p99 {_percentile(values, 0.99) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms")


def test_a_restarted_node_never_answers_not_found_for_an_existing_collection(make_cluster) -> None:
    """Twice (each follower): create a collection, kill -9 the follower, restart it cut off from
    the others, and write through it for 0.3 s: UNAVAILABLE or DEADLINE_EXCEEDED are right
    answers, NOT_FOUND is not."""
    cluster = make_cluster(3)
    leader = cluster.leader(timeout=5, everyone=True)
    answers = []
    for node in (n for n in cluster.nodes if n != leader):
        name = f"restarted-{node}"
        cluster.client(leader).create_collection(name, dimension=4, metric="l2", shards=SHARDS, replication_factor=3)
        wait_listed(cluster, name)
        cluster.kill(node)
        cluster.isolate(node)
        cluster.restart(node)
        with ruvector.Client(cluster.nodes[node].address, timeout=0.5) as client:
            deadline = time.monotonic() + 0.3
            while time.monotonic() < deadline:
                try:
                    client.upsert(name, [4], [[0.5] * 4])
                except ruvector.NotFound as failure:
                    answers.append(f"node {node}: {failure}")
                except (ruvector.Unavailable, ruvector.DeadlineExceeded):
                    pass
        cluster.heal()
    print(f"{len(answers)} NOT_FOUND answers from restarted nodes cut off from the leader")
    assert not answers, f"{len(answers)} NOT_FOUND answers, the first: {answers[:2]}"


def test_a_restarted_node_keeps_its_shard_copies_until_its_log_says_otherwise(make_cluster) -> None:
    """Kill -9 a node right after a sharded collection is made and written, restart it cut off
    from the others (it replays its log from its last snapshot, before the collection, and cannot
    learn that the creation committed): its copies must stay on disk. They were deleted as
    "no longer held", and a restarted primary then served reads from an empty copy (a history
    test_shard_linearizable caught: a point read back absent after acknowledged writes)."""
    cluster = make_cluster(3)
    leader = cluster.leader(timeout=5, everyone=True)
    name = "kept"
    cluster.client(leader).create_collection(name, dimension=4, metric="l2", shards=SHARDS, replication_factor=3,
                                             write_consistency="sync")
    wait_listed(cluster, name)
    cluster.client(leader).upsert(name, list(range(1, 31)), [[0.5] * 4 for _ in range(30)])
    victim = next(n for n in cluster.nodes if n != leader)
    copies = cluster.nodes[victim].data_dir / "shards" / name
    before = sorted(p.name for p in copies.iterdir())
    assert len(before) == SHARDS, f"node {victim} holds {before}"
    cluster.kill(victim)
    cluster.isolate(victim)
    cluster.restart(victim)
    time.sleep(1.0)   # several metadata reconciles
    after = sorted(p.name for p in copies.iterdir()) if copies.exists() else []
    cluster.heal()
    assert after == before, f"node {victim} lost shard copies at restart: {before} -> {after}\n{cluster.log_tail(victim)}"

