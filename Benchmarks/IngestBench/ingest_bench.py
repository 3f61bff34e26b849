"""ingest-bench: bulk import through the server against the engine's in-process parallel build,
on the same data, in the same run.

    swift build -c release --product ruvector-server --product ruvector --product vector-build-scaling
    python3 Benchmarks/IngestBench/ingest_bench.py [--sizes 100000x128,100000x384] [--threads 2]
        [--batch 1000] [--repeat 1] [--bin .build/release] [--work DIR]

Needs numpy and grpcio (the Python client's dependencies); the client itself is taken from
clients/python of this checkout. For each size:

  (a) in-process: `vector-build-scaling --threads T --fingerprint` links the points with
      HNSWIndex.upsert(_:threads:) in one batch (no server, no log). Its seeded data (clustered
      Gaussians) is the data every other case imports.
  (b) Python `import_stream(wait=False)`, (c) Python `import_stream(wait=True)`,
  (d) CLI `ruvector upsert --wait accepted`, (e) CLI `ruvector upsert` (default wait),
      each into a fresh collection (L2, M 16, efConstruction 200: the server's defaults) of a
      release server at its defaults, timed from the first message until the collection
      reports indexed (`wait_indexed`), not just until the last acknowledgement.

(a) runs before the first import and after each one; every import's ratio is to the mean rate
of the two (a) runs beside it, so load from other work on a shared machine moves both sides.
Each case prints points/s and that ratio, with the server's and the client's CPU seconds and
the automatic snapshots taken meanwhile. After (b) the server is killed (SIGKILL) and
restarted on its data directory: the restart time is what a crash right after a bulk import
costs (automatic snapshots at their defaults bound it). With --repeat R every case runs R
times and medians are reported.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "clients" / "python"))
sys.path.insert(0, str(ROOT / "Benchmarks"))
import ruvector  # noqa: E402  (the checkout's client, not an installed one)
from bench_server import BenchServer  # noqa: E402


def automatic_snapshots(server: BenchServer) -> int:
    """Automatic snapshots the server has logged so far (its log holds every run on this data)."""
    return server.log.read_text().count("automatic snapshot")


def in_process_build(binary: pathlib.Path, n: int, dim: int, threads: int, m: int, efc: int,
                     work: pathlib.Path) -> tuple[float, float, np.ndarray]:
    """(seconds, CPU seconds, data) of vector-build-scaling's parallel build of n x dim."""
    result = subprocess.run([str(binary), "--sizes", str(n), "--dim", str(dim), "--threads", str(threads),
                             "--m", str(m), "--efc", str(efc), "--fingerprint"],
                            env={**os.environ, "TMPDIR": str(work)}, capture_output=True, text=True, check=True)
    match = re.search(rf"ruvector {n}: ([\d.]+) s, ([\d.]+) s CPU", result.stderr)
    if not match:
        raise RuntimeError(f"unexpected vector-build-scaling output: {result.stderr!r}")
    data = np.fromfile(work / f"vector-build-scaling-{n}x{dim}" / "base.f32", dtype="<f4").reshape(n, dim)
    return float(match.group(1)), float(match.group(2)), data


def timed_import(server: BenchServer, case: str, name: str, data: np.ndarray, npy: pathlib.Path, cli: pathlib.Path,
                 batch: int, m: int, efc: int) -> dict:
    """Runs one import case into a fresh collection; times it until the collection is indexed."""
    n, dim = data.shape
    with ruvector.Client(server.address, timeout=600) as db:
        db.create_collection(name, dimension=dim, metric="l2", m=m, ef_construction=efc)
        snapshots, server_cpu, client = automatic_snapshots(server), server.cpu_seconds(), os.times()
        started = time.monotonic()
        if case in ("b", "c"):
            db.import_stream(name, ((i, data[i]) for i in range(n)), batch_size=batch, wait=case == "c")
            cli_cpu = 0.0
        else:
            wait = ["--wait", "accepted"] if case == "d" else []
            subprocess.run([str(cli), "upsert", "--server", server.address, "--collection", name, "--file", str(npy),
                            "--batch-size", str(batch), "--no-progress", *wait], check=True, capture_output=True)
            done = os.times()
            cli_cpu = done.children_user - client.children_user + done.children_system - client.children_system
        acknowledged = time.monotonic() - started
        db.wait_indexed(name, timeout=3600)
        seconds = time.monotonic() - started
        after = os.times()
        count = db.get_collection(name).points_count
    if count != n:
        raise RuntimeError(f"case {case}: {count} points indexed, expected {n}")
    return {"seconds": seconds, "acknowledged": acknowledged, "server_cpu": server.cpu_seconds() - server_cpu,
            "client_cpu": after.user - client.user + after.system - client.system + cli_cpu,
            "snapshots": automatic_snapshots(server) - snapshots}


CASES = {"b": "Python import_stream, wait=False", "c": "Python import_stream, wait=True",
         "d": "CLI upsert --wait accepted", "e": "CLI upsert (default wait)"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000x128,100000x384", help="NxDIM,... (default 100000x128,100000x384)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="in-process build threads (default: cores)")
    parser.add_argument("--batch", type=int, default=1000, help="points per UpsertStream message (default 1000)")
    parser.add_argument("--m", type=int, default=16)
    parser.add_argument("--efc", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=1, help="runs of every case, interleaved; the median is reported")
    parser.add_argument("--bin", default=str(ROOT / ".build" / "release"), help="folder of the release binaries")
    parser.add_argument("--work", help="scratch folder (default: a new temporary one, removed at the end)")
    parser.add_argument("--server-arg", action="append", default=[], help="extra ruvector-server flag (repeatable)")
    options = parser.parse_args()
    binaries = pathlib.Path(options.bin)
    server_binary, cli, builder = binaries / "ruvector-server", binaries / "ruvector", binaries / "vector-build-scaling"
    for binary in (server_binary, cli, builder):
        if not os.access(binary, os.X_OK):
            sys.exit(f"{binary} is missing: swift build -c release --product {binary.name}")
    work = pathlib.Path(options.work or tempfile.mkdtemp(prefix="ingest-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"# ingest-bench: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start; "
          f"batch {options.batch}, M {options.m}, efConstruction {options.efc}, repeat {options.repeat}")
    try:
        for size in options.sizes.split(","):
            n, dim = (int(x) for x in size.lower().split("x"))
            run_size(n, dim, options, server_binary, cli, builder, work)
    finally:
        if not options.work:
            shutil.rmtree(work, ignore_errors=True)


def run_size(n, dim, options, server_binary, cli, builder, work):
    data_dir, log = work / f"data-{n}x{dim}", work / f"server-{n}x{dim}.log"
    shutil.rmtree(data_dir, ignore_errors=True)
    log.unlink(missing_ok=True)
    npy = work / f"points-{n}x{dim}.npy"

    def build():
        seconds, cpu, data = in_process_build(builder, n, dim, options.threads, options.m, options.efc, work)
        builds.append({"seconds": seconds, "cpu": cpu})
        return data

    # (a) runs before and after every import: each import is compared with the mean rate of
    # the two builds beside it, so a load that comes and goes on a shared machine shifts both.
    builds, results, restarts = [], {case: [] for case in CASES}, []
    data = build()
    np.save(npy, data)
    server = BenchServer(server_binary, data_dir, log=log, args=options.server_arg)
    try:
        for run in range(options.repeat):
            for case in CASES:
                result = timed_import(server, case, f"{case}{run}", data, npy, cli, options.batch, options.m, options.efc)
                if case == "b":
                    # A crash right after a bulk import: what the next start replays.
                    server.stop(kill=True)
                    server = BenchServer(server_binary, data_dir, log=log, args=options.server_arg)
                    restarts.append(server.start_seconds)
                with ruvector.Client(server.address) as db:
                    db.delete_collection(f"{case}{run}")    # keeps memory (and the next restart) small
                build()
                beside = (n / builds[-2]["seconds"] + n / builds[-1]["seconds"]) / 2
                result["ratio"] = n / result["seconds"] / beside
                results[case].append(result)
    finally:
        server.stop()
    shutil.rmtree(data_dir, ignore_errors=True)
    report(n, dim, options, builds, results, restarts, log)


def report(n, dim, options, builds, results, restarts, log):
    median = lambda runs, key: statistics.median(r[key] for r in runs)  # noqa: E731
    print(f"\n## {n} x {dim}\n")
    print("| case | points/s | ratio to (a) | acknowledged s | indexed s | server CPU s | client CPU s | snapshots |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| (a) in-process parallel build, {options.threads} threads ({len(builds)} runs) | "
          f"{n / median(builds, 'seconds'):,.0f} | 1.00 | - | {median(builds, 'seconds'):.2f} | {median(builds, 'cpu'):.2f} | - | - |")
    for case, title in CASES.items():
        runs = results[case]
        seconds = median(runs, "seconds")
        print(f"| ({case}) {title} | {n / seconds:,.0f} | {median(runs, 'ratio'):.2f} | {median(runs, 'acknowledged'):.2f} | "
              f"{seconds:.2f} | {median(runs, 'server_cpu'):.2f} | {median(runs, 'client_cpu'):.2f} | "
              f"{median(runs, 'snapshots'):.0f} |")
    build_times = ", ".join(f"{b['seconds']:.2f}" for b in builds)
    print(f"\n(a) runs, s: {build_times}")
    recovered = [line for line in log.read_text().splitlines() if "collection recovered" in line]
    print(f"restart after SIGKILL right after (b): {statistics.median(restarts):.2f} s "
          f"(runs: {', '.join(f'{s:.2f}' for s in restarts)}; from launch until listening)")
    for line in recovered[-len(restarts):]:
        fields = dict(re.findall(r"(\w+)=(\S+)", line))
        print(f"  {fields.get('collection')}: open {fields.get('open_ms')} ms = snapshot load {fields.get('snapshot_load_ms')} ms "
              f"+ replay {fields.get('replay_ms')} ms of {fields.get('replayed_records')} records")
    print(f"(ratio: to the mean rate of the (a) runs just before and just after; medians of {options.repeat} run(s); "
          f"server log: {log})")


if __name__ == "__main__":
    main()
