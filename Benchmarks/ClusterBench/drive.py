"""The load and the failover measurement, the same code for every cluster under test.

Concurrency model (the same for both systems): one asyncio event loop with grpc.aio; each
client is a coroutine in a closed loop (send one write, wait for its answer, send the next).
"""
from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Awaitable, Callable, Protocol

import grpc

from nodes import Members

#: One committed write through a channel; raises grpc.aio.AioRpcError when it fails.
Write = Callable[[float], Awaitable[None]]


class Cluster(Protocol):
    """What the driver needs from a running cluster of `len(members)` nodes."""

    title: str
    members: Members

    async def start(self, timeout_seconds: float = 60) -> None:
        """Starts every member and waits until they have a leader."""

    def stop(self) -> None:
        """Stops every member still running."""

    def channel(self, node: int) -> grpc.aio.Channel:
        """A new channel (its own TCP connection) to member `node`."""

    def writer(self, channel: grpc.aio.Channel) -> Write:
        """A function that commits one new proposal through `channel` with a deadline in seconds."""

    async def wait_settled(self, timeout_seconds: float) -> int:
        """Waits until every member follows one leader and has applied what the leader had
        committed when asked; returns the leader's member number."""

    async def restart(self, node: int, timeout_seconds: float) -> None:
        """Starts a killed member again on its data directory and waits until it listens."""

    async def reset(self, leader: int) -> None:
        """Removes what the load wrote, so the next level starts from the same state."""


@dataclass
class LevelResult:
    """One load level: latencies of the writes that completed inside the measured window."""

    clients: int
    seconds: float
    latencies_seconds: list[float]
    errors: int
    server_cpu_seconds: float
    client_cpu_seconds: float

    @property
    def proposals_per_second(self) -> float:
        """Committed writes per second of the window."""
        return len(self.latencies_seconds) / self.seconds


@dataclass
class FailoverResult:
    """Seconds from each kill -9 of the leader to the first write committed through a survivor
    (math.inf when none succeeded within the limit)."""

    seconds: list[float]


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (`fraction` in (0, 1]): p99 of 20 values is their maximum; NaN
    when there is no value (a level in which no write succeeded)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


async def open_channels(cluster: Cluster, nodes: list[int], timeout_seconds: float = 10) -> list[grpc.aio.Channel]:
    """One connected channel per entry of `nodes`, so no call pays for a connection set-up."""
    channels = [cluster.channel(node) for node in nodes]
    await asyncio.wait_for(asyncio.gather(*(channel.channel_ready() for channel in channels)), timeout_seconds)
    return channels


async def close_channels(channels: list[grpc.aio.Channel]) -> None:
    """Closes channels, cancelling whatever they still carry."""
    await asyncio.gather(*(channel.close() for channel in channels))


async def run_level(cluster: Cluster, clients: int, connections: int, warmup_seconds: float, seconds: float,
                    call_timeout_seconds: float, spread: bool = False) -> LevelResult:
    """`clients` closed-loop writers on `min(clients, connections)` connections to the leader
    (with `spread`, to every member in turn from the leader on: writes that any member takes):
    a warm-up, then a measured window of `seconds`."""
    leader = await cluster.wait_settled(timeout_seconds=30)
    count = min(clients, connections)
    nodes = [(leader + i) % len(cluster.members) for i in range(count)] if spread else [leader] * count
    channels = await open_channels(cluster, nodes)
    latencies: list[float] = []
    errors = 0
    measure_from = time.perf_counter() + warmup_seconds
    stop_at = measure_from + seconds

    async def client(index: int) -> None:
        nonlocal errors
        write = cluster.writer(channels[index % len(channels)])
        while (started := time.perf_counter()) < stop_at:
            try:
                await write(call_timeout_seconds)
            except grpc.aio.AioRpcError:
                if measure_from <= time.perf_counter() <= stop_at:
                    errors += 1
                await asyncio.sleep(0.01)
                continue
            finished = time.perf_counter()
            # Completions inside the window count, whenever they started: the throughput of a
            # closed loop is not shaved at the window's edges.
            if measure_from <= finished <= stop_at:
                latencies.append(finished - started)

    async def cpu_window() -> tuple[float, float]:
        await asyncio.sleep(measure_from - time.perf_counter())
        server, own = cluster.members.cpu_seconds(), time.process_time()
        await asyncio.sleep(stop_at - time.perf_counter())
        return cluster.members.cpu_seconds() - server, time.process_time() - own

    try:
        (server_cpu, client_cpu), *_ = await asyncio.gather(cpu_window(), *(client(i) for i in range(clients)))
    finally:
        await close_channels(channels)
    await cluster.reset(leader)
    return LevelResult(clients, seconds, latencies, errors, server_cpu, client_cpu)


async def first_success(writes: list[Write], interval_seconds: float, attempt_timeout_seconds: float,
                        give_up_at: float) -> float:
    """Sends a write every `interval_seconds` to the next of `writes` in turn, each with its own
    deadline, without waiting for earlier ones; returns when the first one succeeds. A write
    that hangs (a proposal forwarded to a dead leader) thus delays the answer by at most one
    interval, whatever the deadline."""
    pending: set[asyncio.Task] = set()

    async def attempt(write: Write) -> float:
        await write(attempt_timeout_seconds)
        return time.perf_counter()

    try:
        turn, next_launch = 0, time.perf_counter()
        while time.perf_counter() < give_up_at:
            if time.perf_counter() >= next_launch:
                pending.add(asyncio.ensure_future(attempt(writes[turn % len(writes)])))
                turn, next_launch = turn + 1, time.perf_counter() + interval_seconds
            if not pending:     # every attempt so far failed fast: wait for the next launch
                await asyncio.sleep(max(0.0, next_launch - time.perf_counter()))
                continue
            done, pending = await asyncio.wait(pending, timeout=max(0.0, next_launch - time.perf_counter()),
                                               return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task.exception() is None:
                    return task.result()
        return math.inf
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def failover_once(cluster: Cluster, steady_seconds: float, interval_seconds: float,
                        attempt_timeout_seconds: float, limit_seconds: float) -> float:
    """One writer commits writes through the leader in a closed loop; after `steady_seconds` the
    leader is killed (-9). Once the writer's call fails it writes to the other members
    (`first_success`). Returns the seconds from the kill to the first success; then starts the
    killed member again and waits until it has caught up."""
    leader = await cluster.wait_settled(timeout_seconds=30)
    # Fresh channels each time: none carries a reconnect back-off from the previous kill.
    channels = await open_channels(cluster, list(range(len(cluster.members))))
    killed_at: float | None = None

    async def writer() -> float:
        write = cluster.writer(channels[leader])
        while True:
            try:
                await write(attempt_timeout_seconds)
            except grpc.aio.AioRpcError:
                if killed_at is not None:
                    break
                await asyncio.sleep(interval_seconds)   # a failure before the kill: keep writing
        survivors = [cluster.writer(channels[node]) for node in range(len(channels)) if node != leader]
        return await first_success(survivors, interval_seconds, attempt_timeout_seconds, killed_at + limit_seconds)

    task = asyncio.ensure_future(writer())
    try:
        await asyncio.sleep(steady_seconds)
        if task.done():
            task.result()   # raises whatever stopped the writer early
            raise RuntimeError("the writer stopped before the kill")
        killed_at = time.perf_counter()
        cluster.members.nodes[leader].kill()
        recovered_at = await task
    finally:
        task.cancel()
        await close_channels(channels)
    await cluster.restart(leader, timeout_seconds=60)
    await cluster.wait_settled(timeout_seconds=60)
    return recovered_at - killed_at


async def run_failover(cluster: Cluster, kills: int, steady_seconds: float, interval_seconds: float,
                       attempt_timeout_seconds: float, limit_seconds: float,
                       progress: Callable[[str], None]) -> FailoverResult:
    """`kills` rounds of `failover_once`."""
    seconds = []
    for round_number in range(1, kills + 1):
        seconds.append(await failover_once(cluster, steady_seconds, interval_seconds, attempt_timeout_seconds,
                                           limit_seconds))
        progress(f"{cluster.title}: kill {round_number}/{kills}: first write after {seconds[-1] * 1000:.0f} ms")
    return FailoverResult(seconds)
