"""Replicated writes of vectors under closed-loop load: RuVector upserts in each write mode
(async, semi-sync, sync) on a sharded, replicated collection, the same upserts on one server
without a cluster, and etcd puts of the same bytes. Every case runs through `drive.run_level`,
so all are loaded, timed and counted by the same code."""
from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import grpc
import numpy as np

from drive import LevelResult, Write, run_level
from nodes import Members
from ruvector_nodes import NAME_PREFIX
from ruvector import wire
from ruvector.cluster import leader_hint
from ruvector.v1 import common_pb2, vector_pb2, vector_pb2_grpc

UPSERT_PATH = "/ruvector.v1.VectorService/Upsert"
#: Write modes by the name the report uses, with the request's (consistency, min_replicas).
MODES = {
    "async": (common_pb2.REPLICATION_MODE_ASYNC, 0),
    "semi-sync (min 1)": (common_pb2.REPLICATION_MODE_SEMI_SYNC, 1),
    "sync": (common_pb2.REPLICATION_MODE_SYNC, 0),
}


def upsert_call(channel: grpc.aio.Channel) -> grpc.aio.UnaryUnaryMultiCallable:
    """VectorService/Upsert taking a request already encoded (`ruvector.wire`)."""
    return channel.unary_unary(UPSERT_PATH, request_serializer=None,
                               response_deserializer=vector_pb2.UpdateResult.FromString)


def upsert_bytes(collection: str, ids: range | list[int], vectors: np.ndarray, consistency: int = 0,
                 min_replicas: int = 0) -> bytes:
    """An encoded UpsertRequest of these ids and vectors (no payload), acknowledged once durable."""
    return wire.upsert_request(collection, [(point_id, vector, None) for point_id, vector in zip(ids, vectors)],
                               vector_pb2.WRITE_WAIT_DURABLE, consistency, min_replicas)


@dataclass
class Load:
    """A running cluster as `drive.run_level` sees it, with the call `make_writer` builds; after
    the level, `cleanup` runs (None: the cluster's own `reset`)."""

    cluster: Any
    title: str
    make_writer: Callable[[grpc.aio.Channel], Write]
    cleanup: Callable[[], Awaitable[None]] | None = None

    @property
    def members(self) -> Members:
        """The cluster's processes (their CPU time is the level's server CPU)."""
        return self.cluster.members

    def channel(self, node: int) -> grpc.aio.Channel:
        """A new channel to member `node`."""
        return self.cluster.channel(node)

    def writer(self, channel: grpc.aio.Channel) -> Write:
        """The level's call through `channel`."""
        return self.make_writer(channel)

    async def wait_settled(self, timeout_seconds: float) -> int:
        """The cluster's leader once settled (0 for a single server)."""
        return await self.cluster.wait_settled(timeout_seconds)

    async def reset(self, leader: int) -> None:
        """Runs `cleanup` (or the cluster's reset) after the level."""
        if self.cleanup is None:
            await self.cluster.reset(leader)
        else:
            await self.cleanup()


class VectorWrites:
    """Upserts of `batch` new points (ids never reused, vectors cycled from `pool`) into one
    collection, in one write mode: the `make_writer` of a `Load`."""

    def __init__(self, collection: str, batch: int, pool: np.ndarray, consistency: int = 0, min_replicas: int = 0):
        self.collection, self.batch, self.pool = collection, batch, pool
        self.consistency, self.min_replicas = consistency, min_replicas
        self._blocks = itertools.count()

    def __call__(self, channel: grpc.aio.Channel) -> Write:
        upsert = upsert_call(channel)

        async def write(timeout_seconds: float) -> None:
            first = next(self._blocks) * self.batch
            rows = np.take(self.pool, range(first, first + self.batch), axis=0, mode="wrap")
            await upsert(upsert_bytes(self.collection, range(first, first + self.batch), rows, self.consistency,
                                      self.min_replicas), timeout=timeout_seconds)
        return write


async def metadata_call(cluster: Any, call: Callable[[vector_pb2_grpc.VectorServiceStub, float], Any],
                        done_on_retry: grpc.StatusCode, timeout_seconds: float) -> None:
    """A collection change through the first member, retried while leadership moves (an election
    under load: UNAVAILABLE, or the FAILED_PRECONDITION naming the leader that the node relays
    when it forwarded to a former leader). `done_on_retry` is the answer of a retry whose
    earlier attempt took effect (ALREADY_EXISTS after a create, NOT_FOUND after a delete)."""
    deadline = time.monotonic() + timeout_seconds
    channel = cluster.channel(0)
    try:
        stub = vector_pb2_grpc.VectorServiceStub(channel)
        for attempt in itertools.count():
            try:
                await call(stub, max(1.0, deadline - time.monotonic()))
                return
            except grpc.aio.AioRpcError as error:
                if attempt > 0 and error.code() == done_on_retry:
                    return
                # A follower relays its former leader's FAILED_PRECONDITION ("not the leader",
                # "leadership is being transferred"), with or without the leader's address.
                moving = error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED) \
                    or leader_hint(error) is not None or "leader" in (error.details() or "")
                if not moving or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.1)
    finally:
        await channel.close()


async def create_collection(cluster: Any, name: str, dimension: int, shards: int = 0, replication_factor: int = 0,
                            timeout_seconds: float = 60) -> None:
    """CreateCollection (cosine) through the first member; on a cluster node it is sharded."""
    request = vector_pb2.CreateCollectionRequest(name=name, dimension=dimension, metric=vector_pb2.METRIC_COSINE,
                                                 shards=shards, replication_factor=replication_factor)
    await metadata_call(cluster, lambda stub, timeout: stub.CreateCollection(request, timeout=timeout),
                        grpc.StatusCode.ALREADY_EXISTS, timeout_seconds)


async def delete_collection(cluster: Any, name: str, timeout_seconds: float = 120) -> None:
    """DeleteCollection through the first member."""
    request = vector_pb2.DeleteCollectionRequest(name=name)
    await metadata_call(cluster, lambda stub, timeout: stub.DeleteCollection(request, timeout=timeout),
                        grpc.StatusCode.NOT_FOUND, timeout_seconds)


@dataclass
class WriteCase:
    """One measured load level: which system and mode, clients and points per write."""

    system: str
    mode: str
    clients: int
    batch: int
    result: LevelResult


async def ruvector_levels(cluster: Any, system: str, modes: list[str], clients: list[int], batches: list[int],
                          pool: np.ndarray, shards: int, options: Any, progress: Callable[[str], None]) -> list[WriteCase]:
    """Every (mode, clients, batch) level on `cluster`, each into a fresh collection (removed by
    `reset` after it), clients spread over every member: writes go in anywhere."""
    cases = []
    for mode, batch, level_clients in itertools.product(modes, batches, clients):
        name = f"{NAME_PREFIX}writes-{len(cases)}"
        await create_collection(cluster, name, pool.shape[1], shards=shards if cluster.clustered else 0)
        consistency, min_replicas = MODES[mode]
        load = Load(cluster, system, VectorWrites(name, batch, pool, consistency, min_replicas),
                    lambda name=name: delete_collection(cluster, name))
        result = await run_level(load, level_clients, options.connections, options.warmup_seconds,
                                 options.write_seconds, options.call_timeout_seconds, spread=True)
        cases.append(WriteCase(system, mode, level_clients, batch, result))
        progress(f"{system} {mode}, {level_clients} client(s) x {batch} point(s): "
                 f"{result.proposals_per_second * batch:,.0f} points/s, {result.errors} errors")
        await asyncio.sleep(0)
    return cases


async def etcd_levels(etcd: Any, clients: list[int], batches: list[int], dimension: int, options: Any,
                      progress: Callable[[str], None]) -> list[WriteCase]:
    """etcd KV/Put of a new key whose value has the bytes of `batch` float32 vectors, sent to
    the leader (etcd's best case: a follower forwards to it)."""
    cases = []
    for batch, level_clients in itertools.product(batches, clients):
        value_bytes = batch * dimension * 4
        load = Load(etcd, etcd.title, lambda channel, size=value_bytes: etcd.writer(channel, size))
        result = await run_level(load, level_clients, options.connections, options.warmup_seconds,
                                 options.write_seconds, options.call_timeout_seconds)
        cases.append(WriteCase(etcd.title, "put (Raft, fsync)", level_clients, batch, result))
        progress(f"{etcd.title}, {level_clients} client(s) x {value_bytes:,} bytes: "
                 f"{result.proposals_per_second:,.0f} puts/s, {result.errors} errors")
    return cases
