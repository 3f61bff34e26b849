"""A Route RPC beside a Search RPC on the same server, same client, same run: unary latency of each
from Python grpcio (sequential calls, interleaved so both see the same machine load), the server's
own search time (SearchResponse.time_micros), and from those the search RPC's overhead
(latency - search time) and the Route RPC's latency over that overhead: what routing adds on the
wire. Not a test: numbers vary with the machine and its load.

    swift build -c release --product ruvector-server
    .venv/bin/python Benchmarks/RouteBench/route_rpc.py [--server .build/release/ruvector-server --calls 3000]
"""
import argparse
import pathlib
import sys
import tempfile
import time

import grpc
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "clients" / "python"))
sys.path.insert(0, str(ROOT / "Benchmarks"))
from bench_server import BenchServer  # noqa: E402
from ruvector.v1 import common_pb2, route_pb2, route_pb2_grpc, vector_pb2, vector_pb2_grpc  # noqa: E402


def setup(channel: grpc.Channel, rng: np.random.Generator, points: int, dim: int, steps: int, width: int,
          hidden: int) -> None:
    """A collection of `points` random vectors and a trained router of 4 candidates."""
    vectors = vector_pb2_grpc.VectorServiceStub(channel)
    vectors.CreateCollection(vector_pb2.CreateCollectionRequest(name="bench", dimension=dim, metric=vector_pb2.METRIC_L2))
    data = rng.normal(size=(points, dim)).astype(np.float32)
    vectors.Upsert(vector_pb2.UpsertRequest(collection="bench", points=[
        vector_pb2.PointStruct(id=common_pb2.PointId(num=i), vector=common_pb2.Vector(values=data[i].tolist()))
        for i in range(points)]))
    route = route_pb2_grpc.RouteServiceStub(channel)
    route.CreateRouter(route_pb2.CreateRouterRequest(
        name="bench", feature_size=width, time_steps=steps, hidden_size=hidden,
        candidates=[route_pb2.Candidate(name=f"c{i}", cost=float(i + 1)) for i in range(4)]))
    for i in range(400):
        features = rng.normal(size=steps * width).astype(np.float32)
        label = int(features[0] > 0) * 2 + int(features[1] > 0)
        route.RecordOutcome(route_pb2.RecordOutcomeRequest(router="bench", request_id=f"r{i}", candidate=f"c{label}",
                                                           success=True, features=common_pb2.Vector(values=features.tolist())))
    list(route.Train(route_pb2.TrainRouterRequest(router="bench", epochs=5, seed=1)))
    # The same shape, never trained: its decisions skip the model (the fallback decides).
    route.CreateRouter(route_pb2.CreateRouterRequest(
        name="untrained", feature_size=width, time_steps=steps, hidden_size=hidden,
        candidates=[route_pb2.Candidate(name=f"c{i}", cost=float(i + 1)) for i in range(4)]))


def measure(channel: grpc.Channel, rng: np.random.Generator, calls: int, dim: int, values: int) -> dict[str, list[float]]:
    """Latencies (us) of `calls` Search and Route calls, interleaved, after 200 warm-up calls of each."""
    search = channel.unary_unary("/ruvector.v1.VectorService/Search", vector_pb2.SearchRequest.SerializeToString,
                                 vector_pb2.SearchResponse.FromString)
    route = channel.unary_unary("/ruvector.v1.RouteService/Route", route_pb2.RouteRequest.SerializeToString,
                                route_pb2.RouteDecision.FromString)
    result: dict[str, list[float]] = {"search": [], "search_server": [], "route": [], "untrained": []}
    for n in range(calls + 200):
        query = vector_pb2.SearchRequest(collection="bench", k=10,
                                         vector=common_pb2.Vector(values=rng.normal(size=dim).tolist()))
        request = route_pb2.RouteRequest(router="bench", features=common_pb2.Vector(values=rng.normal(size=values).tolist()))
        start = time.perf_counter()
        answer = search(query)
        middle = time.perf_counter()
        route(request)
        end = time.perf_counter()
        request.router = "untrained"
        route(request)
        last = time.perf_counter()
        if n >= 200:
            result["untrained"].append((last - end) * 1e6)
            result["search"].append((middle - start) * 1e6)
            result["search_server"].append(float(answer.time_micros))
            result["route"].append((end - middle) * 1e6)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=str(ROOT / ".build/release/ruvector-server"))
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=32)
    args = parser.parse_args()
    steps, width = 8, 8
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as data, BenchServer(args.server, data) as server:
        with grpc.insecure_channel(server.address) as channel:
            setup(channel, rng, args.points, args.dim, steps, width, args.hidden)
            t = {k: np.array(v) for k, v in measure(channel, rng, args.calls, args.dim, steps * width).items()}
    overhead = np.percentile(t["search"], 50) - np.percentile(t["search_server"], 50)
    print(f"{args.calls} calls each, sequential, interleaved; search: {args.points} x {args.dim} L2, k 10; "
          f"route: 8 steps x 8 features, hidden {args.hidden}, 4 candidates, trained")
    print("| call | p50 (us) | p99 (us) |")
    print("|---|---|---|")
    for name, label in (("search", "Search RPC"), ("search_server", "search time in the server (time_micros)"),
                        ("route", "Route RPC"), ("untrained", "Route RPC, untrained router (no model)")):
        print(f"| {label} | {np.percentile(t[name], 50):.1f} | {np.percentile(t[name], 99):.1f} |")
    print(f"search RPC overhead (p50 latency - p50 server time): {overhead:.1f} us; "
          f"Route p50 - that overhead: {np.percentile(t['route'], 50) - overhead:.1f} us")


if __name__ == "__main__":
    main()
