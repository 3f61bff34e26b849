"""`ruvector.Client`: the VectorService over gRPC, with Python values in and out.

Requests are built and answers read by `ruvector.vector_calls` (shared with `ruvector.AsyncClient`);
this file only sends them, through `ruvector.transport`.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait as wait_for
from typing import Iterable, Iterator, Sequence, Unpack

from ruvector import vector_calls as calls
from ruvector.cluster import Cluster
from ruvector.crc import crc32c
from ruvector.graph import Graph
from ruvector.learn import Learn
from ruvector.route import Route
from ruvector.models import (CollectionInfo, FilterLike, Hit, Hits, IdsLike, PayloadLike, Point,
                             PointIdLike, PointLike, Record, SnapshotInfo, TierCounts, UpdateResult, VectorLike,
                             VectorsLike)
from ruvector.errors import NotFound
from ruvector.rpc import ClientBase, Vector
from ruvector.transport import Transport
from ruvector.v1 import vector_pb2
from ruvector.vector_calls import SearchOptions

__all__ = ["Client", "CollectionInfo", "Hit", "Hits", "Point", "Record", "SnapshotInfo", "TierCounts",
           "UpdateResult", "crc32c"]


class Client(ClientBase):
    """A connection to a RuVector server.

    >>> db = Client("127.0.0.1:50051")
    >>> db.create_collection("docs", dimension=3, metric="cosine")
    >>> db.upsert("docs", ids=[1, 2], vectors=[[0.1, 0.9, 0], [0.8, 0.1, 0.1]], payloads=[{"lang": "swift"}, {"lang": "c"}])
    >>> db.search("docs", [0.2, 0.8, 0], k=5, filter={"must": [{"key": "lang", "match": "swift"}]})

    TLS: ``tls=True`` with ``root_certificates`` (PEM bytes; None = system roots) and, for
    mutual TLS, ``private_key`` and ``certificate_chain``. ``api_key`` (default: the
    ``RUVECTOR_API_KEY`` environment variable) is sent as ``authorization: Bearer <key>`` with
    every call; it never appears in repr, str or errors. ``timeout`` is the default deadline of
    unary calls and ``stream_timeout`` that of streaming calls (imports, downloads, Cypher
    streams), in seconds, None for none; every method also takes its own ``timeout``.
    UNAVAILABLE is retried ``retries`` times on calls that are safe to repeat (reads, searches,
    upserts by id: see `ruvector.rpc`), waiting ``initial_backoff`` seconds, doubling up to
    ``max_backoff``, with jitter; ``retries=0`` turns that off. Every call raises a
    `ruvector.RuVectorError` subclass on failure, with the server's message.
    """

    def _open(self) -> None:
        self._transport = Transport(self._settings)
        #: Cypher, transactions and hyperedges (GraphService): ``db.graph.execute("MATCH ...")``.
        self.graph = Graph(self._transport)
        #: Members, leadership and cluster metadata (ClusterService): ``db.cluster.state()``.
        self.cluster = Cluster(self._transport)
        #: Feedback, model settings, status and model files (LearnService): ``db.learn.feedback(...)``.
        self.learn = Learn(self._transport)
        #: Routers, outcomes, training and semantic routes (RouteService): ``db.route.route(...)``.
        self.route = Route(self._transport)

    def close(self) -> None:
        """Closes the connection (and those opened to cluster leaders)."""
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Collections

    def create_collection(self, name: str, dimension: int, metric: str = "cosine", *, m: int | None = None,
                          ef_construction: int | None = None, ef_search: int | None = None,
                          quantization: str | None = None, pq_subvectors: int = 0, hot_threshold: int = 0,
                          retier_interval: int = 0, shards: int = 0, replication_factor: int = 0,
                          write_consistency: str | None = None, min_replicas: int = 0, on_disk: bool = False,
                          on_disk_graph: bool = False, timeout: float | None = None) -> CollectionInfo:
        """Creates a collection. metric: cosine, l2, dot or manhattan. quantization: None,
        "scalar" (int8), "int4" (4-bit residuals to k-means centroids: half of int8's memory),
        "float16", "binary", "pq8" or "pq4" (with pq_subvectors, default dimension/8),
        or "tiered": each vector in the tier its search traffic earns (hot f32, warm f16, cool PQ8,
        cold PQ4, archive bits), hot at `hot_threshold` returns per million queries (default 1000),
        re-tiered every `retier_interval` searches (default 10000), PQ with pq_subvectors (default dimension/2).
        On a cluster: `shards` (default one per node), `replication_factor` (copies per shard,
        default min(3, nodes)), `write_consistency` ("async", "semi-sync" or "sync"; default the
        cluster's setting) and `min_replicas` (replicas a semi-sync write waits for, default 1).
        `on_disk`: keep full vectors in a memory-mapped file, not in memory (a collection larger
        than RAM; pair it with quantization, whose codes the searches walk); tiered collections
        always do. `on_disk_graph`: the graph's level-0 links go to a mapped file too (implies
        `on_disk`; memory then holds little more than the codes, and walks read links from the
        page cache or the disk)."""
        request = calls.create_collection(
            name, dimension, metric, m=m, ef_construction=ef_construction, ef_search=ef_search,
            quantization=quantization, pq_subvectors=pq_subvectors, hot_threshold=hot_threshold,
            retier_interval=retier_interval, shards=shards, replication_factor=replication_factor,
            write_consistency=write_consistency, min_replicas=min_replicas, on_disk=on_disk,
            on_disk_graph=on_disk_graph)
        return calls.info(self._transport.unary(Vector.CREATE_COLLECTION, request, timeout))

    def get_collection(self, name: str, *, timeout: float | None = None) -> CollectionInfo:
        """Describes a collection (NotFound if absent)."""
        return calls.info(self._transport.unary(Vector.GET_COLLECTION, vector_pb2.GetCollectionRequest(name=name),
                                                timeout))

    def collection_exists(self, name: str, *, timeout: float | None = None) -> bool:
        """True when the collection exists (other failures are raised)."""
        try:
            self.get_collection(name, timeout=timeout)
        except NotFound:
            return False
        return True

    def wait_indexed(self, name: str, timeout: float = 60.0) -> None:
        """Waits until writes acknowledged with wait=False are indexed (searchable); raises
        TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        delay = 0.005
        while self.get_collection(name).indexing:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"collection '{name}' still indexing after {timeout} s")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def list_collections(self, *, timeout: float | None = None) -> list[CollectionInfo]:
        """Every collection, by name."""
        response = self._transport.unary(Vector.LIST_COLLECTIONS, vector_pb2.ListCollectionsRequest(), timeout)
        return [calls.info(c) for c in response.collections]

    def delete_collection(self, name: str, *, timeout: float | None = None) -> int:
        """Deletes a collection and its data; returns how many points it held."""
        request = vector_pb2.DeleteCollectionRequest(name=name)
        return int(self._transport.unary(Vector.DELETE_COLLECTION, request, timeout).points_deleted)

    # Points

    def upsert(self, collection: str, ids: IdsLike, vectors: VectorsLike,
               payloads: Sequence[PayloadLike | None] | None = None, *, wait: bool = True,
               consistency: str | None = None, min_replicas: int = 0, timeout: float | None = None) -> UpdateResult:
        """Inserts or replaces points (at most 10000 per call; use import_stream or upload_points
        for more). vectors: a list of lists or a 2-D numpy array. Durable when it returns; with
        wait=False it may not be searchable yet (it is indexed shortly after, in order). On a
        cluster, `consistency` ("async", "semi-sync", "sync"; default the collection's) says how many
        replicas must have the write before it is acknowledged (`min_replicas` for semi-sync)."""
        request = calls.upsert(collection, ids, vectors, payloads, wait, consistency, min_replicas)
        return calls.update_result(self._transport.unary(Vector.UPSERT, request, timeout))

    def import_stream(self, collection: str, points: Iterable[PointLike], *, batch_size: int = 500,
                      progress: bool = False, total: int | None = None, wait: bool = True,
                      timeout: float | None = None) -> UpdateResult:
        """Bulk import over one client stream (UpsertStream). `points` yields Point objects,
        (id, vector[, payload]) tuples or {"id", "vector", "payload"} dicts; any iterable, read lazily.
        With progress=True a progress line is drawn on stderr (total gives a percentage).
        wait=False acknowledges each batch once logged (durable) and indexes it while the next
        one is sent: faster, and the last batches may not be searchable when this returns."""
        feed = calls.ImportFeed(collection, points, batch_size, wait, progress, total)
        try:
            # grpcio reads the requests on its own thread, so encoding overlaps the transfer.
            result = self._transport.client_stream(Vector.UPSERT_STREAM, feed.requests(), timeout)
        finally:
            feed.finish()
        return calls.update_result(result)

    def upload_points(self, collection: str, points: Iterable[PointLike], *, batch_size: int = 256,
                      parallel: int = 1, wait: bool = True, timeout: float | None = None) -> UpdateResult:
        """Writes `points` (as in import_stream) as Upsert batches of `batch_size`, `parallel` at a
        time on as many threads over the one connection; the batches may be applied in any
        order (ids repeated across batches: any of their versions may win). A batch is
        not retried (like upsert); `timeout` bounds each batch. On the first failure no new batch
        starts, and that error is raised with ``error.batch`` (a `ruvector.models.FailedBatch`:
        its index and ids); batches already acknowledged stay written. Returns the combined result."""
        if parallel < 1:
            raise ValueError("parallel must be at least 1")
        results: list[UpdateResult] = []
        pool = ThreadPoolExecutor(parallel, thread_name_prefix="ruvector-upload")
        in_flight: dict[Future[UpdateResult], tuple[int, list[PointIdLike]]] = {}
        try:
            for index, ids, batch in calls.upload_batches(points, batch_size):
                while len(in_flight) >= 2 * parallel:     # at most two batches per thread held in memory
                    _collect(in_flight, results, block=True)
                future = pool.submit(self._upload_one, collection, batch, wait, timeout)
                in_flight[future] = (index, ids)
                _collect(in_flight, results, block=False)
            while in_flight:
                _collect(in_flight, results, block=True)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return calls.combine(results)

    def _upload_one(self, collection: str, batch: list[tuple[PointIdLike, VectorLike, PayloadLike | None]],
                    wait: bool, timeout: float | None) -> UpdateResult:
        request = calls.upload_request(collection, batch, wait)
        return calls.update_result(self._transport.unary(Vector.UPSERT, request, timeout))

    def get(self, collection: str, ids: Sequence[PointIdLike], *, with_payload: bool = True,
            with_vectors: bool = False, read_from: str | None = None, timeout: float | None = None) -> list[Record]:
        """The stored points with these ids (missing ids are left out). On a cluster,
        read_from="any" may answer from any copy (default: each shard's primary)."""
        request = calls.get(collection, ids, with_payload, with_vectors, read_from)
        return [calls.record(p, with_payload, with_vectors)
                for p in self._transport.unary(Vector.GET, request, timeout).points]

    def delete(self, collection: str, ids: Sequence[PointIdLike] | None = None, *,
               filter: FilterLike | None = None, consistency: str | None = None, min_replicas: int = 0,
               timeout: float | None = None) -> int:
        """Deletes points by ids or by filter (exactly one); returns how many were deleted.
        consistency and min_replicas as in upsert."""
        request = calls.delete(collection, ids, filter, consistency, min_replicas)
        return int(self._transport.unary(Vector.DELETE, request, timeout).points_affected)

    def count(self, collection: str, filter: FilterLike | None = None, *, read_from: str | None = None,
              timeout: float | None = None) -> int:
        """Number of points, or of those matching the filter (read_from as in get)."""
        return int(self._transport.unary(Vector.COUNT, calls.count(collection, filter, read_from), timeout).count)

    def scroll(self, collection: str, *, filter: FilterLike | None = None, page_size: int = 100,
               with_payload: bool = True, with_vectors: bool = False, read_from: str | None = None,
               timeout: float | None = None) -> Iterator[Record]:
        """Every (matching) point, fetched a page at a time (`timeout` bounds each page): in storage
        order (the order first written, not sorted by id) on a single server, shard after shard on
        a cluster (read_from as in get). Raises `Aborted` if the server renumbered the points
        between two pages (a compaction, a reorder before a snapshot, a restart from a snapshot):
        iterate again."""
        offset = None
        while True:
            request = calls.scroll(collection, filter, page_size, offset, with_payload, with_vectors, read_from)
            records, offset = calls.scroll_page(self._transport.unary(Vector.SCROLL, request, timeout),
                                                with_payload, with_vectors)
            yield from records
            if offset is None:
                return

    # Search

    def search(self, collection: str, vector: VectorLike, k: int = 10, *, filter: FilterLike | None = None,
               ef: int | None = None, exact: bool = False, with_payload: bool = True, with_vectors: bool = False,
               score_threshold: float | None = None, offset: int = 0, oversampling: float | None = None,
               ignore_quantization: bool = False, read_from: str | None = None, allow_partial: bool = False,
               learned_rerank: int | None = None, timeout: float | None = None) -> Hits:
        """The k nearest points to `vector`, best first. exact=True searches by brute force.
        Quantized collections walk on codes and rescore `oversampling` x k candidates on full
        vectors (1..100, default 4); ignore_quantization=True walks full vectors instead. On a
        cluster the search runs on every shard (read_from as in get); with allow_partial=True
        shards that cannot answer are left out and named in the result's `missing_shards`.
        learned_rerank=depth re-ranks the top `depth` HNSW candidates with the collection's
        learned model (0 = 100; see `db.learn`); the result's `model_version` says which model
        ranked it (0: none is active, the order is the plain HNSW order)."""
        options = SearchOptions(filter=filter, ef=ef, exact=exact, with_payload=with_payload,
                                with_vectors=with_vectors, score_threshold=score_threshold, offset=offset,
                                oversampling=oversampling, ignore_quantization=ignore_quantization,
                                read_from=read_from, allow_partial=allow_partial,
                                learned_rerank=learned_rerank)
        response = self._transport.unary(Vector.SEARCH, calls.search(collection, vector, k, options), timeout)
        return calls.hits(response, with_payload, with_vectors)

    def search_batch(self, collection: str, vectors: VectorsLike, k: int = 10, *, timeout: float | None = None,
                     **options: Unpack[SearchOptions]) -> list[Hits]:
        """Several searches in one call (at most 1000), answered in order. Options as in search."""
        response = self._transport.unary(Vector.SEARCH_BATCH, calls.search_batch(collection, vectors, k, options),
                                         timeout)
        return [calls.hits(r, options.get("with_payload", True), options.get("with_vectors", False))
                for r in response.results]

    def search_stream(self, collection: str, vectors: Iterable[VectorLike], k: int = 10, *,
                      timeout: float | None = None, **options: Unpack[SearchOptions]) -> Iterator[Hits]:
        """Searches over one stream (SearchStream): `vectors` is read lazily and results are
        yielded in the same order. A failed query raises its error when its turn comes.
        Closing the iterator early cancels the call."""
        order = calls.StreamOrder(options)
        responses = self._transport.bidi_stream(Vector.SEARCH_STREAM,
                                                calls.search_stream(collection, vectors, k, options), timeout)
        try:
            for response in responses:
                yield from order.add(response)
        finally:
            responses.close()

    # Snapshots

    def create_snapshot(self, collection: str, *, timeout: float | None = None) -> SnapshotInfo:
        """Writes a point-in-time snapshot of the collection on the server (on a cluster, one
        per shard on its primary, in one file on the node called: docs/operations.md)."""
        request = vector_pb2.CreateSnapshotRequest(collection=collection)
        return calls.snapshot(self._transport.unary(Vector.CREATE_SNAPSHOT, request, timeout))

    def list_snapshots(self, collection: str, *, timeout: float | None = None) -> list[SnapshotInfo]:
        """The collection's snapshots, newest first."""
        request = vector_pb2.ListSnapshotsRequest(collection=collection)
        return [calls.snapshot(s) for s in self._transport.unary(Vector.LIST_SNAPSHOTS, request, timeout).snapshots]

    def download_snapshot(self, collection: str, name: str, path: str | os.PathLike[str], *,
                          chunk_bytes: int = 1 << 20, timeout: float | None = None) -> int:
        """Streams snapshot `name` into the file at `path` (written atomically: a temporary file
        renamed once size and CRC-32C check out). Returns the size in bytes."""
        request = calls.download_snapshot(collection, name, chunk_bytes)
        target = calls.SnapshotFile(path)
        try:
            for chunk in self._transport.server_stream(Vector.DOWNLOAD_SNAPSHOT, request, timeout):
                target.write(chunk)
            return target.commit()
        finally:
            target.discard()

    def restore_snapshot(self, collection: str, path: str | os.PathLike[str] | None = None, *,
                         name: str | None = None, chunk_bytes: int = 1 << 20,
                         timeout: float | None = None) -> CollectionInfo:
        """Replaces (or creates) `collection` with a snapshot: an uploaded file at `path`, or one
        of the collection's own snapshots by `name` (exactly one of the two). On a cluster the
        collection must not exist: it is created sharded and its points written again."""
        requests = calls.restore_snapshot(collection, path, name, chunk_bytes)
        return calls.info(self._transport.client_stream(Vector.RESTORE_SNAPSHOT, requests, timeout))


def _collect(in_flight: dict[Future[UpdateResult], tuple[int, list[PointIdLike]]], results: list[UpdateResult],
             block: bool) -> None:
    """Moves finished batches' results into `results`; raises the first failure with its batch."""
    if block:
        wait_for(list(in_flight), return_when=FIRST_COMPLETED)
    for future in [f for f in in_flight if f.done()]:
        index, ids = in_flight.pop(future)
        error = future.exception()
        if error is not None:
            raise calls.mark_batch(error, index, ids)
        results.append(future.result())
