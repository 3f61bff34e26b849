"""`ruvector.AsyncClient`: the same API as `ruvector.Client`, for asyncio, on `grpc.aio`.

Every request is built and every answer read by the same code as the sync client's
(`ruvector.vector_calls`, `ruvector.graph`, `ruvector.cluster`); only the calls are awaited.
Streaming answers (scroll, search_stream, graph.stream) are async iterators: cancelling the
task that consumes one cancels its call on the server.

>>> async with ruvector.AsyncClient("127.0.0.1:50051") as db:
...     await db.create_collection("docs", dimension=3)
...     await db.upsert("docs", ids=[1], vectors=[[0.1, 0.9, 0.0]])
...     hits = await db.search("docs", [0.2, 0.8, 0.0], k=5)
...     async for hits in db.search_stream("docs", queries, k=10): ...
"""
from __future__ import annotations

import asyncio
import os
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, AsyncIterable, AsyncIterator, Iterable, Mapping, Sequence, Unpack

from ruvector import vector_calls as calls
from ruvector.aio_transport import AsyncTransport
from ruvector.cluster import ClusterState, Redirects, cluster_state, settings_request, state_request
from ruvector.errors import NotFound, RuVectorError
from ruvector.graph import (GraphIndex, HybridHits, Result, ResultReader, begin_request, execute_request,
                            hybrid_hits, hybrid_request, hyperedge, hyperedge_request, index_info, isolation_name,
                            property_index_request, vector_index_request)
from ruvector.learn import AsyncLearn
from ruvector.route import AsyncRoute
from ruvector.models import (CollectionInfo, FilterLike, Hits, IdsLike, PayloadLike, PointIdLike, PointLike, Record,
                             SnapshotInfo, UpdateResult, VectorLike, VectorsLike)
from ruvector.rpc import ClientBase, Cluster as ClusterMethods, Graph as GraphMethods, Method, Vector
from ruvector.v1 import cluster_pb2, graph_pb2, vector_pb2
from ruvector.vector_calls import SearchOptions

#: Points for `AsyncClient.upload_points`: a sync or an async iterable.
Points = Iterable[PointLike] | AsyncIterable[PointLike]
#: Vectors for `AsyncClient.search_stream`: a sync or an async iterable.
Vectors = Iterable[VectorLike] | AsyncIterable[VectorLike]


class AsyncClient(ClientBase):
    """A connection to a RuVector server for asyncio; arguments as `ruvector.Client`'s.

    Create it inside the event loop that uses it, and close it there (``async with``, or
    ``await db.close()``)."""

    def _open(self) -> None:
        self._transport = AsyncTransport(self._settings)
        #: Cypher, transactions and hyperedges (GraphService): ``await db.graph.execute("MATCH ...")``.
        self.graph = AsyncGraph(self._transport)
        #: Members, leadership and cluster metadata (ClusterService): ``await db.cluster.state()``.
        self.cluster = AsyncCluster(self._transport)
        #: Feedback, model settings, status and model files (LearnService): ``await db.learn.feedback(...)``.
        self.learn = AsyncLearn(self._transport)
        #: Routing, outcomes, training and semantic matching (RouteService): ``await db.route.route(...)``.
        self.route = AsyncRoute(self._transport)

    async def close(self) -> None:
        """Closes the connection (and those opened to cluster leaders)."""
        await self._transport.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _unary(self, method: Method, request: Any, timeout: float | None) -> Any:
        return await self._transport.unary(method, request, timeout)

    # Collections

    async def create_collection(self, name: str, dimension: int, metric: str = "cosine", *, m: int | None = None,
                                ef_construction: int | None = None, ef_search: int | None = None,
                                quantization: str | None = None, pq_subvectors: int = 0, hot_threshold: int = 0,
                                retier_interval: int = 0, shards: int = 0, replication_factor: int = 0,
                                write_consistency: str | None = None, min_replicas: int = 0,
                                on_disk: bool = False, on_disk_graph: bool = False,
                                timeout: float | None = None) -> CollectionInfo:
        """Creates a collection (as `Client.create_collection`)."""
        request = calls.create_collection(
            name, dimension, metric, m=m, ef_construction=ef_construction, ef_search=ef_search,
            quantization=quantization, pq_subvectors=pq_subvectors, hot_threshold=hot_threshold,
            retier_interval=retier_interval, shards=shards, replication_factor=replication_factor,
            write_consistency=write_consistency, min_replicas=min_replicas, on_disk=on_disk,
            on_disk_graph=on_disk_graph)
        return calls.info(await self._unary(Vector.CREATE_COLLECTION, request, timeout))

    async def get_collection(self, name: str, *, timeout: float | None = None) -> CollectionInfo:
        """Describes a collection (NotFound if absent)."""
        return calls.info(await self._unary(Vector.GET_COLLECTION, vector_pb2.GetCollectionRequest(name=name), timeout))

    async def collection_exists(self, name: str, *, timeout: float | None = None) -> bool:
        """True when the collection exists (other failures are raised)."""
        try:
            await self.get_collection(name, timeout=timeout)
        except NotFound:
            return False
        return True

    async def wait_indexed(self, name: str, timeout: float = 60.0) -> None:
        """Waits until writes acknowledged with wait=False are indexed; TimeoutError after `timeout` s."""
        deadline = asyncio.get_running_loop().time() + timeout
        delay = 0.005
        while (await self.get_collection(name)).indexing:
            if asyncio.get_running_loop().time() >= deadline:
                raise TimeoutError(f"collection '{name}' still indexing after {timeout} s")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)

    async def list_collections(self, *, timeout: float | None = None) -> list[CollectionInfo]:
        """Every collection, by name."""
        response = await self._unary(Vector.LIST_COLLECTIONS, vector_pb2.ListCollectionsRequest(), timeout)
        return [calls.info(c) for c in response.collections]

    async def delete_collection(self, name: str, *, timeout: float | None = None) -> int:
        """Deletes a collection and its data; returns how many points it held."""
        request = vector_pb2.DeleteCollectionRequest(name=name)
        return int((await self._unary(Vector.DELETE_COLLECTION, request, timeout)).points_deleted)

    # Points

    async def upsert(self, collection: str, ids: IdsLike, vectors: VectorsLike,
                     payloads: Sequence[PayloadLike | None] | None = None, *, wait: bool = True,
                     consistency: str | None = None, min_replicas: int = 0,
                     timeout: float | None = None) -> UpdateResult:
        """Inserts or replaces points (as `Client.upsert`)."""
        request = calls.upsert(collection, ids, vectors, payloads, wait, consistency, min_replicas)
        return calls.update_result(await self._unary(Vector.UPSERT, request, timeout))

    async def import_stream(self, collection: str, points: Iterable[PointLike], *, batch_size: int = 500,
                            progress: bool = False, total: int | None = None, wait: bool = True,
                            timeout: float | None = None) -> UpdateResult:
        """Bulk import over one client stream (as `Client.import_stream`)."""
        feed = calls.ImportFeed(collection, points, batch_size, wait, progress, total)
        try:
            result = await self._transport.client_stream(Vector.UPSERT_STREAM, feed.requests(), timeout)
        finally:
            feed.finish()
        return calls.update_result(result)

    async def upload_points(self, collection: str, points: Points, *, batch_size: int = 256, parallel: int = 1,
                            wait: bool = True, timeout: float | None = None) -> UpdateResult:
        """Writes `points` (a sync or async iterable) as Upsert batches, `parallel` tasks at a time
        (as `Client.upload_points`: any order, the first error raised with ``error.batch``)."""
        if parallel < 1:
            raise ValueError("parallel must be at least 1")
        calls.check_batch_size(batch_size)
        batches = _batches(points, batch_size)
        taking = asyncio.Lock()
        results: list[UpdateResult] = []

        async def worker() -> None:
            while True:
                async with taking:
                    batch = await anext(batches, None)
                if batch is None:
                    return
                index, ids, unpacked = batch
                try:
                    request = calls.upload_request(collection, unpacked, wait)
                    results.append(calls.update_result(await self._unary(Vector.UPSERT, request, timeout)))
                except Exception as error:
                    raise calls.mark_batch(error, index, ids)

        workers = [asyncio.create_task(worker()) for _ in range(parallel)]
        try:
            done, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
            failed = [t.exception() for t in done if not t.cancelled() and t.exception() is not None]
            if failed:
                raise failed[0]     # type: ignore[misc]   # an Exception, never None here
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            await batches.aclose()
        return calls.combine(results)

    async def get(self, collection: str, ids: Sequence[PointIdLike], *, with_payload: bool = True,
                  with_vectors: bool = False, read_from: str | None = None,
                  timeout: float | None = None) -> list[Record]:
        """The stored points with these ids (missing ids are left out)."""
        request = calls.get(collection, ids, with_payload, with_vectors, read_from)
        return [calls.record(p, with_payload, with_vectors)
                for p in (await self._unary(Vector.GET, request, timeout)).points]

    async def delete(self, collection: str, ids: Sequence[PointIdLike] | None = None, *,
                     filter: FilterLike | None = None, consistency: str | None = None, min_replicas: int = 0,
                     timeout: float | None = None) -> int:
        """Deletes points by ids or by filter (exactly one); returns how many were deleted."""
        request = calls.delete(collection, ids, filter, consistency, min_replicas)
        return int((await self._unary(Vector.DELETE, request, timeout)).points_affected)

    async def count(self, collection: str, filter: FilterLike | None = None, *, read_from: str | None = None,
                    timeout: float | None = None) -> int:
        """Number of points, or of those matching the filter."""
        return int((await self._unary(Vector.COUNT, calls.count(collection, filter, read_from), timeout)).count)

    async def scroll(self, collection: str, *, filter: FilterLike | None = None, page_size: int = 100,
                     with_payload: bool = True, with_vectors: bool = False, read_from: str | None = None,
                     timeout: float | None = None) -> AsyncIterator[Record]:
        """Every (matching) point, a page at a time (``async for record in db.scroll(...)``); raises
        `Aborted` if the server renumbered the points between two pages, as `Client.scroll` says."""
        offset = None
        while True:
            request = calls.scroll(collection, filter, page_size, offset, with_payload, with_vectors, read_from)
            records, offset = calls.scroll_page(await self._unary(Vector.SCROLL, request, timeout),
                                                with_payload, with_vectors)
            for record in records:
                yield record
            if offset is None:
                return

    # Search

    async def search(self, collection: str, vector: VectorLike, k: int = 10, *, filter: FilterLike | None = None,
                     ef: int | None = None, exact: bool = False, with_payload: bool = True,
                     with_vectors: bool = False, score_threshold: float | None = None, offset: int = 0,
                     oversampling: float | None = None, ignore_quantization: bool = False,
                     read_from: str | None = None, allow_partial: bool = False,
                     learned_rerank: int | None = None, timeout: float | None = None) -> Hits:
        """The k nearest points to `vector`, best first (as `Client.search`)."""
        options = SearchOptions(filter=filter, ef=ef, exact=exact, with_payload=with_payload,
                                with_vectors=with_vectors, score_threshold=score_threshold, offset=offset,
                                oversampling=oversampling, ignore_quantization=ignore_quantization,
                                read_from=read_from, allow_partial=allow_partial,
                                learned_rerank=learned_rerank)
        response = await self._unary(Vector.SEARCH, calls.search(collection, vector, k, options), timeout)
        return calls.hits(response, with_payload, with_vectors)

    async def search_batch(self, collection: str, vectors: VectorsLike, k: int = 10, *,
                           timeout: float | None = None, **options: Unpack[SearchOptions]) -> list[Hits]:
        """Several searches in one call (at most 1000), answered in order."""
        request = calls.search_batch(collection, vectors, k, options)
        response = await self._unary(Vector.SEARCH_BATCH, request, timeout)
        return [calls.hits(r, options.get("with_payload", True), options.get("with_vectors", False))
                for r in response.results]

    async def search_stream(self, collection: str, vectors: Vectors, k: int = 10, *, timeout: float | None = None,
                            **options: Unpack[SearchOptions]) -> AsyncIterator[Hits]:
        """Searches over one stream: `vectors` (sync or async iterable) is read lazily and results
        come in the same order; a failed query raises its error when its turn comes."""
        order = calls.StreamOrder(options)
        responses = self._transport.bidi_stream(Vector.SEARCH_STREAM,
                                                _search_requests(collection, vectors, k, options), timeout)
        try:
            async for response in responses:
                for hits in order.add(response):
                    yield hits
        finally:
            await responses.aclose()

    # Snapshots

    async def create_snapshot(self, collection: str, *, timeout: float | None = None) -> SnapshotInfo:
        """Writes a point-in-time snapshot of the collection on the server (on a cluster, one
        per shard on its primary, in one file on the node called: docs/operations.md)."""
        request = vector_pb2.CreateSnapshotRequest(collection=collection)
        return calls.snapshot(await self._unary(Vector.CREATE_SNAPSHOT, request, timeout))

    async def list_snapshots(self, collection: str, *, timeout: float | None = None) -> list[SnapshotInfo]:
        """The collection's snapshots, newest first."""
        request = vector_pb2.ListSnapshotsRequest(collection=collection)
        return [calls.snapshot(s) for s in (await self._unary(Vector.LIST_SNAPSHOTS, request, timeout)).snapshots]

    async def download_snapshot(self, collection: str, name: str, path: str | os.PathLike[str], *,
                                chunk_bytes: int = 1 << 20, timeout: float | None = None) -> int:
        """Streams snapshot `name` into the file at `path` (atomically, checked against size and CRC-32C)."""
        request = calls.download_snapshot(collection, name, chunk_bytes)
        target = calls.SnapshotFile(path)
        try:
            async for chunk in self._transport.server_stream(Vector.DOWNLOAD_SNAPSHOT, request, timeout):
                target.write(chunk)
            return target.commit()
        finally:
            target.discard()

    async def restore_snapshot(self, collection: str, path: str | os.PathLike[str] | None = None, *,
                               name: str | None = None, chunk_bytes: int = 1 << 20,
                               timeout: float | None = None) -> CollectionInfo:
        """Replaces (or creates) `collection` with a snapshot file at `path` or a stored one by `name`
        (on a cluster: creates it, sharded; it must not exist)."""
        requests = calls.restore_snapshot(collection, path, name, chunk_bytes)
        return calls.info(await self._transport.client_stream(Vector.RESTORE_SNAPSHOT, requests, timeout))


async def _batches(points: Points, batch_size: int) -> AsyncGenerator[tuple[int, list[PointIdLike], list[
        tuple[PointIdLike, VectorLike, PayloadLike | None]]], None]:
    if not isinstance(points, AsyncIterable):
        for batch in calls.upload_batches(points, batch_size):
            yield batch
        return
    pending: list[PointLike] = []
    index = 0
    async for point in points:
        pending.append(point)
        if len(pending) == batch_size:
            yield calls.upload_batch(index, pending)
            pending, index = [], index + 1
    if pending:
        yield calls.upload_batch(index, pending)


async def _search_requests(collection: str, vectors: Vectors, k: int,
                           options: SearchOptions) -> AsyncIterator[vector_pb2.SearchRequest]:
    if not isinstance(vectors, AsyncIterable):
        for request in calls.search_stream(collection, vectors, k, options):
            yield request
        return
    tag = 0
    async for vector in vectors:
        yield calls.search(collection, vector, k, options, tag=tag)
        tag += 1


class AsyncTransaction:
    """An open transaction of an `AsyncGraph`: `await tx.execute(...)`, then commit or rollback."""

    def __init__(self, graph: AsyncGraph, transaction_id: str, isolation: str):
        self._graph = graph
        self.id = transaction_id
        self.isolation = isolation
        self.open = True

    async def execute(self, query: str, parameters: Mapping[str, Any] | None = None, *, max_rows: int = 0,
                      batch_rows: int = 0, timeout: float | None = None) -> Result:
        """Runs a query inside this transaction."""
        return await self._graph.execute(query, parameters, transaction_id=self.id, max_rows=max_rows,
                                         batch_rows=batch_rows, timeout=timeout)

    async def commit(self) -> int:
        """Commits; raises `ruvector.Aborted` when the isolation level forbids it (retry)."""
        self.open = False
        ref = graph_pb2.TransactionRef(transaction_id=self.id)
        return int((await self._graph._transport.unary(GraphMethods.COMMIT, ref)).sequence)

    async def rollback(self) -> None:
        """Discards the transaction's changes."""
        self.open = False
        await self._graph._transport.unary(GraphMethods.ROLLBACK, graph_pb2.TransactionRef(transaction_id=self.id))


class AsyncGraph:
    """The GraphService of an `AsyncClient` (as `db.graph`); methods as `ruvector.graph.Graph`'s."""

    def __init__(self, transport: AsyncTransport):
        self._transport = transport

    async def execute(self, query: str, parameters: Mapping[str, Any] | None = None, *, transaction_id: str = "",
                      max_rows: int = 0, batch_rows: int = 0, timeout: float | None = None) -> Result:
        """Runs a Cypher query; rows as dicts by column (`timeout`: the client's unary timeout)."""
        reader = ResultReader()
        rows: list[dict[str, Any]] = []
        request = execute_request(query, parameters, transaction_id, max_rows, batch_rows)
        async for part in self._transport.server_stream(GraphMethods.EXECUTE, request,
                                                        self._transport.settings.unary_timeout(timeout)):
            rows += reader.rows(part)
        return Result(reader.columns, rows, reader.summary, reader.plan)

    async def stream(self, query: str, parameters: Mapping[str, Any] | None = None, *, transaction_id: str = "",
                     max_rows: int = 0, batch_rows: int = 0,
                     timeout: float | None = None) -> AsyncIterator[dict[str, Any]]:
        """The query's rows as they arrive (`timeout`: the client's stream timeout)."""
        reader = ResultReader()
        request = execute_request(query, parameters, transaction_id, max_rows, batch_rows)
        parts = self._transport.server_stream(GraphMethods.EXECUTE, request, timeout)
        try:
            async for part in parts:
                for row in reader.rows(part):
                    yield row
        finally:
            await parts.aclose()

    async def begin(self, isolation: str = "read_committed", idle_timeout_ms: int = 0) -> AsyncTransaction:
        """Starts a transaction (isolation levels as `Graph.begin`)."""
        info = await self._transport.unary(GraphMethods.BEGIN_TRANSACTION, begin_request(isolation, idle_timeout_ms))
        return AsyncTransaction(self, info.transaction_id, isolation_name(info.isolation))

    @asynccontextmanager
    async def transaction(self, isolation: str = "read_committed",
                          idle_timeout_ms: int = 0) -> AsyncIterator[AsyncTransaction]:
        """``async with db.graph.transaction() as tx``: commits at the end, rolls back if it raises."""
        tx = await self.begin(isolation, idle_timeout_ms)
        try:
            yield tx
        except BaseException:
            if tx.open:
                await tx.rollback()
            raise
        if tx.open:
            await tx.commit()

    async def create_hyperedge(self, type: str, node_ids: Sequence[int], properties: Mapping[str, Any] | None = None,
                               transaction_id: str = "", *, timeout: float | None = None) -> dict[str, Any]:
        """Creates a hyperedge joining 3..1024 distinct nodes."""
        request = hyperedge_request(type, node_ids, properties, transaction_id)
        return hyperedge(await self._transport.unary(GraphMethods.CREATE_HYPEREDGE, request, timeout))

    async def hyperedges(self, node_id: int = 0, type: str = "", limit: int = 0, *,
                         timeout: float | None = None) -> list[dict[str, Any]]:
        """Hyperedges containing `node_id` and/or of `type`."""
        request = graph_pb2.QueryHyperedgesRequest(node_id=node_id, type=type, limit=limit)
        response = await self._transport.unary(GraphMethods.QUERY_HYPEREDGES, request, timeout)
        return [hyperedge(h) for h in response.hyperedges]

    async def create_vector_index(self, name: str, label: str, property: str, dimension: int,
                                  metric: str = "cosine", *, timeout: float | None = None) -> GraphIndex:
        """A vector index over `property` of `label` nodes."""
        request = vector_index_request(name, label, property, dimension, metric)
        return index_info(await self._transport.unary(GraphMethods.CREATE_INDEX, request, timeout))

    async def create_index(self, name: str, label: str, property: str, *,
                           timeout: float | None = None) -> GraphIndex:
        """An equality index on `property` of `label` nodes."""
        request = property_index_request(name, label, property)
        return index_info(await self._transport.unary(GraphMethods.CREATE_INDEX, request, timeout))

    async def indexes(self, *, timeout: float | None = None) -> list[GraphIndex]:
        """Every index, with the number of nodes it holds."""
        response = await self._transport.unary(GraphMethods.LIST_INDEXES, graph_pb2.ListIndexesRequest(), timeout)
        return [index_info(i) for i in response.indexes]

    async def hybrid_search(self, index: str, vector: VectorLike, k: int = 10, *, filter: str = "",
                            parameters: Mapping[str, Any] | None = None, expand_depth: int = 0,
                            learned_rerank: int | None = None, timeout: float | None = None) -> HybridHits:
        """Vector k-NN over a graph vector index, filtered in Cypher, expanded (as `Graph.hybrid_search`)."""
        request = hybrid_request(index, vector, k, filter, parameters, expand_depth, learned_rerank)
        return hybrid_hits(await self._transport.unary(GraphMethods.HYBRID_SEARCH, request, timeout))


class AsyncCluster:
    """Cluster administration of an `AsyncClient` (as `db.cluster`), following leader hints like
    `ruvector.cluster.Cluster`."""

    def __init__(self, transport: AsyncTransport):
        self._transport = transport

    async def state(self, stale_ok: bool = False, *, shard_progress: bool = False,
                    timeout: float | None = None) -> ClusterState:
        """The cluster's state (linearizable unless stale_ok=True)."""
        return await self._call(ClusterMethods.GET_STATE, state_request(stale_ok, shard_progress), timeout)

    async def shard_status(self, address: str | None = None, *, collection: str = "", checksums: bool = False,
                           timeout: float | None = None) -> cluster_pb2.ShardStatusResponse:
        """What one node (the client's, or `address`) holds of each shard."""
        request = cluster_pb2.ShardStatusRequest(collection=collection, checksums=checksums)
        response: cluster_pb2.ShardStatusResponse = await self._transport.unary(
            ClusterMethods.SHARD_STATUS, request, timeout, address=address)
        return response

    async def join(self, node_id: int, address: str, *, timeout: float | None = None) -> ClusterState:
        """Adds node `node_id` listening at `address`."""
        return await self._call(ClusterMethods.JOIN, cluster_pb2.JoinRequest(node_id=node_id, address=address),
                                timeout)

    async def leave(self, node_id: int, *, timeout: float | None = None) -> ClusterState:
        """Removes node `node_id`."""
        return await self._call(ClusterMethods.LEAVE, cluster_pb2.LeaveRequest(node_id=node_id), timeout)

    async def transfer_leadership(self, node_id: int, *, timeout: float | None = None) -> ClusterState:
        """Moves leadership to voter `node_id`."""
        request = cluster_pb2.TransferLeadershipRequest(node_id=node_id)
        return await self._call(ClusterMethods.TRANSFER_LEADERSHIP, request, timeout)

    async def update_settings(self, replication_factor: int, replication_mode: str = "async", *,
                              timeout: float | None = None) -> ClusterState:
        """Sets the cluster-wide replication factor and write mode through the Raft log."""
        request = settings_request(replication_factor, replication_mode)
        return await self._call(ClusterMethods.UPDATE_SETTINGS, request, timeout)

    async def _call(self, method: Method, request: Any, timeout: float | None) -> ClusterState:
        route = Redirects(self._transport.settings.address, self._transport.settings.unary_timeout(timeout))
        while True:
            try:
                return cluster_state(await self._transport.unary(method, request, route.remaining(),
                                                                 address=route.address))
            except RuVectorError as error:
                route.follow(error)
