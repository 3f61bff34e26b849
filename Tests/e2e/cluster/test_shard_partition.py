"""A shard's primary cut off from the cluster by the proxies (its client still reaching it);
deposed primaries that come back; reads of writes no replica has.

`test_isolated_primary_is_replaced_and_rejoins_as_a_replica` (the primary a Raft follower, or
the Raft leader itself): three proxied nodes, a collection of 3 shards with 3 copies and
semi-sync writes (one replica). Two writers upsert through the other nodes (semi-sync, every
shard); one more talks only to the primary P of shard s, upserting points of s in async mode
(so that only P's lease can stop it). Then P is isolated (every link to and from it
black-holed; its client still reaches it):

- P refuses its client's writes (UNAVAILABLE or DEADLINE_EXCEEDED) once its lease lapses,
  about 1 s after it last heard from the cluster: nothing started 1.5 s after the cut is
  acknowledged, and a read from the primary through P is refused too;
- the leader promotes a replica of s (its epoch grows) and writes to s through the other
  nodes are acknowledged again;
- after healing, P is a replica of s, every copy of every shard has its primary's checksum,
  and every acknowledged semi-sync write holds its last value. The async writes P
  acknowledged before its lease lapsed were never replicated: they are lost, as async allows;
  how many is printed.

`test_a_deposed_primary_serves_no_stale_read_when_it_returns`: a primary frozen (SIGSTOP),
killed or cut off until a replica replaces it and takes a new write; once it is back, reads
from the primary sent to the old one must not return the value from before (it must know it
no longer leads, or refuse). It did, for 50-200 ms, until the lease rested on linearizable
metadata reads (ShardedCollections.keepLease).

`test_a_primary_read_never_shows_a_write_that_is_then_lost`: a primary cut off logs a sync
write no replica gets; a read from it must not show that write if the shard then loses it (it
did, every round, until primary reads waited for the write mode's replicas:
ShardedCollections.awaitReplicated).
"""
from __future__ import annotations

import threading
import time

import pytest

import ruvector
from harness import Cluster, make_cluster  # noqa: F401 (fixture)
from pointload import ShardWriteLoad, foreign_values, lost_writes
from shards import ids_in_shard, shard_map, wait_converged, wait_epoch_above, wait_listed

pytestmark = pytest.mark.cluster

COLLECTION = "partition"
SHARDS = 3
#: A primary stops acting as one when it has not heard from the Raft leader (or, as leader,
#: from a quorum) for this long (ShardedCollections.leaseMillis).
LEASE_SECONDS = 1.0
#: Scheduling slack on a shared 2-core machine before a write to a lapsed primary must be refused.
REFUSAL_SLACK_SECONDS = 0.5
REFUSED = {"UNAVAILABLE", "DEADLINE_EXCEEDED"}
#: First id of the isolated client's points (the other writers' are far below).
ISOLATED_FIRST_ID = 1_000_000_000


def _setup(cluster: Cluster) -> int:
    """Creates the collection once a leader is known; returns the leader."""
    leader = cluster.leader(timeout=5, everyone=True)
    cluster.client(leader).create_collection(COLLECTION, dimension=4, metric="l2", shards=SHARDS, replication_factor=3,
                                             write_consistency="semi-sync", min_replicas=1)
    wait_listed(cluster, COLLECTION)
    return leader


def _primary_read_refused(client: ruvector.Client, point_id: int) -> str:
    """The status of a Get from the primary through `client`, which must fail."""
    try:
        records = client.get(COLLECTION, [point_id], read_from="primary")
    except ruvector.RuVectorError as failure:
        return failure.code.name
    raise AssertionError(f"the isolated primary answered a primary read after its lease lapsed: {records}")


@pytest.mark.parametrize("isolated", ["follower", "leader"])
def test_isolated_primary_is_replaced_and_rejoins_as_a_replica(make_cluster, isolated: str) -> None:
    cluster = make_cluster(3)
    leader = _setup(cluster)
    assignments = shard_map(cluster, COLLECTION)
    target = next(s for s in assignments.values() if (s.primary == leader) == (isolated == "leader"))
    shard, primary = target.shard, target.primary
    others = [i for i in cluster.nodes if i != primary]
    majority = ShardWriteLoad(cluster, COLLECTION, SHARDS, workers=2, nodes=lambda: others, seed=1, name="majority")
    cut_off = ShardWriteLoad(cluster, COLLECTION, SHARDS, workers=1, nodes=lambda: [primary], target_shards=[shard],
                             consistency="async", first_id=ISOLATED_FIRST_ID, seed=2, name="cut-off")
    with majority, cut_off:
        majority.wait_for_successes(5, timeout=10, shard=shard)
        cut_off.wait_for_successes(5, timeout=10)
        isolated_at = time.monotonic()
        cluster.isolate(primary)
        promoted = wait_epoch_above(cluster, COLLECTION, shard, target.epoch, timeout=10, avoid={primary})
        promoted_after = time.monotonic() - isolated_at
        assert promoted.primary != primary and primary in promoted.replicas, promoted
        cluster.wait_until(lambda: majority.first_success_after(isolated_at, shard) is not None, timeout=10,
                           what=f"a write to shard {shard} through the other nodes", progress=majority.error_counts)
        resumed_after = majority.first_success_after(isolated_at, shard).finished - isolated_at
        read_status = _primary_read_refused(cluster.client(primary), ids_in_shard(shard, SHARDS, 1, 1)[0])
        lapsed = isolated_at + LEASE_SECONDS + REFUSAL_SLACK_SECONDS
        cluster.wait_until(lambda: any(w.started >= lapsed for w in cut_off.writes()), timeout=10,
                           what="a write of the isolated primary's client started after its lease lapsed")
        cut_off.stop()
        cluster.heal()
        with majority.paused():
            converged = wait_converged(cluster, COLLECTION, timeout=30)
    assert primary in shard_map(cluster, COLLECTION)[shard].replicas

    print(f"isolated {isolated} {primary} (shard {shard}): {_lease_summary(cut_off, isolated_at)}; primary read "
          f"then: {read_status}; replica promoted after {promoted_after * 1000:.0f} ms, writes through the others "
          f"again after {resumed_after * 1000:.0f} ms; copies equal {converged * 1000:.0f} ms after healing")
    _assert_refused_after_lease(cut_off, isolated_at)
    assert read_status in REFUSED

    lost, checked = lost_writes(cluster.client(others[0]), COLLECTION, majority.writes())
    assert not lost, f"{len(lost)} of {checked} acknowledged semi-sync points lost their value: {lost[:10]}"
    assert not foreign_values(cluster.client(others[0]), COLLECTION, majority.writes() + cut_off.writes())
    async_lost, async_checked = lost_writes(cluster.client(others[0]), COLLECTION, cut_off.writes())
    after_cut = {i for w in cut_off.writes() if w.ok and w.started >= isolated_at for i in w.ids}
    print(f"async writes the cut-off primary acknowledged: {async_checked} points, {len(async_lost)} lost "
          f"({len([x for x in async_lost if x.point_id in after_cut])} of them acknowledged after the cut)")


def _lease_summary(cut_off: ShardWriteLoad, isolated_at: float) -> str:
    """When the isolated primary last acknowledged its client's write and first refused one."""
    after_cut = [w for w in cut_off.writes() if w.started >= isolated_at]
    last_ack = max((w.finished - isolated_at for w in after_cut if w.ok), default=0.0)
    first_refusal = min((w.finished - isolated_at for w in after_cut if not w.ok), default=float("nan"))
    return (f"its client's writes acknowledged until {last_ack * 1000:.0f} ms after the cut, first refused at "
            f"{first_refusal * 1000:.0f} ms ({cut_off.error_counts()})")


def _assert_refused_after_lease(cut_off: ShardWriteLoad, isolated_at: float) -> None:
    """Every write the isolated primary's client started once the lease (plus slack) had lapsed
    was refused with UNAVAILABLE or DEADLINE_EXCEEDED, and there was at least one."""
    late = [w for w in cut_off.writes() if w.started >= isolated_at + LEASE_SECONDS + REFUSAL_SLACK_SECONDS]
    assert late, "the isolated primary's client made no write after the lease should have lapsed"
    wrong = [(round(w.started - isolated_at, 3), w.error, w.message) for w in late if w.ok or w.error not in REFUSED]
    assert not wrong, (f"the isolated primary acknowledged (or refused oddly) writes started "
                       f"{LEASE_SECONDS + REFUSAL_SLACK_SECONDS} s after it was cut off: {wrong[:5]}")


#: How a deposed primary comes back, and how long its old view may be read from after that.
RETURNS = {"pause": 0.3, "kill": 0.6, "isolate": 0.3}


def test_a_deposed_primary_serves_no_stale_read_when_it_returns(make_cluster) -> None:
    """Nine rounds, each on the next shard, its primary frozen, killed or cut off in turn: write 1,
    take the primary out until a replica replaces it, write 2 through the new primary, bring the
    old one back, and read the point from the primary through it for a moment (for a pause, one
    read is already queued at SIGCONT). No answer may be 1."""
    cluster = make_cluster(3)
    _setup(cluster)
    for round_number, how in enumerate(list(RETURNS) * 3):
        shard = round_number % SHARDS
        before = shard_map(cluster, COLLECTION)[shard]
        key = ids_in_shard(shard, SHARDS, 1, 1)[0]
        cluster.client(before.replicas[0]).upsert(COLLECTION, [key], [[1.0] * 4], [{"v": 1}])
        assert [r.payload for r in cluster.client(before.primary).get(COLLECTION, [key], read_from="primary")] == [{"v": 1}]
        answers, new_primary = _reads_after_return(cluster, how, before, key)
        print(f"round {round_number + 1}: node {before.primary} ({how}) replaced by node {new_primary} on shard {shard}; "
              f"its primary reads once back: {answers}")
        assert 1 not in answers, (f"node {before.primary}, back after {how}, answered a primary read with the value "
                                  f"from before node {new_primary} replaced it: {answers}")
        wait_converged(cluster, COLLECTION, timeout=30)


def _reads_after_return(cluster: Cluster, how: str, before, key: int) -> tuple[list[object], int]:
    """Takes `before.primary` out (`how`), waits for its replacement, writes 2 there, brings it
    back and reads `key` from the primary through it for RETURNS[how] seconds; returns the
    answers (payload values or status names, consecutive repeats dropped) and the new primary."""
    node = before.primary
    answers: list[object] = []
    old = ruvector.Client(cluster.nodes[node].address, timeout=2)

    def read() -> None:
        try:
            records = old.get(COLLECTION, [key], read_from="primary")
            answer: object = records[0].payload.get("v") if records else None
        except ruvector.RuVectorError as failure:
            answer = failure.code.name
        if not answers or answers[-1] != answer:
            answers.append(answer)

    try:
        {"pause": cluster.pause, "kill": cluster.kill, "isolate": cluster.isolate}[how](node)
        after = wait_epoch_above(cluster, COLLECTION, before.shard, before.epoch, timeout=10, avoid={node})
        cluster.client(after.primary).upsert(COLLECTION, [key], [[2.0] * 4], [{"v": 2}])
        queued = threading.Thread(target=read) if how == "pause" else None
        if queued:
            queued.start()
            time.sleep(0.2)
        if how == "pause":
            cluster.resume(node)
        elif how == "kill":
            cluster.restart(node)
            old.close()
            old = ruvector.Client(cluster.nodes[node].address, timeout=2)
        else:
            cluster.heal()
        if queued:
            queued.join(timeout=5)
        deadline = time.monotonic() + RETURNS[how]
        while time.monotonic() < deadline:
            read()
            time.sleep(0.01)
    finally:
        if cluster.nodes[node].paused:
            cluster.resume(node)
        cluster.heal()
        old.close()
    return answers, after.primary


def test_a_primary_read_never_shows_a_write_that_is_then_lost(make_cluster) -> None:
    """Three rounds, one per shard: write 1 (sync), cut its primary off (the Raft leader or not),
    write 2 through it (it logs the write, no replica gets it: DEADLINE_EXCEEDED), read through
    it from the primary before its lease lapses, wait for a replica to replace it, read again
    through the new primary. A read that saw 2 while the shard later holds 1 saw a lost write."""
    cluster = make_cluster(3)
    leader = cluster.leader(timeout=5, everyone=True)
    cluster.client(leader).create_collection(COLLECTION, dimension=4, metric="l2", shards=SHARDS, replication_factor=3,
                                             write_consistency="sync")
    wait_listed(cluster, COLLECTION)
    for round_number in range(3):
        cluster.leader(timeout=5, everyone=True)
        before = shard_map(cluster, COLLECTION)[round_number % SHARDS]
        key, old, new = ids_in_shard(before.shard, SHARDS, 1, 1)[0], 10 * round_number + 1, 10 * round_number + 2
        cluster.client(leader).upsert(COLLECTION, [key], [[1.0] * 4], [{"v": old}])
        seen, outcome = _read_during_cut_off_write(cluster, before.primary, key, new)
        after = wait_epoch_above(cluster, COLLECTION, before.shard, before.epoch, timeout=10, avoid={before.primary})
        # In sync mode a primary read waits, like a write, until every replica has what the
        # primary shows: the cut-off node is one, so the read comes once it is back.
        cluster.heal()
        wait_converged(cluster, COLLECTION, timeout=30)
        later = cluster.client(after.primary).get(COLLECTION, [key], read_from="primary")[0].payload["v"]
        print(f"round {round_number + 1}: node {before.primary} cut off; its write of {new}: {outcome}; its primary read: "
              f"{seen}; after node {after.primary} took shard {before.shard} over: {later}")
        assert not (seen == new and later == old), (
            f"node {before.primary} showed {new} to a primary read, then the shard lost it (node {after.primary} has {old})")


def _read_during_cut_off_write(cluster: Cluster, node: int, key: int, value: int) -> tuple[object, str]:
    """Cuts `node` off, writes `value` to `key` through it (sync; it cannot be replicated) and,
    30 ms later, reads `key` from the primary through it. Returns what the read saw (a payload
    value or a status name) and the write's outcome."""
    outcome: list[str] = []
    with ruvector.Client(cluster.nodes[node].address, timeout=0.4) as client:
        client.get(COLLECTION, [key])      # the connection is up before the cut

        def write() -> None:
            try:
                client.upsert(COLLECTION, [key], [[2.0] * 4], [{"v": value}])
                outcome.append("acknowledged")
            except ruvector.RuVectorError as failure:
                outcome.append(failure.code.name)

        cluster.isolate(node)
        writer = threading.Thread(target=write)
        writer.start()
        time.sleep(0.03)
        try:
            records = client.get(COLLECTION, [key], read_from="primary")
            seen: object = records[0].payload["v"] if records else None
        except ruvector.RuVectorError as failure:
            seen = failure.code.name
        writer.join(timeout=5)
    return seen, outcome[0] if outcome else "no answer"
