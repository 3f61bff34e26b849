"""Search over a sharded collection (every shard searched, top k merged) against one server,
and hnswlib in-process on the same points as the peer: QPS, latency, recall@10 against brute
force. The load is `drive.run_level`'s closed loop, each call a search of the next query."""
from __future__ import annotations

import asyncio
import itertools
import os
import time
from dataclasses import dataclass
from typing import Any

import grpc
import numpy as np

from drive import LevelResult, close_channels, open_channels, percentile, run_level
from replicated_writes import Load
from ruvector.v1 import common_pb2, vector_pb2

SEARCH_PATH = "/ruvector.v1.VectorService/Search"
READ_FROM = {"primary": vector_pb2.READ_FROM_PRIMARY, "any": vector_pb2.READ_FROM_ANY}


@dataclass
class SearchCase:
    """One measured search level, and the recall of the same system over every query."""

    system: str
    clients: int
    result: LevelResult
    recall: float

    @property
    def qps(self) -> float:
        """Searches answered per second of the measured window."""
        return self.result.proposals_per_second


def search_requests(collection: str, queries: np.ndarray, k: int, ef: int, read_from: str) -> list[bytes]:
    """Encoded SearchRequests, one per query (ids and scores only: no payload, no vector)."""
    requests = []
    for query in queries:
        request = vector_pb2.SearchRequest(collection=collection, vector=common_pb2.Vector(values=query.tolist()), k=k,
                                           params=vector_pb2.SearchParams(ef=ef), read_from=READ_FROM[read_from])
        getattr(request, "with").with_payload = False
        requests.append(request.SerializeToString())
    return requests


async def keep_collection() -> None:
    """A search level's cleanup: the searched collection stays."""


def search_call(channel: grpc.aio.Channel) -> grpc.aio.UnaryUnaryMultiCallable:
    """VectorService/Search taking an encoded request."""
    return channel.unary_unary(SEARCH_PATH, request_serializer=None,
                               response_deserializer=vector_pb2.SearchResponse.FromString)


class QueryTurns:
    """The `make_writer` of a search `Load`: each call searches the next query."""

    def __init__(self, requests: list[bytes]):
        self.requests = requests
        self._turns = itertools.count()

    def __call__(self, channel: grpc.aio.Channel):
        search = search_call(channel)

        async def call(timeout_seconds: float) -> None:
            await search(self.requests[next(self._turns) % len(self.requests)], timeout=timeout_seconds)
        return call


async def answers(cluster: Any, requests: list[bytes], concurrency: int = 8) -> list[list[int]]:
    """Every query's hit ids, `concurrency` at a time over connections to every member."""
    channels = await open_channels(cluster, [i % len(cluster.members) for i in range(concurrency)])
    results: list[list[int]] = [[] for _ in requests]
    turns = iter(range(len(requests)))

    async def worker(index: int) -> None:
        search = search_call(channels[index])
        for turn in turns:
            response = await search(requests[turn], timeout=30)
            results[turn] = [hit.id.num for hit in response.hits]
    try:
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
    finally:
        await close_channels(channels)
    return results


def recall_at(ids: list[list[int]] | np.ndarray, truth: list[np.ndarray], k: int) -> float:
    """Mean share of the true k nearest found among the first k answers."""
    return float(np.mean([len(set(map(int, row[:k])) & set(map(int, t[:k]))) / k for row, t in zip(ids, truth)]))


async def search_levels(cluster: Any, system: str, collection: str, queries: np.ndarray, truth: list[np.ndarray],
                        read_from: str, options: Any, progress) -> list[SearchCase]:
    """Recall over every query, then one closed-loop level per client count."""
    requests = search_requests(collection, queries, options.k, options.ef, read_from)
    recall = recall_at(await answers(cluster, requests), truth, options.k)
    cases = []
    for clients in options.search_client_levels:
        load = Load(cluster, system, QueryTurns(requests), cleanup=keep_collection)
        result = await run_level(load, clients, options.connections, options.warmup_seconds, options.search_seconds,
                                 options.call_timeout_seconds, spread=True)
        cases.append(SearchCase(system, clients, result, recall))
        progress(f"{system}, {clients} client(s): {result.proposals_per_second:,.0f} QPS, "
                 f"p50 {percentile(result.latencies_seconds, 0.5) * 1000:.2f} ms, recall@{options.k} {recall:.3f}")
    return cases


@dataclass
class PeerResult:
    """hnswlib in-process: build time, single-query latencies on one thread, batch QPS."""

    build_seconds: float
    recall: float
    latencies_seconds: list[float]
    one_thread_seconds: float
    batch_qps: float
    threads: int

    @property
    def one_thread_qps(self) -> float:
        """Queries per second, one per call on one thread."""
        return len(self.latencies_seconds) / self.one_thread_seconds


def hnswlib_peer(data: np.ndarray, queries: np.ndarray, truth: list[np.ndarray], k: int, ef: int, seconds: float,
                 m: int = 16, ef_construction: int = 200) -> PeerResult:
    """hnswlib (cosine, the server's M and efConstruction, `ef` for queries) on the same points:
    built on every core; then one query per call on one thread for `seconds`; then every query
    in one call on every core."""
    import hnswlib

    threads = os.cpu_count() or 1
    index = hnswlib.Index(space="cosine", dim=data.shape[1])
    began = time.perf_counter()
    index.init_index(max_elements=len(data), M=m, ef_construction=ef_construction, random_seed=1)
    index.add_items(data, np.arange(len(data)), num_threads=threads)
    build_seconds = time.perf_counter() - began
    index.set_ef(ef)
    labels, _ = index.knn_query(queries, k=k, num_threads=threads)
    recall = recall_at(labels, truth, k)
    latencies = []
    began = time.perf_counter()
    for query in itertools.cycle(queries):
        if time.perf_counter() - began >= seconds:
            break
        started = time.perf_counter()
        index.knn_query(query[None, :], k=k, num_threads=1)
        latencies.append(time.perf_counter() - started)
    one_thread_seconds = time.perf_counter() - began
    rounds = max(1, int(2000 / len(queries)))
    began = time.perf_counter()
    for _ in range(rounds):
        index.knn_query(queries, k=k, num_threads=threads)
    batch_qps = rounds * len(queries) / (time.perf_counter() - began)
    return PeerResult(build_seconds, recall, latencies, one_thread_seconds, batch_qps, threads)
