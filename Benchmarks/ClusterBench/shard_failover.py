"""Failover of a shard's primary under a steady async upsert stream: kill -9 the primary of one
shard; the time from the kill to the first write to that shard that is acknowledged again, and
to the shard-map epoch change seen by a surviving node; then whether every write acknowledged
before and during the failover is still there.

A round: a writer upserts batches of new points (every shard) in a closed loop through the
nodes that will survive; after `--steady-seconds` the chosen shard's primary is killed. From the
kill on, a one-point write aimed at that shard (shard_keys) goes to a survivor every
`--hedge-millis`, each with its own deadline, without waiting for the earlier ones
(`drive.first_success`): a write stuck in the server's forwarding retries does not delay the
measure. A watcher reads the survivor's shard map (GetState, stale_ok) every 10 ms for the new
epoch. Then every acknowledged id is read back (Get from the primaries), the killed node is
started again, and the round waits until every replica has caught up.
"""
from __future__ import annotations

import asyncio
import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import grpc
import numpy as np

from drive import close_channels, first_success, open_channels
from replicated_writes import upsert_bytes, upsert_call
from replication_lag import UNKNOWN_LAG, ShardMap, shard_map
from shard_keys import ids_in_shard
from ruvector.v1 import cluster_pb2, cluster_pb2_grpc, common_pb2, vector_pb2

#: Ids of the writes aimed at the failing shard: from here up, a block per round (the steady
#: stream's ids start at 0).
AIMED_ID_BASE = 1 << 41
AIMED_IDS_PER_ROUND = 1 << 20


@dataclass
class FailoverRound:
    """One kill: what was killed, and what the clients and the shard map saw."""

    shard: int
    killed_node: int
    killed_leader: bool
    first_write_seconds: float
    epoch_seconds: float
    new_primary: int
    acknowledged: int
    missing: int
    stream_errors: int
    catch_up_seconds: float


@dataclass
class SteadyStream:
    """The closed-loop writer of a round and the ids it had acknowledged."""

    acknowledged: list[int] = field(default_factory=list)
    errors: int = 0


async def steady_writes(calls: list, collection: str, batch: int, pool: np.ndarray, ids: itertools.count,
                        stop: asyncio.Event, stream: SteadyStream) -> None:
    """Upserts `batch` new points at a time (async) through `calls` in turn until `stop`."""
    for turn in itertools.count():
        if stop.is_set():
            return
        block = [next(ids) for _ in range(batch)]
        request = upsert_bytes(collection, block, pool[[i % len(pool) for i in block]], common_pb2.REPLICATION_MODE_ASYNC)
        try:
            await calls[turn % len(calls)](request, timeout=5)
            stream.acknowledged += block
        except grpc.aio.AioRpcError:
            stream.errors += 1


async def watch_epoch(channel: grpc.aio.Channel, collection: str, shard: int, epoch: int) -> tuple[float, int]:
    """Polls the node's shard map until `shard` has an epoch above `epoch`; returns when it saw
    it and the new primary's member number."""
    get_state = cluster_pb2_grpc.ClusterServiceStub(channel).GetState
    while True:
        try:
            state = await get_state(cluster_pb2.GetStateRequest(stale_ok=True), timeout=1)
            for entry in state.shards:
                if entry.collection == collection and entry.shard == shard and entry.epoch > epoch:
                    return time.perf_counter(), entry.primary_node_id - 1
        except grpc.aio.AioRpcError:
            pass
        await asyncio.sleep(0.01)


async def missing_ids(channel: grpc.aio.Channel, collection: str, ids: list[int]) -> int:
    """How many of `ids` a Get from the shards' primaries does not find."""
    get = channel.unary_unary("/ruvector.v1.VectorService/Get", request_serializer=None,
                              response_deserializer=vector_pb2.GetResponse.FromString)
    missing = 0
    for start in range(0, len(ids), 1000):
        part = ids[start:start + 1000]
        request = vector_pb2.GetRequest(collection=collection, ids=[common_pb2.PointId(num=i) for i in part])
        getattr(request, "with").with_payload = False
        found = await get(request.SerializeToString(), timeout=60)
        missing += len(part) - len(found.points)
    return missing


async def wait_caught_up(channel: grpc.aio.Channel, collection: str, timeout_seconds: float) -> float:
    """Waits until every replica of every shard of `collection` has all of its primary's log;
    returns the seconds it took."""
    began = time.perf_counter()
    get_state = cluster_pb2_grpc.ClusterServiceStub(channel).GetState
    while time.perf_counter() - began < timeout_seconds:
        try:
            state = await get_state(cluster_pb2.GetStateRequest(with_shard_progress=True), timeout=2)
            shards = [s for s in state.shards if s.collection == collection]
            if all(len(s.replica_lag_records) == len(s.replica_node_ids) and not any(s.replica_lag_records)
                   and UNKNOWN_LAG not in s.replica_lag_millis for s in shards):
                return time.perf_counter() - began
        except grpc.aio.AioRpcError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the replicas of {collection} did not catch up within {timeout_seconds} s")


async def choose_shard(cluster: Any, collection: str, shards: int, kill_leader: bool) -> tuple[int, int, ShardMap]:
    """A shard whose primary is the Raft leader (`kill_leader`) or is not; when the leader leads
    no shard, leadership is first moved to a primary (when it leads every shard, which a few
    failovers can leave, to another node). Returns the shard, the leader's member number and the
    shard map."""
    for _ in range(2):
        leader = await cluster.wait_settled(timeout_seconds=30)
        channel, = await open_channels(cluster, [leader])
        try:
            layout = await shard_map(channel, collection)
            candidates = [s for s in range(shards) if (layout.primaries[s] == leader) == kill_leader]
            if candidates:
                return candidates[0], leader, layout
            target = layout.primaries[0] if kill_leader else (leader + 1) % len(cluster.members)
            await cluster_pb2_grpc.ClusterServiceStub(channel).TransferLeadership(
                cluster_pb2.TransferLeadershipRequest(node_id=target + 1), timeout=10)
        finally:
            await close_channels([channel])
    raise RuntimeError(f"no shard of {collection} has a primary that is {'' if kill_leader else 'not '}the Raft leader")


async def failover_round(cluster: Any, collection: str, shards: int, pool: np.ndarray, ids: itertools.count,
                         round_number: int, kill_leader: bool, options: Any) -> FailoverRound:
    """One round (see the module's description)."""
    shard, leader, layout = await choose_shard(cluster, collection, shards, kill_leader)
    victim = layout.primaries[shard]
    survivors = [node for node in range(len(cluster.members)) if node != victim]
    channels = await open_channels(cluster, survivors)
    calls = [upsert_call(channel) for channel in channels]
    stream, stop = SteadyStream(), asyncio.Event()
    writer = asyncio.ensure_future(steady_writes(calls, collection, options.failover_batch, pool, ids, stop, stream))
    aimed_ids = ids_in_shard(shard, shards, AIMED_ID_BASE + round_number * AIMED_IDS_PER_ROUND)
    aimed_acknowledged: list[int] = []

    def aimed(call) -> Callable[[float], Any]:
        async def write(timeout_seconds: float) -> None:
            point_id = next(aimed_ids)
            await call(upsert_bytes(collection, [point_id], pool[:1], common_pb2.REPLICATION_MODE_ASYNC),
                       timeout=timeout_seconds)
            aimed_acknowledged.append(point_id)
        return write
    try:
        await asyncio.sleep(options.steady_seconds)
        if writer.done():
            writer.result()
        killed_at = time.perf_counter()
        cluster.members.nodes[victim].kill()
        watcher = asyncio.ensure_future(watch_epoch(channels[0], collection, shard, layout.epochs[shard]))
        recovered_at = await first_success([aimed(call) for call in calls], options.hedge_millis / 1000,
                                           options.attempt_timeout_seconds, killed_at + options.failover_limit_seconds)
        try:
            epoch_at, new_primary = await asyncio.wait_for(watcher, max(0.1, killed_at + options.failover_limit_seconds
                                                                        - time.perf_counter()))
        except asyncio.TimeoutError:
            epoch_at, new_primary = math.inf, -1
        await asyncio.sleep(options.steady_seconds)   # the stream goes on through the new primary
        stop.set()
        await writer
        acknowledged = stream.acknowledged + aimed_acknowledged
        missing = await missing_ids(channels[0], collection, acknowledged)
    finally:
        stop.set()
        writer.cancel()
        await close_channels(channels)
    await cluster.restart(victim, timeout_seconds=60)
    checker, = await open_channels(cluster, [survivors[0]])
    try:
        catch_up = await wait_caught_up(checker, collection, timeout_seconds=120)
    finally:
        await close_channels([checker])
    return FailoverRound(shard, victim + 1, victim == leader, recovered_at - killed_at, epoch_at - killed_at,
                         new_primary + 1, len(acknowledged), missing, stream.errors, catch_up)


async def run_failover(cluster: Any, collection: str, shards: int, pool: np.ndarray, options: Any,
                       progress: Callable[[str], None]) -> list[FailoverRound]:
    """`--kills` rounds killing a shard primary that is not the Raft leader, then
    `--leader-kills` rounds killing one that is."""
    ids = itertools.count()
    rounds = []
    for round_number, kill_leader in enumerate([False] * options.kills + [True] * options.leader_kills):
        rounds.append(await failover_round(cluster, collection, shards, pool, ids, round_number, kill_leader, options))
        last = rounds[-1]
        progress(f"failover: killed node {last.killed_node} ({'leader' if last.killed_leader else 'follower'}), "
                 f"primary of shard {last.shard}: first write after {last.first_write_seconds * 1000:,.0f} ms, "
                 f"epoch after {last.epoch_seconds * 1000:,.0f} ms, {last.missing} of {last.acknowledged} "
                 f"acknowledged writes missing, caught up in {last.catch_up_seconds:.1f} s")
    return rounds
