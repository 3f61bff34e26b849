"""The Markdown table of a cluster-bench run: one row per measure, one column per system, and
the ratio RuVector / etcd."""
from __future__ import annotations

import argparse
import math
from typing import Callable

from drive import FailoverResult, LevelResult, percentile

Results = dict[str, tuple[str, list[LevelResult], FailoverResult]]
#: A row: its label, its value from one system's result, how to print a value, and whether the
#: ratio RuVector / etcd is shown.
Row = tuple[str, Callable, Callable[[float], str], bool]


def milliseconds(seconds: float) -> str:
    """Seconds as milliseconds for the table ("never": no write succeeded within the limit)."""
    return "never" if math.isinf(seconds) else f"{seconds * 1000:,.1f}"


def level_rows(clients: int) -> list[Row]:
    """The rows of one load level (values from its LevelResult)."""
    who = f"{clients} client{'s' if clients > 1 else ''}"
    return [
        (f"{who}: commits/s", lambda level: level.proposals_per_second, "{:,.0f}".format, True),
        (f"{who}: latency p50, ms", lambda level: percentile(level.latencies_seconds, 0.5) * 1000,
         "{:,.2f}".format, True),
        (f"{who}: latency p99, ms", lambda level: percentile(level.latencies_seconds, 0.99) * 1000,
         "{:,.2f}".format, True),
        (f"{who}: servers' CPU per commit, µs",
         lambda level: level.server_cpu_seconds / max(1, len(level.latencies_seconds)) * 1e6, "{:,.0f}".format, True),
        (f"{who}: client CPU, cores", lambda level: level.client_cpu_seconds / level.seconds, "{:.2f}".format, False),
        (f"{who}: failed writes", lambda level: level.errors, "{:,.0f}".format, False),
    ]


def failover_rows(kills: int) -> list[Row]:
    """The failover rows (values from a FailoverResult)."""
    return [
        (f"failover ({kills} kills): p50, ms", lambda failover: percentile(failover.seconds, 0.5), milliseconds, True),
        (f"failover ({kills} kills): p99, ms", lambda failover: percentile(failover.seconds, 0.99), milliseconds,
         True),
        ("failover: kills after which writes stopped over 1 s",
         lambda failover: sum(seconds > 1 for seconds in failover.seconds), "{:,.0f}".format, False),
    ]


def row(label: str, values: list[float | None], render: Callable[[float], str], ratio: bool) -> str:
    """One table row; the ratio column is RuVector / etcd when both ran and it means something."""
    cells = ["-" if value is None else render(value) for value in values]
    etcd, ours = values
    quotient = "-"
    if ratio and etcd and ours is not None and not math.isinf(etcd) and not math.isinf(ours):
        quotient = f"{ours / etcd:.2f}"
    return f"| {label} | {' | '.join(cells)} | {quotient} |"


def print_report(results: Results, options: argparse.Namespace, machine: str, command: str) -> None:
    """Prints the table, how it was measured, and the command line."""
    systems = ("etcd", "ruvector")
    titles = [results[system][0] if system in results else name for system, name in zip(systems, ("etcd", "RuVector"))]
    print(f"\n## cluster-bench: 3 nodes on loopback\n\n{machine}\n")
    print(f"| | {titles[0]} | {titles[1]} | RuVector / etcd |")
    print("|---|---:|---:|---:|")
    for index, clients in enumerate(options.client_levels):
        for label, value, render, ratio in level_rows(clients):
            values = [value(results[system][1][index]) if system in results else None for system in systems]
            print(row(label, values, render, ratio))
    for label, value, render, ratio in failover_rows(options.kills):
        values = [value(results[system][2]) if system in results else None for system in systems]
        print(row(label, values, render, ratio))
    print_notes(results, options)
    print(f"\n```sh\n{command}\n```")


RUVECTOR_WRITES = {
    "create": "CreateCollection of a new name, dimension 4 (it also creates the collection's files on every node).",
    "settings": "UpdateSettings with the next replication factor (a trivial apply: the consensus path alone).",
}


def print_notes(results: Results, options: argparse.Namespace) -> None:
    """What each row measured, and every failover time."""
    print(f"\nLoad: closed-loop grpc.aio writers sent to the leader over at most {options.connections} connections; "
          f"{options.warmup_seconds:g} s of warm-up, then {options.seconds:g} s measured per level; latency is "
          f"from send to answer of each write that completed in the window (p99 nearest rank). etcd: KV/Put of "
          f"a new key with a 16-byte value; RuVector: {RUVECTOR_WRITES[options.ruvector_write]} "
          f"CPU: user+system of the 3 server processes over the window, per commit.")
    print(f"Failover: 1 writer through the leader for {options.steady_seconds:g} s, kill -9 of the leader, then "
          f"one write attempt every {options.hedge_millis:g} ms to the other members in turn "
          f"(deadline {options.attempt_timeout_seconds:g} s each); time from the kill to the first success "
          f"(p99 nearest rank: of fewer than 100 kills, the maximum).")
    if "etcd" in results:
        print(f"etcd flags: --heartbeat-interval {options.etcd_heartbeat_millis} --election-timeout "
              f"{options.etcd_election_millis} --pre-vote={'true' if options.etcd_pre_vote else 'false'} "
              f"(fsync on: etcd's default).")
    if "ruvector" in results:
        print(f"ruvector-server extra flags: {' '.join(options.ruvector_arg) or 'none'}.")
    for title, _, failover in results.values():
        print(f"{title} failover ms, in order: {', '.join(milliseconds(s) for s in failover.seconds)}")
