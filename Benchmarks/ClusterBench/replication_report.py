"""The Markdown tables of a replication-bench run, one per phase, with the peers in the same
tables and the ratios to them."""
from __future__ import annotations

import argparse
import math
import os
import statistics
from dataclasses import dataclass, field

from drive import percentile
from replication_lag import LagResult
from replicated_writes import WriteCase
from shard_failover import FailoverRound
from shard_join import JoinResult
from shard_search import PeerResult, SearchCase


@dataclass
class Results:
    """Everything a run measured (a phase not run leaves its part empty)."""

    lags: list[LagResult] = field(default_factory=list)
    writes: list[WriteCase] = field(default_factory=list)
    searches: list[SearchCase] = field(default_factory=list)
    peer: PeerResult | None = None
    failovers: list[FailoverRound] = field(default_factory=list)
    join: JoinResult | None = None
    etcd_title: str = "etcd"
    #: Raft leaders elected per cluster over its life (1 when leadership never moved).
    elections: dict[str, int] = field(default_factory=dict)


def ms(seconds: float, digits: int = 2) -> str:
    """Seconds as milliseconds ("-" when there is no value, "never" for math.inf)."""
    if seconds is None or math.isnan(seconds):
        return "-"
    return "never" if math.isinf(seconds) else f"{seconds * 1000:,.{digits}f}"


def pair(values: list[float], render=ms) -> str:
    """p50 / p99 (nearest rank) of `values`."""
    return f"{render(percentile(values, 0.5))} / {render(percentile(values, 0.99))}"


def lag_table(lags: list[LagResult]) -> None:
    """The lag runs, one row each."""
    print("\n### Replication lag, async writes (3 nodes, replication factor 3)\n")
    print("| shards | points/s asked | points/s reached | upsert p50 / p99, ms | lag from the primaries' progress "
          "p50 / p99, ms | same, records | progress samples (replicas: never caught up; primary silent) "
          "| acknowledged -> visible on a replica "
          "p50 / p99, ms | probe reads (seen on first read; never seen) | one read's round trip p50, ms "
          "| shards failed over during the load (acknowledged points lost) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for lag in lags:
        load = lag.load
        print(f"| {lag.shards} | {lag.target_points_per_second:,.0f} | {load.points_per_second:,.0f} "
              f"| {pair(load.ack_latencies_seconds)} | {pair([m / 1000 for m in lag.lag_millis])} "
              f"| {pair(lag.lag_records, lambda v: '-' if math.isnan(v) else f'{v:,.0f}')} "
              f"| {lag.samples} ({lag.never_caught_up}; {lag.unanswered}) | {pair(lag.visibility_seconds)} "
              f"| {len(lag.visibility_seconds)} ({lag.visible_on_first_read}; {lag.never_visible}) "
              f"| {ms(percentile(lag.read_seconds, 0.5))} "
              f"| {lag.failed_over_shards} ({'-' if lag.missing_points < 0 else f'{lag.missing_points:,}'}) |")


def write_table(writes: list[WriteCase], etcd_title: str) -> None:
    """The write levels of every system, by points per write and clients, with the ratio to etcd."""
    print("\n### Writes: closed-loop clients, every write new points (each level in a fresh collection)\n")
    print(f"| system | mode | clients | points per write | writes/s | points/s | latency p50 / p99, ms "
          f"| servers' CPU per point, µs | failed | writes/s / {etcd_title} |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    etcd = {(case.clients, case.batch): case.result.proposals_per_second for case in writes if case.system == etcd_title}
    for case in sorted(writes, key=lambda c: (c.batch, c.clients)):
        result = case.result
        rate = result.proposals_per_second
        points = len(result.latencies_seconds) * case.batch
        cpu = result.server_cpu_seconds / points * 1e6 if points else math.nan
        ratio = f"{rate / etcd[(case.clients, case.batch)]:.2f}" if etcd.get((case.clients, case.batch)) else "-"
        print(f"| {case.system} | {case.mode} | {case.clients} | {case.batch} | {rate:,.0f} | {rate * case.batch:,.0f} "
              f"| {pair(result.latencies_seconds)} | {cpu:,.0f} | {result.errors} | {ratio} |")


def search_table(searches: list[SearchCase], peer: PeerResult | None, options: argparse.Namespace) -> None:
    """The search levels, the ratio to the single server, and hnswlib's rows."""
    print(f"\n### Search: k={options.k}, ef={options.ef}, closed-loop clients spread over the nodes\n")
    print(f"| system | clients | QPS | latency p50 / p99, ms | recall@{options.k} | QPS / 1 server |")
    print("|---|---:|---:|---:|---:|---:|")
    single = {case.clients: case.qps for case in searches if case.system == "RuVector, 1 server"}
    for case in searches:
        ratio = f"{case.qps / single[case.clients]:.2f}" if single.get(case.clients) else "-"
        print(f"| {case.system} | {case.clients} | {case.qps:,.0f} | {pair(case.result.latencies_seconds)} "
              f"| {case.recall:.3f} | {ratio} |")
    if peer:
        print(f"| hnswlib {_hnswlib_version()} in-process, one query per call | 1 thread | {peer.one_thread_qps:,.0f} "
              f"| {pair(peer.latencies_seconds)} | {peer.recall:.3f} | - |")
        print(f"| hnswlib in-process, every query in one call | {peer.threads} threads | {peer.batch_qps:,.0f} | - "
              f"| {peer.recall:.3f} | - |")


def _hnswlib_version() -> str:
    """The installed hnswlib's version."""
    from importlib.metadata import version
    return version("hnswlib")


def failover_table(rounds: list[FailoverRound]) -> None:
    """Every failover round, then the medians by the killed node's Raft role."""
    print("\n### Failover: kill -9 of a shard's primary under a steady async upsert stream\n")
    print("| round | killed node (Raft role) | shard | kill -> first acknowledged write to the shard, ms "
          "| kill -> new epoch on a survivor, ms | acknowledged writes checked | missing afterwards "
          "| steady-stream writes failed | restarted node caught up, s |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for number, entry in enumerate(rounds, 1):
        print(f"| {number} | {entry.killed_node} ({'leader' if entry.killed_leader else 'follower'}) | {entry.shard} "
              f"| {ms(entry.first_write_seconds, 0)} | {ms(entry.epoch_seconds, 0)} | {entry.acknowledged:,} "
              f"| {entry.missing} | {entry.stream_errors} | {entry.catch_up_seconds:.1f} |")
    for label, chosen in (("a follower", [r for r in rounds if not r.killed_leader]),
                          ("the Raft leader", [r for r in rounds if r.killed_leader])):
        if chosen:
            print(f"\nMedian over {len(chosen)} kills of {label}: first write "
                  f"{ms(statistics.median(r.first_write_seconds for r in chosen), 0)} ms, epoch change "
                  f"{ms(statistics.median(r.epoch_seconds for r in chosen), 0)} ms.")


def join_table(join: JoinResult) -> None:
    """The join phase's row, and what the moved share of the vectors weighs."""
    print("\n### A 4th node joins\n")
    print("| shards x copies | points | copies moved / all copies | ideal 1/(N+1) | primaries moved "
          "| join -> shard map stable, s | join -> every copy caught up, s | bytes the new node received (wire) "
          "| snapshots installed (bytes) "
          "| new node's data directory | copies equal (checksums) | points after |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    share = join.copies_moved / join.copies_total
    print(f"| {join.shards} x {join.replication_factor} | {join.points:,} | {join.copies_moved} / {join.copies_total} "
          f"= {share:.3f} | 0.250 | {join.primaries_moved} | {join.stable_seconds:.1f} | {join.caught_up_seconds:.1f} "
          f"| {_mib(join.received_bytes)} "
          f"| {join.snapshots} ({_mib(join.snapshot_bytes)}) | {_mib(join.joiner_disk_bytes)} "
          f"| {'yes' if join.copies_equal else 'NO'} | {join.points_after:,} |")
    print(f"\nThe vectors alone weigh {_mib(join.data_bytes)} (x {join.replication_factor} copies); the moved "
          f"share of them is {_mib(join.data_bytes * share * join.replication_factor)}.")


def _mib(count: float) -> str:
    """Bytes in MiB."""
    return f"{count / (1 << 20):,.1f} MiB"


def print_report(results: Results, options: argparse.Namespace, machine: str, command: str, seconds: float) -> None:
    """Prints every table of the phases that ran, the machine line and the command."""
    print(f"\n## replication-bench: sharded, replicated collections, 3 nodes on loopback\n\n{machine}, "
          f"{os.getloadavg()[0]:.1f} at the end; {options.points:,} x {options.dim} cosine vectors; "
          f"run took {seconds / 60:.1f} min\n")
    if results.lags:
        lag_table(results.lags)
    if results.writes:
        write_table(results.writes, results.etcd_title)
    if results.searches or results.peer:
        search_table(results.searches, results.peer, options)
    if results.failovers:
        failover_table(results.failovers)
    if results.join:
        join_table(results.join)
    if results.elections:
        print("\nRaft leaders elected over each cluster's life (1 = leadership never moved; the failover "
              "phase's leader kills add one each): "
              + ", ".join(f"{name} {count}" for name, count in results.elections.items()) + ".")
    print(f"\n```sh\n{command}\n```")
