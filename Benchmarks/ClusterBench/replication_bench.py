"""replication-bench: sharded, replicated collections on a 3-node RuVector cluster, with a single
server, a 3-member etcd cluster and hnswlib as the peers, in the same run on the same machine.

    swift build -c release --product ruvector-server
    apt-get install etcd-server golang-etcd-server-dev
    .venv/bin/pip install -r scripts/requirements-bench.txt
    .venv/bin/python Benchmarks/ClusterBench/replication_bench.py [--quick] [--phases lag,writes,...]

Phases (each system started fresh on loopback, fsync on, and stopped before the next one):

  lag       the data set (--points 384-d vectors, cosine) upserted async at a target rate into a
            collection of 3 (and 6) shards, replication factor 3; the replicas' lag from the
            primaries' own progress (GetState with_shard_progress) and from reading probe points
            back on the replicas' nodes; then a second run at a rate the cluster sustains.
  search    QPS, latency and recall@10 of the loaded collection (fan-out to every shard) against
            one server holding the same points, and hnswlib in-process.
  writes    closed-loop upserts per write mode (async, semi-sync min 1, sync) at 1 and 16
            clients of 1 and 100 points; the same on one server; etcd puts of the same bytes.
  failover  kill -9 of a shard's primary under a steady async stream (--kills rounds): the time
            to the first acknowledged write to that shard and to the epoch change.
  join      a 4th node joins a 3-node cluster holding a 12-shard collection: copies moved
            against the ideal 1/(N+1), time until stable, bytes the new node pulled.

Prints Markdown tables and the command line. Writes nothing into the repository: data
directories and logs go to a temporary folder (--work keeps them).
"""
from __future__ import annotations

import argparse
import asyncio
import math
import os
import pathlib
import shlex
import shutil
import sys
import time

sys.dont_write_bytecode = True   # the benchmark writes nothing into the checkout, __pycache__ included

import numpy as np  # noqa: E402

from cluster_bench import make_cluster, progress, scratch_folder  # noqa: E402
from drive import close_channels, open_channels  # noqa: E402
from replicated_writes import MODES, create_collection, delete_collection, etcd_levels, ruvector_levels  # noqa: E402
from replication_lag import LagResult, drive_load, load_requests, run_lag  # noqa: E402
from replication_report import Results, print_report  # noqa: E402
from ruvector_nodes import RuVectorCluster  # noqa: E402
from shard_failover import run_failover, wait_caught_up  # noqa: E402
from shard_join import run_join  # noqa: E402
from shard_keys import missing_points, points_per_shard  # noqa: E402
from shard_search import hnswlib_peer, search_levels  # noqa: E402
from ruvector.v1 import cluster_pb2, cluster_pb2_grpc  # noqa: E402  (this checkout's stubs, via ruvector_nodes)

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Benchmarks" / "SearchRPCBench"))
from bench_search import generate  # noqa: E402  (the search benchmarks' data)

PHASES = ("lag", "search", "writes", "failover", "join")


def parse_options() -> argparse.Namespace:
    """The command line; --quick shortens every phase."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--phases", default=",".join(PHASES), help=f"phases to run, comma-separated (default {','.join(PHASES)})")
    add("--quick", action="store_true", help="a short run: 20,000 points, 2 s levels, 2 kills, 6,000 join points")
    add("--points", type=int, default=100_000, help="vectors in the data set (default 100,000)")
    add("--dim", type=int, default=384, help="dimension (default 384)")
    add("--queries", type=int, default=500, help="queries, with brute-force neighbours (default 500)")
    add("--shard-counts", default="3,6", help="shards of the lag and search collections (default 3,6)")
    add("--lag-points-per-second", type=float, default=10_000, help="target rate of the load (default 10,000)")
    add("--lag-batch", type=int, default=100, help="points per upsert of the load (default 100)")
    add("--sustained-points-per-second", type=float, default=1_000,
        help="rate of the second lag run, one the cluster keeps up with (default 1,000; 0 = skip)")
    add("--sustained-seconds", type=float, default=10, help="length of the second lag run (default 10)")
    add("--max-in-flight", type=int, default=32, help="most upserts outstanding in the lag load (default 32)")
    add("--lag-sample-millis", type=float, default=50, help="GetState(with_shard_progress) every (default 50)")
    add("--probe-millis", type=float, default=100, help="a visibility probe every (default 100)")
    add("--probe-poll-millis", type=float, default=1, help="between two reads of a probe (default 1)")
    add("--write-modes", default=",".join(MODES), help="write modes (default all three)")
    add("--write-clients", default="1,16", help="concurrent writers per level (default 1,16)")
    add("--write-batches", default="1,100", help="points per write (default 1,100)")
    add("--write-seconds", type=float, default=5, help="measured seconds per write level (default 5)")
    add("--search-clients", default="1,8", help="concurrent searchers per level (default 1,8)")
    add("--search-seconds", type=float, default=5, help="measured seconds per search level (default 5)")
    add("--warmup-seconds", type=float, default=1, help="unmeasured seconds before each level (default 1)")
    add("--connections", type=int, default=8, help="connections shared by a level's clients (default 8)")
    add("--call-timeout-seconds", type=float, default=30, help="deadline of a call under load (default 30)")
    add("--k", type=int, default=10, help="neighbours per search (default 10)")
    add("--ef", type=int, default=64, help="search ef, ours and hnswlib's (default 64: the server's default)")
    add("--kills", type=int, default=5, help="failover rounds killing a primary that is not the Raft leader")
    add("--leader-kills", type=int, default=2, help="failover rounds killing a primary that is the Raft leader")
    add("--steady-seconds", type=float, default=1, help="writes before and after each kill (default 1)")
    add("--failover-batch", type=int, default=10, help="points per write of the steady stream (default 10)")
    add("--hedge-millis", type=float, default=10, help="after a kill, a write to the shard every (default 10)")
    add("--attempt-timeout-seconds", type=float, default=3, help="deadline of each write after a kill (default 3)")
    add("--failover-limit-seconds", type=float, default=30, help="a kill with no write within this counts as never")
    add("--join-points", type=int, default=20_000, help="points in the join phase's collection (default 20,000)")
    add("--join-shards", type=int, default=12, help="shards of the join phase's collection (default 12)")
    add("--join-timeout-seconds", type=float, default=300, help="longest wait for a stable shard map (default 300)")
    add("--ruvector-binary", default=str(ROOT / ".build" / "release" / "ruvector-server"))
    add("--ruvector-arg", action="append", default=[], help="extra ruvector-server flag for every node (repeatable)")
    add("--etcd-binary", default="etcd")
    add("--etcd-heartbeat-millis", type=int, default=30, help="etcd --heartbeat-interval (as cluster_bench.py)")
    add("--etcd-election-millis", type=int, default=150, help="etcd --election-timeout (as cluster_bench.py)")
    add("--etcd-pre-vote", action=argparse.BooleanOptionalAction, default=True, help="etcd --pre-vote")
    add("--work", help="scratch folder, kept afterwards (default: a temporary one, removed)")
    if "--quick" in sys.argv[1:]:
        parser.set_defaults(points=20_000, queries=200, shard_counts="3", sustained_seconds=5, write_seconds=2,
                            search_seconds=2, warmup_seconds=0.5, kills=2, leader_kills=1, join_points=6_000)
    options = parser.parse_args()
    options.ruvector_write = "create"
    options.phase_list = [phase for phase in options.phases.split(",") if phase]
    unknown = set(options.phase_list) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases {sorted(unknown)}; choose from {', '.join(PHASES)}")
    options.shard_list = [int(n) for n in options.shard_counts.split(",")]
    options.mode_list = [mode for mode in MODES if mode in options.write_modes.split(",")]
    options.write_client_levels = [int(n) for n in options.write_clients.split(",")]
    options.write_batch_sizes = [int(n) for n in options.write_batches.split(",")]
    options.search_client_levels = [int(n) for n in options.search_clients.split(",")]
    return options


def ruvector(scratch: pathlib.Path, options: argparse.Namespace, clustered: bool = True) -> RuVectorCluster:
    """Three cluster nodes, or one server without cluster flags, not started yet."""
    binary = pathlib.Path(options.ruvector_binary)
    if not os.access(binary, os.X_OK):
        sys.exit(f"{binary} is missing: swift build -c release --product ruvector-server")
    shutil.rmtree(scratch, ignore_errors=True)
    return RuVectorCluster(scratch, binary, options.ruvector_arg, size=3 if clustered else 1, clustered=clustered)


def dataset(options: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Unit vectors (clustered Gaussians, normalized: cosine is then L2's order), queries, and
    each query's true k nearest by brute force."""
    data, queries = generate(options.points, options.dim, options.queries)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return data, queries, exact_neighbours(data, queries, options.k)


def exact_neighbours(data: np.ndarray, queries: np.ndarray, k: int, chunk: int = 64) -> list[np.ndarray]:
    """Each query's k largest cosine similarities (dot products of unit vectors) by brute force,
    a block of queries per matrix product."""
    neighbours: list[np.ndarray] = []
    for start in range(0, len(queries), chunk):
        scores = queries[start:start + chunk] @ data.T
        neighbours.extend(np.argpartition(-scores, k, axis=1)[:, :k])
    return neighbours


async def load_all(cluster: RuVectorCluster, collection: str, data: np.ndarray, options: argparse.Namespace) -> None:
    """Upserts the data set as fast as the server takes it (the single server's load)."""
    channels = await open_channels(cluster, [0] * 4)
    try:
        load = await drive_load(channels, load_requests(collection, data, 1000), math.inf, 4,
                                options.call_timeout_seconds)
    finally:
        await close_channels(channels)
    progress(f"single server: {load.points:,} points loaded in {load.seconds:.1f} s")


async def check_shards(cluster: RuVectorCluster, lag: LagResult, collection: str, points: int) -> None:
    """Once the replicas caught up after the first load of a fresh collection: the acknowledged
    points missing from the shards whose primary changed (an unplanned failover) into `lag`.
    Stops the run when the points per shard differ from shard_keys' prediction otherwise (the
    failover phase aims writes at one shard with it)."""
    expected = points_per_shard(range(points), lag.shards)
    channel, = await open_channels(cluster, [0])
    try:
        await wait_caught_up(channel, collection, timeout_seconds=300)
        stub = cluster_pb2_grpc.ClusterServiceStub(channel)
        # Caught up is by log sequence: a replica acknowledges records once logged and indexes
        # them just after, so its count may trail for a moment (a run read 7 points short on a
        # replica that held them all once applied). Wait until every copy here has applied all
        # it logged (a copy's count covers at least the records through its applied_sequence).
        began = time.perf_counter()
        while True:
            state = await stub.GetState(cluster_pb2.GetStateRequest(), timeout=30)
            status = await stub.ShardStatus(cluster_pb2.ShardStatusRequest(collection=collection), timeout=30)
            if all(copy.applied_sequence == copy.last_sequence for copy in status.shards) \
                    or time.perf_counter() - began > 60:
                break
            await asyncio.sleep(0.2)
        counts = {copy.shard: copy.points for copy in status.shards}
    finally:
        await close_channels([channel])
    failed_over = {s.shard for s in state.shards if s.collection == collection and s.epoch > 1}
    lag.missing_points = missing_points(expected, counts, failed_over)


async def single_server(scratch: pathlib.Path, data, queries, truth, options, results: Results) -> None:
    """The single-server baseline: write levels, then the data set loaded and searched."""
    server = ruvector(scratch / "single", options, clustered=False)
    progress("single server: starting")
    try:
        await server.start()
        if "writes" in options.phase_list:
            cases = await ruvector_levels(server, "RuVector, 1 server", ["async"], options.write_client_levels,
                                          options.write_batch_sizes, data, 0, options, progress)
            for case in cases:
                case.mode = "one copy (no replicas)"
            results.writes += cases
        if "search" in options.phase_list:
            await create_collection(server, "bench-single", options.dim)
            await load_all(server, "bench-single", data, options)
            results.searches += await search_levels(server, "RuVector, 1 server", "bench-single", queries, truth,
                                                    "primary", options, progress)
    finally:
        server.stop()


async def etcd_peer(scratch: pathlib.Path, options, results: Results) -> None:
    """etcd's puts of the same bytes, on its own."""
    shutil.rmtree(scratch / "etcd", ignore_errors=True)
    etcd = make_cluster("etcd", scratch / "etcd", options)
    progress(f"{etcd.title}: starting 3 members")
    try:
        await etcd.start()
        results.etcd_title = etcd.title
        results.writes += await etcd_levels(etcd, options.write_client_levels, options.write_batch_sizes, options.dim,
                                            options, progress)
    finally:
        etcd.stop()


async def sharded(scratch: pathlib.Path, data, queries, truth, options, results: Results) -> None:
    """The 3-node cluster: lag and search per shard count, write levels, failover."""
    cluster = ruvector(scratch / "cluster", options)
    progress("cluster: starting 3 nodes")
    try:
        await cluster.start()
        for shards in options.shard_list if {"lag", "search"} & set(options.phase_list) else []:
            name = f"bench-{shards}-shards"
            await create_collection(cluster, name, options.dim, shards=shards, replication_factor=3)
            results.lags.append(await run_lag(cluster, name, shards, data, 0, options.lag_points_per_second,
                                              options, progress))
            await check_shards(cluster, results.lags[-1], name, len(data))
            if "search" in options.phase_list:
                for read_from in ("primary", "any"):
                    results.searches += await search_levels(
                        cluster, f"RuVector, 3 nodes, {shards} shards, read_from {read_from}", name, queries, truth,
                        read_from, options, progress)
            if "lag" in options.phase_list and options.sustained_points_per_second > 0:
                count = int(options.sustained_points_per_second * options.sustained_seconds)
                again = np.take(data, range(count), axis=0, mode="wrap")
                results.lags.append(await run_lag(cluster, name, shards, again, len(data),
                                                  options.sustained_points_per_second, options, progress))
            await delete_collection(cluster, name)
        if "writes" in options.phase_list:
            results.writes += await ruvector_levels(cluster, "RuVector, 3 nodes", options.mode_list,
                                                    options.write_client_levels, options.write_batch_sizes, data, 3,
                                                    options, progress)
        if "failover" in options.phase_list:
            await create_collection(cluster, "bench-failover", options.dim, shards=3, replication_factor=3)
            results.failovers = await run_failover(cluster, "bench-failover", 3, data, options, progress)
    finally:
        cluster.stop()
        results.elections["3-node cluster"] = cluster.elections_won()


async def joined(scratch: pathlib.Path, data, options, results: Results) -> None:
    """A fresh 3-node cluster with one collection, then a 4th node joining."""
    cluster = ruvector(scratch / "join", options)
    progress("join: starting 3 nodes")
    try:
        await cluster.start()
        points = np.take(data, range(options.join_points), axis=0, mode="wrap")
        results.join = await run_join(cluster, "bench-join", options.join_shards, points, options, progress)
    finally:
        cluster.stop()
        results.elections["join cluster"] = cluster.elections_won()


async def measure(scratch: pathlib.Path, options: argparse.Namespace, results: Results) -> None:
    """Every phase asked for, one system at a time, into `results`."""
    progress(f"data: {options.points:,} x {options.dim} vectors, {options.queries} queries with exact neighbours")
    data, queries, truth = dataset(options)
    if {"writes", "search"} & set(options.phase_list):
        await single_server(scratch, data, queries, truth, options, results)
    if "writes" in options.phase_list:
        await etcd_peer(scratch, options, results)
    if "search" in options.phase_list:
        progress("hnswlib: building")
        results.peer = hnswlib_peer(data, queries, truth, options.k, options.ef, options.search_seconds)
    if {"lag", "search", "writes", "failover"} & set(options.phase_list):
        await sharded(scratch, data, queries, truth, options, results)
    if "join" in options.phase_list:
        await joined(scratch, data, options, results)


def main() -> None:
    options = parse_options()
    scratch, machine = scratch_folder(options.work, "replication-bench-")
    began = time.monotonic()
    results = Results()
    command = "python3 " + shlex.join([os.path.relpath(sys.argv[0])] + sys.argv[1:])
    try:
        asyncio.run(measure(scratch, options, results))
    except BaseException:
        progress(f"stopped; logs kept in {scratch}; what was measured before:")
        print_report(results, options, machine, command + "  # stopped early", time.monotonic() - began)
        raise
    print_report(results, options, machine, command, time.monotonic() - began)
    if not options.work:
        shutil.rmtree(scratch, ignore_errors=True)
    check_recall(results.searches)


def check_recall(cases: list) -> None:
    """Fails the run when a cluster's search answers fall well below one server's on the same
    points: wrong answers, not a slow run (a release-only miscompile once merged the wrong
    shards' hits, recall 0.37-0.63, and only this benchmark ran release builds)."""
    single = [case.recall for case in cases if "1 server" in case.system]
    if not single:
        return
    floor = min(single) - 0.05
    wrong = [f"{case.system}, {case.clients} client(s): {case.recall:.3f}" for case in cases
             if "1 server" not in case.system and case.recall < floor]
    if wrong:
        sys.exit(f"cluster search answers are wrong: recall@10 below one server's {min(single):.3f} - 0.05: {wrong}")


if __name__ == "__main__":
    main()
