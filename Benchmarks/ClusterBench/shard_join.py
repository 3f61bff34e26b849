"""Data moved when a 4th node joins a 3-node cluster holding a sharded collection: how many
shard copies change nodes against the ideal 1/(N+1) of a consistent-hash ring, how long until
the shard map is stable, and the bytes the new node pulled.

The new node dials its peers through byte-counting TCP proxies (`--peer-routes`, the e2e
tests' LinkProxy), so the proxies count what it received over its own calls (snapshot
transfers, replication streams, the answers to its Raft messages); the logs give the snapshot
bytes installed, and its data directory what it keeps. Stable means: every shard's holders are
the ones the 4-node ring assigns (shard_keys.shard_holders, checked against the server's map)
and every node holds a copy of exactly the shards it is a holder of (no copy still arriving or
waiting to be deleted). Then, once every copy has all of its primary's log, every shard's
copies must have equal checksums.
"""
from __future__ import annotations

import asyncio
import pathlib
import re
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable

import grpc
import numpy as np

from drive import close_channels, open_channels
from replicated_writes import create_collection
from replication_lag import drive_load, load_requests
from shard_failover import wait_caught_up
from shard_keys import ring_points, shard_holders
from ruvector.v1 import cluster_pb2, cluster_pb2_grpc

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "e2e" / "cluster"))
from linkproxy import LinkProxy  # noqa: E402  (the e2e tests' proxy, reused for its byte counters)

INSTALLED = re.compile(r"bytes=(\d+) .*shard copy installed from its primary's snapshot")


@dataclass
class JoinResult:
    """What the join moved, and how long it took to settle."""

    shards: int
    replication_factor: int
    points: int
    load_seconds: float
    copies_total: int
    copies_moved: int
    primaries_moved: int
    stable_seconds: float
    caught_up_seconds: float
    received_bytes: int
    sent_bytes: int
    snapshot_bytes: int
    snapshots: int
    joiner_disk_bytes: int
    data_bytes: int
    copies_equal: bool
    points_after: int


async def holders_now(channel: grpc.aio.Channel, collection: str) -> tuple[dict[int, set[int]], dict[int, int]]:
    """Each shard's holders (node ids) and primary, from a linearizable GetState."""
    state = await cluster_pb2_grpc.ClusterServiceStub(channel).GetState(cluster_pb2.GetStateRequest(), timeout=5)
    shards = [s for s in state.shards if s.collection == collection]
    return ({s.shard: {s.primary_node_id, *s.replica_node_ids} for s in shards},
            {s.shard: s.primary_node_id for s in shards})


async def local_copies(channels: list[grpc.aio.Channel], collection: str, checksums: bool = False) -> list[list]:
    """Each node's copies of the collection's shards (ShardStatus)."""
    answers = []
    for channel in channels:
        response = await cluster_pb2_grpc.ClusterServiceStub(channel).ShardStatus(
            cluster_pb2.ShardStatusRequest(collection=collection, checksums=checksums), timeout=60)
        answers.append(list(response.shards))
    return answers


async def wait_stable(channels: list[grpc.aio.Channel], collection: str, target: dict[int, set[int]],
                      timeout_seconds: float) -> float:
    """Waits until the shard map is `target` and every node holds exactly its shards; returns
    the seconds it took."""
    began = time.perf_counter()
    last = None
    while time.perf_counter() - began < timeout_seconds:
        try:
            holders, _ = await holders_now(channels[0], collection)
            copies = await local_copies(channels, collection)
            held = [{copy.shard for copy in node} for node in copies]
            last = holders
            if holders == target and all(held[node] == {s for s, nodes in holders.items() if node + 1 in nodes}
                                         for node in range(len(channels))):
                return time.perf_counter() - began
        except grpc.aio.AioRpcError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the shard map did not reach the 4-node ring's placement within {timeout_seconds} s: "
                       f"{last} against {target}")


def directory_bytes(path: pathlib.Path) -> int:
    """Bytes of the files under `path`."""
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


async def run_join(cluster: Any, collection: str, shards: int, data: np.ndarray, options: Any,
                   progress: Callable[[str], None]) -> JoinResult:
    """Loads `data` into a new `shards`-shard collection (RF 3) on the running 3-node `cluster`,
    then starts a 4th node with --join and measures what moves."""
    await create_collection(cluster, collection, data.shape[1], shards=shards, replication_factor=3)
    channels = await open_channels(cluster, [i % 3 for i in range(options.connections)])
    try:
        load = await drive_load(channels, load_requests(collection, data, 500), float("inf"), 4,
                                options.call_timeout_seconds)
    finally:
        await close_channels(channels)
    progress(f"join: {load.points:,} points in {load.seconds:.1f} s into {shards} shards")
    first, = await open_channels(cluster, [0])
    before, primaries_before = await holders_now(first, collection)
    await close_channels([first])
    proxies = [LinkProxy(0, "127.0.0.1", int(address.rsplit(":", 1)[1])) for address in cluster.addresses[:3]]
    try:
        routes = ",".join(f"{i + 1}=127.0.0.1:{proxy.port}" for i, proxy in enumerate(proxies))
        began = time.perf_counter()
        joiner = await cluster.add_joiner(["--peer-routes", routes])
        target = {s: shard_holders(collection, s, ring_points([1, 2, 3, 4]), 3) for s in range(shards)}
        channels = await open_channels(cluster, list(range(joiner + 1)))
        try:
            await wait_stable(channels, collection, target, options.join_timeout_seconds)
            stable_seconds = time.perf_counter() - began
            # A copy joins the holders up to ShardSupervisor.caughtUpRecords behind its primary:
            # the checksums are compared once every copy has all of its primary's log.
            await wait_caught_up(channels[0], collection, options.join_timeout_seconds)
            caught_up_seconds = time.perf_counter() - began
            _, primaries_after = await holders_now(channels[0], collection)
            copies = await local_copies(channels, collection, checksums=True)
        finally:
            await close_channels(channels)
        counters = [proxy.counters() for proxy in proxies]
    finally:
        for proxy in proxies:
            proxy.close()
    by_shard: dict[int, set[tuple[int, int]]] = {}
    for node in copies:
        for copy in node:
            by_shard.setdefault(copy.shard, set()).add((copy.checksum, copy.points))
    installed = [int(m.group(1)) for m in INSTALLED.finditer(cluster.members.nodes[joiner].stderr_path.read_text())]
    return JoinResult(
        shards=shards, replication_factor=3, points=len(data), load_seconds=load.seconds,
        copies_total=sum(len(nodes) for nodes in before.values()),
        copies_moved=sum(len(target[s] - before[s]) for s in before),
        primaries_moved=sum(primaries_before[s] != primaries_after[s] for s in primaries_before),
        stable_seconds=stable_seconds, caught_up_seconds=caught_up_seconds,
        received_bytes=sum(c.to_client_bytes for c in counters), sent_bytes=sum(c.to_target_bytes for c in counters),
        snapshot_bytes=sum(installed), snapshots=len(installed),
        joiner_disk_bytes=directory_bytes(cluster.scratch / f"ruvector-{joiner + 1}"),
        data_bytes=data.nbytes,
        copies_equal=all(len(answers) == 1 for answers in by_shard.values()),
        points_after=sum(copy.points for node in copies for copy in node if copy.primary))
