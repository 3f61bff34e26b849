"""The fast failover rule: a shard primary whose process is gone (connects to the address it
advertises are refused, after it fell silent) is replaced without waiting for the 1.5 s
silence; one that is silent but still accepts connections, or that the leader reaches through
a proxy, is not replaced before the silence, whose margin over its lease (1 s) keeps two
primaries from taking writes at once.

Three nodes, a collection of 3 shards with 3 copies (every node leads one), semi-sync writes
going on through every node during each fault:

- `test_a_killed_primary_is_replaced_at_once`: nodes dial each other directly (no proxy);
  SIGKILL of the primary of a shard (a Raft follower, then the Raft leader): the leader's log
  says the replacement came from refused connections, and the epoch grows sooner than the
  silence rule allows (it needs 1.5 s without a word from the primary; the promotion takes
  well under 1 s here);
- `test_a_paused_primary_waits_for_the_silence`: no proxy; SIGSTOP of a primary (its kernel still
  accepts connects: silent but not refusing): no promotion before the silence;
- `test_a_dead_primary_behind_a_proxy_waits_for_the_silence`: the nodes dial each other through
  proxies (`--peer-routes`), which accept and then reset when the node behind them is dead:
  a refused connect to a proxy would say nothing of the node, so the leader does not probe
  through routes, and the silence applies;
- `test_the_rule_can_be_turned_off`: `--failover-on-refused-connect false`, no proxy: a killed
  primary waits for the silence.

Each ends with every acknowledged semi-sync write in place and the copies converged.
"""
from __future__ import annotations

import time

import pytest

from harness import Cluster, make_cluster  # noqa: F401 (fixture)
from pointload import ShardWriteLoad, lost_writes
from shards import shard_map, wait_converged, wait_epoch_above

pytestmark = pytest.mark.cluster

COLLECTION = "fast"
SHARDS = 3
#: ShardSupervisor.silenceMillis: a primary unheard for this long is replaced.
SILENCE_SECONDS = 1.5
#: The leader hears from each follower every heartbeat (50 ms): the primary may have been
#: heard this much before the fault, at most, on a loaded machine.
LAST_HEARD_SLACK_SECONDS = 0.15
#: A promotion by refused connects comes within this of the kill (it takes 0.3-0.6 s alone),
#: far from anything the silence rule could do.
FAST_PROMOTION_SECONDS = 1.2
PROMOTION_TIMEOUT_SECONDS = 10.0
CONVERGENCE_TIMEOUT_SECONDS = 30.0


def _setup(cluster: Cluster) -> ShardWriteLoad:
    """Creates the collection and starts semi-sync writers (the caller enters the load)."""
    cluster.leader(timeout=5, everyone=True)
    cluster.client(1).create_collection(COLLECTION, dimension=4, metric="l2", shards=SHARDS, replication_factor=3,
                                        write_consistency="semi-sync", min_replicas=1)
    return ShardWriteLoad(cluster, COLLECTION, SHARDS, workers=3, seed=7)


def _shard_led_by(cluster: Cluster, raft_leader: bool) -> tuple[int, int, int]:
    """A shard whose primary is (or is not) the Raft leader: (shard, primary, epoch)."""
    leader = cluster.leader(timeout=5)
    for shard, assignment in sorted(shard_map(cluster, COLLECTION, via=leader).items()):
        if (assignment.primary == leader) == raft_leader:
            return shard, assignment.primary, assignment.epoch
    pytest.fail(f"no shard's primary is {'' if raft_leader else 'not '}the Raft leader {leader}")


def _promotions(cluster: Cluster, reason: str) -> int:
    """How many "shard primary replaced" lines with `reason` the nodes' logs hold."""
    return sum(line.count(f"reason={reason}") for i in cluster.nodes
               for line in cluster.nodes[i].log_path.read_text(errors="replace").splitlines()
               if "shard primary replaced" in line)


def _finish(cluster: Cluster, load: ShardWriteLoad) -> None:
    """Every acknowledged semi-sync write holds its value, and the copies converge."""
    with load.paused():
        converged = wait_converged(cluster, COLLECTION, timeout=CONVERGENCE_TIMEOUT_SECONDS)
        lost, checked = lost_writes(cluster.client(cluster.live_ids()[0]), COLLECTION, load.writes())
    assert not lost, f"{len(lost)} of {checked} acknowledged semi-sync points lost their value: {lost[:10]}"
    print(f"copies equal after {converged:.1f} s; {checked} acknowledged points checked")


def test_a_killed_primary_is_replaced_at_once(make_cluster) -> None:
    cluster = make_cluster(3, proxied=False)
    with _setup(cluster) as load:
        for raft_leader in (False, True):
            shard, victim, epoch = _shard_led_by(cluster, raft_leader)
            load.wait_for_successes(3, timeout=10, shard=shard)
            refused_before = _promotions(cluster, "connections refused")
            killed_at = time.monotonic()
            cluster.kill(victim)
            after = wait_epoch_above(cluster, COLLECTION, shard, epoch, timeout=PROMOTION_TIMEOUT_SECONDS)
            promoted_after = time.monotonic() - killed_at
            cluster.wait_until(lambda: load.first_success_after(killed_at, shard) is not None, timeout=10,
                               what=f"a write to shard {shard} after the kill", progress=load.error_counts)
            first_write_after = load.first_success_after(killed_at, shard).finished - killed_at
            print(f"node {victim} ({'Raft leader' if raft_leader else 'Raft follower'}) killed: shard {shard} "
                  f"promoted to node {after.primary} after {promoted_after * 1000:.0f} ms, first write "
                  f"acknowledged after {first_write_after * 1000:.0f} ms")
            assert after.primary != victim
            assert _promotions(cluster, "connections refused") > refused_before, cluster.log_tails()
            if not raft_leader:
                # The silence rule could not have promoted before 1.5 s minus the last heartbeat.
                assert promoted_after < FAST_PROMOTION_SECONDS
            else:
                # An election comes first (0.15-0.3 s), then the new leader's lease; the silence
                # rule would add 1.5 s after the election.
                assert promoted_after < SILENCE_SECONDS
            cluster.restart(victim)
            with load.paused():
                wait_converged(cluster, COLLECTION, timeout=CONVERGENCE_TIMEOUT_SECONDS)
        _finish(cluster, load)


def test_a_paused_primary_waits_for_the_silence(make_cluster) -> None:
    cluster = make_cluster(3, proxied=False)
    with _setup(cluster) as load:
        shard, victim, epoch = _shard_led_by(cluster, raft_leader=False)
        load.wait_for_successes(3, timeout=10, shard=shard)
        paused_at = time.monotonic()
        cluster.pause(victim)
        try:
            after = wait_epoch_above(cluster, COLLECTION, shard, epoch, timeout=PROMOTION_TIMEOUT_SECONDS)
            promoted_after = time.monotonic() - paused_at
        finally:
            cluster.resume(victim)
        print(f"node {victim} paused: shard {shard} promoted to node {after.primary} after {promoted_after * 1000:.0f} ms")
        assert promoted_after >= SILENCE_SECONDS - LAST_HEARD_SLACK_SECONDS
        assert _promotions(cluster, "connections refused") == 0, cluster.log_tails()
        _finish(cluster, load)


def _killed_primary_waits_for_the_silence(cluster: Cluster, what: str) -> None:
    """Kills the primary of a shard (not the Raft leader): its promotion must come from the
    silence, not from refused connects; then the copies converge with no write lost."""
    with _setup(cluster) as load:
        shard, victim, epoch = _shard_led_by(cluster, raft_leader=False)
        load.wait_for_successes(3, timeout=10, shard=shard)
        killed_at = time.monotonic()
        cluster.kill(victim)
        after = wait_epoch_above(cluster, COLLECTION, shard, epoch, timeout=PROMOTION_TIMEOUT_SECONDS)
        promoted_after = time.monotonic() - killed_at
        print(f"node {victim} killed, {what}: shard {shard} promoted to node {after.primary} after "
              f"{promoted_after * 1000:.0f} ms")
        assert promoted_after >= SILENCE_SECONDS - LAST_HEARD_SLACK_SECONDS
        assert _promotions(cluster, "connections refused") == 0, cluster.log_tails()
        cluster.restart(victim)
        _finish(cluster, load)


def test_a_dead_primary_behind_a_proxy_waits_for_the_silence(make_cluster) -> None:
    _killed_primary_waits_for_the_silence(make_cluster(3), "behind proxies")


def test_the_rule_can_be_turned_off(make_cluster) -> None:
    """`--failover-on-refused-connect false` (for networks that may refuse connects for a live
    node): a killed primary waits for the silence again, though nodes dial each other directly."""
    cluster = make_cluster(3, proxied=False, extra_args=["--failover-on-refused-connect", "false"])
    _killed_primary_waits_for_the_silence(cluster, "rule off")
