"""Search over gRPC: ruvector-server vs hnswlib served by Python grpcio, same data, same queries,
same Swift client (search-rpc-bench), same run. Reports QPS and latency at 1 and 8 concurrent
streams, the servers' own search time (SearchResponse.time_micros) and the difference: the RPC
overhead. Recall@10 against brute force for both.

    swift build -c release --product ruvector-server && swift build -c release --product search-rpc-bench
    .venv/bin/pip install -r scripts/requirements-bench.txt      # numpy, hnswlib (pinned)
    .venv/bin/python Benchmarks/SearchRPCBench/bench_search.py [--n 100000 --dim 384 --queries 1000 --ef 64]

On a KVM guest the cost of waking a thread on an idle vCPU depends on guest halt polling
(cpuidle-haltpoll, /sys/module/haltpoll/parameters/guest_halt_poll_ns): the kernel's default
polls 200 µs before halting, but a VM may boot with it off (0), and then every wake-up costs
tens of µs on each side of a round trip. The script prints the setting it ran under; as root,
`--guest-halt-poll-ns 0,200000` measures under each value in turn (restoring the old one).
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Benchmarks"))
from bench_server import BenchServer  # noqa: E402

HALT_POLL = pathlib.Path("/sys/module/haltpoll/parameters/guest_halt_poll_ns")


def halt_poll_now():
    """The guest halt-polling window in ns, or None when this is no KVM guest with cpuidle-haltpoll."""
    return int(HALT_POLL.read_text()) if HALT_POLL.exists() else None


@contextmanager
def halt_poll(value):
    """Runs the block with guest halt polling at `value` ns (None: as the machine is), then restores it."""
    if value is None:
        yield
        return
    old = HALT_POLL.read_text().strip()
    HALT_POLL.write_text(str(value))
    try:
        yield
    finally:
        HALT_POLL.write_text(old)


def generate(n, dim, nq, seed=42):
    """Clustered Gaussian data (100 clusters), queries from the same distribution."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(100, dim)).astype(np.float32)
    base = centers[rng.integers(0, 100, n)] + rng.normal(scale=0.4, size=(n, dim)).astype(np.float32)
    queries = centers[rng.integers(0, 100, nq)] + rng.normal(scale=0.4, size=(nq, dim)).astype(np.float32)
    return base.astype(np.float32), queries.astype(np.float32)


def ground_truth(base, queries, k):
    norms = (base * base).sum(axis=1)
    truth = []
    for q in queries:
        truth.append(np.argpartition(norms - 2 * base @ q, k)[:k])
    return truth


def recall(ids, truth, k):
    return float(np.mean([len(set(map(int, row[:k])) & set(map(int, t))) / k for row, t in zip(ids, truth)]))


def start(command, pattern):
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()
    match = re.search(pattern, line)
    if not match:
        process.kill()
        raise SystemExit(f"{command[0]} did not start: {line!r}")
    return process, match


def run_client(client, port, queries_path, dim, k, ef, ids_path, rounds, halt_polls):
    """Both ways a Swift caller can run: tasks on Swift's pool (each call crosses to the
    connection's thread and back) and tasks on the channel's executor (no crossing); under
    each guest halt-polling setting asked for."""
    rows = []
    for setting in halt_polls:
        with halt_poll(setting):
            for callers in ("pool", "loop"):
                output = subprocess.run([client, "--port", str(port), "--collection", "bench", "--queries", queries_path,
                                         "--dim", str(dim), "--k", str(k), "--ef", str(ef), "--rounds", str(rounds),
                                         "--concurrency", "1,8", "--callers", callers, "--ids-out", ids_path],
                                        check=True, capture_output=True, text=True).stdout
                rows += [dict(json.loads(line), callers=callers, halt_poll=halt_poll_now())
                         for line in output.splitlines() if line.startswith("{")]
    return rows


def halt_poll_label(ns):
    return "n/a" if ns is None else f"{ns // 1000} µs"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--m", type=int, default=16)
    parser.add_argument("--efc", type=int, default=200)
    parser.add_argument("--ef", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--guest-halt-poll-ns", default="",
                        help="comma-separated guest halt-polling windows (ns) to measure under, e.g. 0,200000 "
                             "(root, KVM guest with cpuidle-haltpoll); default: the machine as it is")
    args = parser.parse_args()
    halt_polls = [None]
    if args.guest_halt_poll_ns:
        if not HALT_POLL.exists():
            raise SystemExit(f"--guest-halt-poll-ns: {HALT_POLL} does not exist (not a KVM guest with cpuidle-haltpoll)")
        halt_polls = [int(value) for value in args.guest_halt_poll_ns.split(",")]

    bin_path = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
    server_bin, client_bin = f"{bin_path}/ruvector-server", f"{bin_path}/search-rpc-bench"
    for path in (server_bin, client_bin):
        if not os.access(path, os.X_OK):
            raise SystemExit(f"missing {path}: swift build -c release --product ruvector-server && swift build -c release --product search-rpc-bench")

    work = tempfile.mkdtemp(prefix="ruvector-search-bench-")
    base, queries = generate(args.n, args.dim, args.queries)
    base.tofile(f"{work}/base.f32")
    queries.tofile(f"{work}/queries.f32")
    truth = ground_truth(base, queries, args.k)
    import grpc   # the stubs are the Python client's (clients/python, installed by scripts/setup.sh)
    from ruvector.v1 import common_pb2, vector_pb2, vector_pb2_grpc

    rows = []
    server = BenchServer(server_bin, f"{work}/data")
    try:
        port = server.port
        stub = vector_pb2_grpc.VectorServiceStub(grpc.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.max_send_message_length", 64 << 20)]))
        stub.CreateCollection(vector_pb2.CreateCollectionRequest(
            name="bench", dimension=args.dim, metric=vector_pb2.METRIC_L2,
            hnsw=vector_pb2.HnswConfig(m=args.m, ef_construction=args.efc, ef_search=args.ef)))
        started = time.perf_counter()

        def batches(size=500):
            for start_id in range(0, args.n, size):
                chunk = base[start_id:start_id + size]
                yield vector_pb2.UpsertRequest(collection="bench", points=[
                    vector_pb2.PointStruct(id=common_pb2.PointId(num=start_id + i), vector=common_pb2.Vector(values=v))
                    for i, v in enumerate(chunk.tolist())])
        stub.UpsertStream(batches())
        ours_build = time.perf_counter() - started
        results = run_client(client_bin, port, f"{work}/queries.f32", args.dim, args.k, args.ef, f"{work}/ours.ids",
                             args.rounds, halt_polls)
        ours_ids = np.fromfile(f"{work}/ours.ids", dtype=np.uint64).reshape(-1, args.k)
        rows += [("ruvector-server", recall(ours_ids, truth, args.k), r) for r in results]
    finally:
        server.stop()

    peer, match = start([sys.executable, str(ROOT / "Benchmarks/SearchRPCBench/peer_server.py"),
                         f"{work}/base.f32", str(args.dim), str(args.m), str(args.efc), str(args.ef)],
                        r"listening on (\d+) build_seconds (\S+)")
    try:
        peer_build = float(match.group(2))
        results = run_client(client_bin, int(match.group(1)), f"{work}/queries.f32", args.dim, args.k, args.ef,
                             f"{work}/peer.ids", args.rounds, halt_polls)
        peer_ids = np.fromfile(f"{work}/peer.ids", dtype=np.uint64).reshape(-1, args.k)
        rows += [("hnswlib + Python grpcio (peer)", recall(peer_ids, truth, args.k), r) for r in results]
    finally:
        peer.terminate()
        peer.wait()
    floors = []
    if shutil.which("cc"):
        # The floor under both: a bare loopback TCP ping-pong (see loopback_floor.c).
        subprocess.run(["cc", "-O2", "-o", f"{work}/loopback_floor",
                        str(ROOT / "Benchmarks/SearchRPCBench/loopback_floor.c")], check=True)
        for setting in halt_polls:
            with halt_poll(setting):
                floors.append((halt_poll_now(), subprocess.run([f"{work}/loopback_floor"], check=True,
                                                               capture_output=True, text=True).stdout))
    shutil.rmtree(work, ignore_errors=True)

    print(f"\n{args.n} x {args.dim} L2, clustered Gaussian (seed 42), {args.queries} queries x {args.rounds} rounds, "
          f"k={args.k}, M={args.m}, efConstruction={args.efc}, ef={args.ef}; one HTTP/2 connection, Swift client")
    print(f"build: ruvector-server {ours_build:.1f} s (UpsertStream import incl. HNSW), hnswlib {peer_build:.1f} s "
          f"(in-process, 1 thread)\n")
    print("callers: the Swift client's calling tasks on Swift's pool, or on the channel's executor (its event loop)\n")
    print("guest halt poll: the window cpuidle-haltpoll polls before an idle vCPU halts (n/a: not such a guest)\n")
    print("| server | recall@10 | guest halt poll | callers | streams | QPS | p50 µs | p99 µs | server search p50 µs "
          "| RPC overhead p50 µs | p99 µs |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, rec, r in rows:
        print(f"| {name} | {rec:.3f} | {halt_poll_label(r['halt_poll'])} | {r['callers']} | {r['concurrency']} "
              f"| {r['qps']:,.0f} | {r['p50_us']:,.0f} | {r['p99_us']:,.0f} | {r['server_p50_us']:,.0f} "
              f"| {r['overhead_p50_us']:,.0f} | {r['overhead_p99_us']:,.0f} |")
    key_of = lambda r: (r["halt_poll"] if r["halt_poll"] is not None else -1, r["callers"], r["concurrency"])
    ours = {key_of(r): r for name, _, r in rows if name == "ruvector-server"}
    peer = {key_of(r): r for name, _, r in rows if name != "ruvector-server"}
    for key in sorted(ours):
        print(f"guest halt poll {halt_poll_label(ours[key]['halt_poll'])}, callers {key[1]}, streams {key[2]}: "
              f"ruvector-server QPS = {ours[key]['qps'] / peer[key]['qps']:.2f}x the peer's")
    for setting, floor in floors:
        print(f"\nloopback floor (loopback_floor.c, same run, guest halt poll {halt_poll_label(setting)}): "
              "a bare TCP ping-pong, answered after a spin of the given wait\n")
        print(floor)


if __name__ == "__main__":
    main()
