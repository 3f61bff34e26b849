"""Response compression on real search responses: what gzip and deflate save and cost, per
response shape, and the end-to-end effect on loopback. The peer is the same calls uncompressed.

    swift build -c release --product ruvector-server
    .venv/bin/python Benchmarks/CompressionBench/bench_compression.py [--n 20000 --dim 384 --calls 1000]

1. One server is loaded with n points (clustered Gaussian vectors, document-like payloads:
   title, category, tags, price, year, url). For each response shape (k = 10 / 100, payload
   only, vectors only, both) the script takes one real SearchResponse off the wire, then
   compresses it with zlib (the same libz the server links) at levels 1 and 6: size, ratio,
   µs per message (median of 200), and the order-0 entropy of the message's bytes.
2. End to end: the same server restarted on the same data with --response-compression off
   and gzip (the defaults: threshold 1024 bytes, float-heavy responses sent plain), then gzip
   with threshold 0, then also with --response-compression-max-entropy-bits-per-byte 8
   (every shape compressed); one grpcio client (which accepts identity, deflate, gzip) calls Search `calls`
   times per shape, sequentially: p50 / p99 latency, QPS, and the server's CPU time per call
   (utime + stime from /proc, before and after).
"""
import argparse
import math
import os
import pathlib
import shutil
import statistics
import sys
import tempfile
import time
import zlib

import grpc
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "clients" / "python"))
sys.path.insert(0, str(ROOT / "Benchmarks"))
import ruvector  # noqa: E402
from bench_server import BenchServer  # noqa: E402
from ruvector import convert  # noqa: E402
from ruvector.v1 import vector_pb2  # noqa: E402

WORDS = ("vector database search index graph query neighbor embedding model cluster shard replica "
         "snapshot durable stream filter payload score recall latency memory swift server client "
         "protocol compression network release update delete insert batch cosine distance").split()
SHAPES = [(1, True, False), (4, True, False), (10, True, False), (100, True, False), (10, False, True), (100, False, True), (10, True, True),
          (100, True, True)]


def shape_name(k, payload, vectors):
    return f"k={k}, " + " + ".join(part for part, on in (("payload", payload), ("vectors", vectors)) if on)


def payload(rng, i):
    return {"title": " ".join(rng.choice(WORDS, 8)), "category": f"category-{rng.integers(0, 20)}",
            "tags": [str(t) for t in rng.choice(WORDS, 3)], "price": float(round(rng.uniform(1, 500), 2)),
            "year": int(rng.integers(1990, 2027)), "url": f"https://docs.example.com/articles/{i}"}


def load(address, n, dim, rng):
    centers = rng.normal(size=(100, dim)).astype(np.float32)
    vectors = centers[rng.integers(0, 100, n)] + rng.normal(scale=0.4, size=(n, dim)).astype(np.float32)
    with ruvector.Client(address) as client:
        client.create_collection("docs", dim)
        for start in range(0, n, 2000):
            ids = list(range(start, min(start + 2000, n)))
            client.upsert("docs", ids, vectors[start:start + len(ids)], [payload(rng, i) for i in ids])
    return centers


def search_request(query, k, with_payload, with_vectors):
    request = vector_pb2.SearchRequest(collection="docs", vector=convert.to_vector(query), k=k)
    getattr(request, "with").with_payload = with_payload
    getattr(request, "with").with_vectors = with_vectors
    return request


def raw_search(channel):
    return channel.unary_unary("/ruvector.v1.VectorService/Search", request_serializer=vector_pb2.SearchRequest.SerializeToString,
                               response_deserializer=None)


def entropy_bits(data):
    counts = np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)
    p = counts[counts > 0] / len(data)
    return float(-(p * np.log2(p)).sum())


def compress_micros(data, level, wbits, repeats=200):
    times = []
    for _ in range(repeats):
        started = time.perf_counter_ns()
        compressor = zlib.compressobj(level, zlib.DEFLATED, wbits)
        out = compressor.compress(data) + compressor.flush()
        times.append((time.perf_counter_ns() - started) / 1000)
    return len(out), statistics.median(times)


def message_table(address, queries):
    print("\n| response | bytes | order-0 entropy bits/byte | gzip-1 ratio | gzip-1 µs | gzip-6 ratio | gzip-6 µs | deflate-1 ratio | deflate-1 µs |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    with grpc.insecure_channel(address, options=[("grpc.max_receive_message_length", 64 << 20)]) as channel:
        search = raw_search(channel)
        for k, with_payload, with_vectors in SHAPES:
            data = search(search_request(queries[0], k, with_payload, with_vectors))
            cells = [shape_name(k, with_payload, with_vectors), f"{len(data):,}", f"{entropy_bits(data):.2f}"]
            for level, wbits in ((1, 31), (6, 31), (1, 15)):
                size, micros = compress_micros(data, level, wbits)
                cells += [f"{size / len(data):.3f}", f"{micros:.0f}"]
            print("| " + " | ".join(cells) + " |")


def end_to_end(binary, data_dir, queries, calls):
    print("\n| response | server setting | p50 µs | p99 µs | QPS | server CPU µs/call |")
    print("|---|---|---:|---:|---:|---:|")
    settings = [("off (peer)", ["--response-compression", "off"]), ("gzip, threshold 1024", ["--response-compression", "gzip"]),
                ("gzip, threshold 0", ["--response-compression", "gzip", "--response-compression-threshold-bytes", "0"]),
                ("gzip, threshold 0, entropy check off", ["--response-compression", "gzip", "--response-compression-threshold-bytes", "0",
                                                          "--response-compression-max-entropy-bits-per-byte", "8"])]
    rows = {}
    for label, flags in settings:
        server = BenchServer(binary, data_dir, args=flags)
        try:
            with grpc.insecure_channel(server.address, options=[("grpc.max_receive_message_length", 64 << 20)]) as channel:
                search = channel.unary_unary("/ruvector.v1.VectorService/Search",
                                             request_serializer=vector_pb2.SearchRequest.SerializeToString,
                                             response_deserializer=vector_pb2.SearchResponse.FromString)
                for k, with_payload, with_vectors in SHAPES:
                    requests = [search_request(q, k, with_payload, with_vectors) for q in queries[:calls]]
                    for request in requests[:50]:
                        search(request)
                    cpu_before, latencies = server.cpu_seconds(), []
                    started = time.perf_counter()
                    for request in requests:
                        t0 = time.perf_counter_ns()
                        search(request)
                        latencies.append((time.perf_counter_ns() - t0) / 1000)
                    elapsed = time.perf_counter() - started
                    cpu = (server.cpu_seconds() - cpu_before) / len(requests) * 1e6
                    latencies.sort()
                    rows.setdefault(shape_name(k, with_payload, with_vectors), []).append(
                        f"| {shape_name(k, with_payload, with_vectors)} | {label} | {latencies[len(latencies) // 2]:.0f} | "
                        f"{latencies[int(len(latencies) * 0.99)]:.0f} | {len(requests) / elapsed:,.0f} | {cpu:.0f} |")
        finally:
            server.stop()
    for lines in rows.values():
        print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "ruvector-server"))
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    data_dir = pathlib.Path(tempfile.mkdtemp(prefix="ruvector-compression-bench-"))
    try:
        server = BenchServer(args.binary, data_dir, args=["--response-compression", "off"])
        try:
            centers = load(server.address, args.n, args.dim, rng)
            queries = (centers[rng.integers(0, 100, args.calls)]
                       + rng.normal(scale=0.4, size=(args.calls, args.dim))).astype(np.float32)
            print(f"{args.n} x {args.dim} points with payloads; zlib {zlib.ZLIB_RUNTIME_VERSION}; "
                  f"load {os.getloadavg()[0]:.2f}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
            message_table(server.address, queries)
        finally:
            server.stop()
        end_to_end(args.binary, data_dir, queries, args.calls)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
