"""cluster-bench: a 3-node RuVector cluster against a 3-member etcd cluster, in the same run, on
the same machine: committed writes per second and commit latency under load, and how long a
write waits after the leader is killed.

    swift build -c release --product ruvector-server
    apt-get install etcd-server golang-etcd-server-dev
    .venv/bin/pip install -r scripts/requirements-bench.txt
    .venv/bin/python Benchmarks/ClusterBench/cluster_bench.py [--quick] [--only etcd|ruvector]

Each cluster is started on loopback (separate data directories in a scratch folder, fsync on),
driven, and stopped before the next one starts:

  load      closed-loop writers at 1, 16 and 256 concurrent clients (--clients), sent to the
            leader: etcd KV/Put of a new small key; RuVector VectorService/CreateCollection of
            a new name (dimension 4). Each level: a warm-up, then --seconds measured; the
            writes are removed between levels.
  failover  one writer in a closed loop through the leader; the leader is killed (-9); once
            the writer's call fails it writes to the other members, one attempt every
            --hedge-millis, until one succeeds. The time from the kill to that success, --kills
            times (the killed member restarts and catches up between kills).

Prints one Markdown table with both systems and the command line. Writes nothing into the
repository: scratch data, generated etcd stubs and logs go to a temporary folder (--work).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # the benchmark writes nothing into the checkout, __pycache__ included

from drive import FailoverResult, LevelResult, percentile, run_failover, run_level  # noqa: E402
from report import print_report  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]


def parse_options() -> argparse.Namespace:
    """The command line; --quick shortens every phase."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("etcd", "ruvector"), help="run one system only")
    parser.add_argument("--quick", action="store_true",
                        help="a short run: 2 s per level after 0.5 s of warm-up, 3 kills")
    parser.add_argument("--clients", default="1,16,256", help="concurrent clients per level (default 1,16,256)")
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds per level (default 10)")
    parser.add_argument("--warmup-seconds", type=float, default=2, help="unmeasured seconds before each level (default 2)")
    parser.add_argument("--connections", type=int, default=8,
                        help="connections to the leader, shared by the clients of a level (default 8)")
    parser.add_argument("--call-timeout-seconds", type=float, default=10, help="deadline of a write under load")
    parser.add_argument("--kills", type=int, default=20, help="leader kills in the failover phase (default 20)")
    parser.add_argument("--steady-seconds", type=float, default=1,
                        help="seconds of 1-client writes before each kill (default 1)")
    parser.add_argument("--hedge-millis", type=float, default=10,
                        help="after the kill, a new write attempt every this many ms (default 10)")
    parser.add_argument("--attempt-timeout-seconds", type=float, default=1,
                        help="deadline of each write attempt during failover (default 1)")
    parser.add_argument("--failover-limit-seconds", type=float, default=30,
                        help="a kill after which no write succeeds within this counts as failed (default 30)")
    parser.add_argument("--ruvector-binary", default=str(ROOT / ".build" / "release" / "ruvector-server"))
    parser.add_argument("--ruvector-arg", action="append", default=[],
                        help="extra ruvector-server flag for every node (repeatable)")
    parser.add_argument("--ruvector-write", choices=("create", "settings"), default="create",
                        help="RuVector's write: CreateCollection (default; creates files on every node) or "
                             "UpdateSettings (a trivial apply: the consensus path alone)")
    parser.add_argument("--etcd-binary", default="etcd")
    parser.add_argument("--etcd-heartbeat-millis", type=int, default=30,
                        help="etcd --heartbeat-interval (default 30; etcd's own default is 100)")
    parser.add_argument("--etcd-election-millis", type=int, default=150,
                        help="etcd --election-timeout (default 150, as RuVector's; etcd's own default is 1000)")
    parser.add_argument("--etcd-pre-vote", action=argparse.BooleanOptionalAction, default=True,
                        help="etcd --pre-vote (default on, as RuVector's elections)")
    parser.add_argument("--work", help="scratch folder, kept afterwards (default: a temporary one, removed)")
    if "--quick" in sys.argv[1:]:
        # Shorter defaults; a value given on the command line still wins.
        parser.set_defaults(seconds=2, warmup_seconds=0.5, kills=3, steady_seconds=0.5)
    options = parser.parse_args()
    options.client_levels = [int(level) for level in options.clients.split(",")]
    return options


def progress(message: str) -> None:
    """A progress line on stderr (the table goes to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def make_cluster(system: str, scratch: pathlib.Path, options: argparse.Namespace):
    """The cluster object for `system`, its processes not started yet."""
    if system == "etcd":
        from etcd_peer import EtcdCluster
        binary = shutil.which(options.etcd_binary)
        if binary is None:
            sys.exit(f"{options.etcd_binary} not found: apt-get install etcd-server golang-etcd-server-dev")
        return EtcdCluster(scratch, binary, options.etcd_heartbeat_millis, options.etcd_election_millis,
                           options.etcd_pre_vote)
    from ruvector_nodes import RuVectorCluster
    binary = pathlib.Path(options.ruvector_binary)
    if not os.access(binary, os.X_OK):
        sys.exit(f"{binary} is missing: swift build -c release --product ruvector-server")
    return RuVectorCluster(scratch, binary, options.ruvector_arg, write_kind=options.ruvector_write)


async def measure(system: str, scratch: pathlib.Path, options: argparse.Namespace
                  ) -> tuple[str, list[LevelResult], FailoverResult]:
    """Starts one system's cluster, runs the load levels and the failover rounds, stops it."""
    # A reused --work folder holds the last run's members, with other ports: start afresh.
    shutil.rmtree(scratch / system, ignore_errors=True)
    cluster = make_cluster(system, scratch / system, options)
    progress(f"{cluster.title}: starting 3 members")
    try:
        await cluster.start()
        levels = []
        for clients in options.client_levels:
            levels.append(await run_level(cluster, clients, options.connections, options.warmup_seconds,
                                          options.seconds, options.call_timeout_seconds))
            result = levels[-1]
            progress(f"{cluster.title}: {clients} client(s): {result.proposals_per_second:,.0f} commits/s, "
                     f"p50 {percentile(result.latencies_seconds, 0.5) * 1000:.2f} ms, {result.errors} errors")
        failover = await run_failover(cluster, options.kills, options.steady_seconds, options.hedge_millis / 1000,
                                      options.attempt_timeout_seconds, options.failover_limit_seconds, progress)
    finally:
        cluster.stop()
    return cluster.title, levels, failover


async def measure_all(systems: list[str], scratch: pathlib.Path, options: argparse.Namespace
                      ) -> dict[str, tuple[str, list[LevelResult], FailoverResult]]:
    """`measure` for each system in turn, on one event loop (grpc.aio is bound to its loop)."""
    return {system: await measure(system, scratch, options) for system in systems}


def machine_line(scratch: pathlib.Path) -> str:
    """Cores, load, the scratch folder's file system and the checkout's commit."""
    filesystem = subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "--target", str(scratch)],
                                capture_output=True, text=True).stdout.strip() or "an unknown file system"
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    return (f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start, scratch on {filesystem}, "
            f"commit {commit}, {time.strftime('%Y-%m-%d')}")


def scratch_folder(work: str | None, prefix: str) -> tuple[pathlib.Path, str]:
    """The scratch folder (`work`, or a new temporary one) and the machine line; warns when
    the folder is on tmpfs."""
    scratch = pathlib.Path(work or tempfile.mkdtemp(prefix=prefix))
    scratch.mkdir(parents=True, exist_ok=True)
    machine = machine_line(scratch)
    if "tmpfs" in machine:
        progress("warning: the scratch folder is on tmpfs, where fsync costs nothing; use --work on a disk")
    return scratch, machine


def main() -> None:
    options = parse_options()
    scratch, machine = scratch_folder(options.work, "cluster-bench-")
    systems = [options.only] if options.only else ["etcd", "ruvector"]
    try:
        results = asyncio.run(measure_all(systems, scratch, options))
    except BaseException:
        progress(f"stopped; logs kept in {scratch}")
        raise
    print_report(results, options, machine, "python3 " + shlex.join([os.path.relpath(sys.argv[0])] + sys.argv[1:]))
    if not options.work:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
