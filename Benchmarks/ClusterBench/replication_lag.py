"""Replication lag of async writes, measured two ways while the data set is upserted at a target
rate into a sharded, replicated collection:

- progress: every `--lag-sample-millis`, GetState(stale_ok, with_shard_progress) on one node;
  each shard's primary reports each replica's lag in WAL records and in milliseconds since the
  replica last had everything the primary had logged (the server's own measure);
- visibility: every `--probe-millis`, one probe point is upserted on a shard's primary (async);
  from its acknowledgement, each replica's node is read with `Get(read_from=ANY)` (answered from
  that node's own copy) every `--probe-poll-millis` until the point is there. The time from the
  acknowledgement to the first read that sees it is an upper bound of the replica's lag for
  that write (the bound is loose by one read's round trip plus the poll interval).

The load is open-loop: batch i is sent at start + i / rate, to the members in turn (any member
takes a write and sends each shard's part to its primary), with at most `--max-in-flight`
batches outstanding; when the servers cannot keep up, batches leave as slots free, and the
achieved rate is reported next to the target.
"""
from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import grpc
import numpy as np

from drive import close_channels, open_channels
from replicated_writes import upsert_bytes, upsert_call
from shard_keys import ids_in_shard
from ruvector.v1 import cluster_pb2, cluster_pb2_grpc, common_pb2, vector_pb2, vector_pb2_grpc

#: Probe points use ids from here up, far above the data set's.
PROBE_ID_BASE = 1 << 40
#: The server's "unknown" lag (a replica that never caught up, or no answer from the primary).
UNKNOWN_LAG = (1 << 64) - 1


@dataclass
class LoadResult:
    """Upserts sent by `drive_load`: points acknowledged, from the first send to the last
    acknowledgement, each batch's latency, and the batches that failed."""

    points: int = 0
    seconds: float = 0.0
    ack_latencies_seconds: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def points_per_second(self) -> float:
        """Points acknowledged per second."""
        return self.points / self.seconds if self.seconds else math.nan


@dataclass
class LagResult:
    """One lag run: the load as sent and acknowledged, and both lag measures."""

    shards: int
    target_points_per_second: float
    load: LoadResult = field(default_factory=LoadResult)
    errors: int = 0
    lag_records: list[int] = field(default_factory=list)
    lag_millis: list[int] = field(default_factory=list)
    #: Replica entries whose primary reported no catch-up since the stream opened.
    never_caught_up: int = 0
    #: Replica entries without progress: GetState failed, or a primary did not answer it in time.
    unanswered: int = 0
    samples: int = 0
    visibility_seconds: list[float] = field(default_factory=list)
    visible_on_first_read: int = 0
    never_visible: int = 0
    read_seconds: list[float] = field(default_factory=list)
    #: Shards whose primary changed during the load (an unplanned failover).
    failed_over_shards: int = 0
    #: Acknowledged points those shards no longer hold (-1: not checked).
    missing_points: int = -1


@dataclass
class ShardMap:
    """Each shard's primary and replicas, as member numbers (node id - 1)."""

    primaries: list[int]
    replicas: list[list[int]]
    epochs: list[int]


async def shard_map(channel: grpc.aio.Channel, collection: str) -> ShardMap:
    """The collection's shard map as the called node knows it (stale_ok: no leader round trip)."""
    state = await cluster_pb2_grpc.ClusterServiceStub(channel).GetState(cluster_pb2.GetStateRequest(stale_ok=True),
                                                                          timeout=5)
    shards = sorted((s for s in state.shards if s.collection == collection), key=lambda s: s.shard)
    return ShardMap([s.primary_node_id - 1 for s in shards], [[r - 1 for r in s.replica_node_ids] for s in shards],
                    [s.epoch for s in shards])


async def drive_load(channels: list[grpc.aio.Channel], requests: list[tuple[bytes, int]], rate_batches: float,
                     max_in_flight: int, timeout_seconds: float) -> LoadResult:
    """Sends `requests` (encoded upserts and their point counts) open-loop at `rate_batches` per
    second (math.inf: as fast as
    `max_in_flight` outstanding batches allow) over `channels` in turn."""
    result = LoadResult()
    calls = [upsert_call(channel) for channel in channels]
    slots = asyncio.Semaphore(max_in_flight)
    pending: set[asyncio.Task] = set()
    started = time.perf_counter()
    last_ack = started

    async def send(index: int, request: bytes, points: int) -> None:
        nonlocal last_ack
        sent = time.perf_counter()
        try:
            await calls[index % len(calls)](request, timeout=timeout_seconds)
        except grpc.aio.AioRpcError:
            result.errors += 1
            return
        finally:
            slots.release()
        last_ack = time.perf_counter()
        result.ack_latencies_seconds.append(last_ack - sent)
        result.points += points

    for index, (request, points) in enumerate(requests):
        delay = started + index / rate_batches - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await slots.acquire()
        task = asyncio.ensure_future(send(index, request, points))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    result.seconds = last_ack - started
    return result


def load_requests(collection: str, data: np.ndarray, batch: int, first_id: int = 0) -> list[tuple[bytes, int]]:
    """Async upserts of `data` as points `first_id`.., `batch` at a time, encoded ahead of the load."""
    return [(upsert_bytes(collection, range(first_id + start, first_id + min(start + batch, len(data))),
                          data[start:start + batch], common_pb2.REPLICATION_MODE_ASYNC), len(data[start:start + batch]))
            for start in range(0, len(data), batch)]


async def sample_progress(channel: grpc.aio.Channel, collection: str, interval_seconds: float,
                          stop: asyncio.Event, result: LagResult) -> None:
    """Every `interval_seconds` until `stop`: each replica's lag as its primary reports it."""
    get_state = cluster_pb2_grpc.ClusterServiceStub(channel).GetState
    request = cluster_pb2.GetStateRequest(stale_ok=True, with_shard_progress=True)
    while not stop.is_set():
        began = time.perf_counter()
        try:
            state = await get_state(request, timeout=1)
        except grpc.aio.AioRpcError:
            result.unanswered += 1
        else:
            result.samples += 1
            for shard in state.shards:
                if shard.collection != collection:
                    continue
                if len(shard.replica_lag_millis) != len(shard.replica_node_ids):
                    result.unanswered += len(shard.replica_node_ids)
                    continue
                for records, millis in zip(shard.replica_lag_records, shard.replica_lag_millis):
                    if millis == UNKNOWN_LAG:
                        result.never_caught_up += 1
                    else:
                        result.lag_records.append(records)
                        result.lag_millis.append(millis)
        await asyncio.sleep(max(0.0, interval_seconds - (time.perf_counter() - began)))


async def first_visible(get: Any, request: bytes, acknowledged_at: float, poll_seconds: float,
                        result: LagResult, limit_seconds: float = 10) -> None:
    """Reads the probe on one replica's node until it is there; records the time from its
    acknowledgement (or that it never appeared within `limit_seconds`)."""
    reads = 0
    while time.perf_counter() - acknowledged_at < limit_seconds:
        began = time.perf_counter()
        try:
            response = await get(request, timeout=2)
        except grpc.aio.AioRpcError:
            result.errors += 1
            await asyncio.sleep(poll_seconds)
            continue
        seen = time.perf_counter()
        result.read_seconds.append(seen - began)
        reads += 1
        if response.points:
            result.visibility_seconds.append(seen - acknowledged_at)
            result.visible_on_first_read += reads == 1
            return
        await asyncio.sleep(poll_seconds)
    result.never_visible += 1


async def probe_visibility(channels: list[grpc.aio.Channel], collection: str, shards: ShardMap, vector: np.ndarray,
                           interval_seconds: float, poll_seconds: float, stop: asyncio.Event,
                           result: LagResult) -> list[int]:
    """Until `stop`: a probe point on each shard in turn, written on its primary's node and read
    back on its replicas' nodes. Returns the probe ids (to delete afterwards)."""
    upserts = [upsert_call(channel) for channel in channels]
    gets = [channel.unary_unary("/ruvector.v1.VectorService/Get", request_serializer=None,
                                response_deserializer=vector_pb2.GetResponse.FromString) for channel in channels]
    count = len(shards.primaries)
    probe_ids = [ids_in_shard(shard, count, PROBE_ID_BASE) for shard in range(count)]
    written: list[int] = []
    turn = 0
    while not stop.is_set():
        began = time.perf_counter()
        shard = turn % count
        turn += 1
        point_id = next(probe_ids[shard])
        request = upsert_bytes(collection, [point_id], vector[None, :], common_pb2.REPLICATION_MODE_ASYNC)
        try:
            await upserts[shards.primaries[shard]](request, timeout=5)
        except grpc.aio.AioRpcError:
            result.errors += 1
            await asyncio.sleep(interval_seconds)
            continue
        acknowledged_at = time.perf_counter()
        written.append(point_id)
        read = vector_pb2.GetRequest(collection=collection, ids=[common_pb2.PointId(num=point_id)],
                                     read_from=vector_pb2.READ_FROM_ANY).SerializeToString()
        await asyncio.gather(*(first_visible(gets[replica], read, acknowledged_at, poll_seconds, result)
                               for replica in shards.replicas[shard]))
        await asyncio.sleep(max(0.0, interval_seconds - (time.perf_counter() - began)))
    return written


async def delete_points(channel: grpc.aio.Channel, collection: str, ids: list[int]) -> None:
    """Deletes points by id (the probes, so that they do not sit among the searched data)."""
    delete = vector_pb2_grpc.VectorServiceStub(channel).Delete
    for start in range(0, len(ids), 1000):
        await delete(vector_pb2.DeleteRequest(collection=collection, ids=vector_pb2.PointIdList(
            ids=[common_pb2.PointId(num=i) for i in ids[start:start + 1000]])), timeout=60)


async def run_lag(cluster: Any, collection: str, shards: int, data: np.ndarray, first_id: int,
                  points_per_second: float, options: Any, progress: Callable[[str], None]) -> LagResult:
    """Upserts `data` (ids from `first_id`) into `collection` at `points_per_second` in batches
    of `options.lag_batch`, async, while sampling progress and probing visibility."""
    batch = options.lag_batch
    result = LagResult(shards, points_per_second)
    requests = load_requests(collection, data, batch, first_id)
    members = len(cluster.members)
    load_channels = await open_channels(cluster, [i % members for i in range(max(members, options.connections))])
    node_channels = await open_channels(cluster, list(range(members)))
    sampler_channel, = await open_channels(cluster, [0])
    try:
        layout = await shard_map(node_channels[0], collection)
        stop = asyncio.Event()
        sampler = asyncio.ensure_future(sample_progress(sampler_channel, collection, options.lag_sample_millis / 1000,
                                                        stop, result))
        prober = asyncio.ensure_future(probe_visibility(node_channels, collection, layout, data[0],
                                                        options.probe_millis / 1000, options.probe_poll_millis / 1000,
                                                        stop, result))
        try:
            result.load = await drive_load(load_channels, requests, points_per_second / batch,
                                           options.max_in_flight, options.call_timeout_seconds)
        finally:
            stop.set()
            await sampler
            probes = await prober
        await delete_points(node_channels[0], collection, probes)
        after = await shard_map(node_channels[0], collection)
        result.failed_over_shards = sum(now > then for now, then in zip(after.epochs, layout.epochs))
    finally:
        await close_channels(load_channels + node_channels + [sampler_channel])
    load = result.load
    progress(f"lag, {shards} shards: {load.points:,} points in {load.seconds:.1f} s "
             f"({load.points_per_second:,.0f}/s of {points_per_second:,.0f} asked, {load.errors} failed "
             f"batches), {len(result.visibility_seconds)} probe reads, {result.samples} progress samples, "
             f"{result.errors} probe errors")
    return result
