"""`ruvector.Client`: the VectorService over gRPC, with Python values in and out."""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, Sequence

import grpc

from ruvector import convert, wire
from ruvector.cluster import Cluster
from ruvector.errors import RuVectorError, from_rpc_error, from_status
from ruvector.graph import Graph
from ruvector.v1 import common_pb2, vector_pb2, vector_pb2_grpc

try:
    import google_crc32c as _native_crc32c
except ImportError:
    _native_crc32c = None
_CRC32C_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC32C_TABLE.append(_c)


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC-32C (Castagnoli), continuing from `crc`: what snapshot transfers are checked with.
    Pure Python (a few MB/s); with the optional `google-crc32c` package installed, native speed."""
    if _native_crc32c is not None:
        return _native_crc32c.extend(crc, bytes(data))
    crc ^= 0xFFFFFFFF
    table = _CRC32C_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


@dataclass(frozen=True)
class CollectionInfo:
    """A collection's configuration and size."""
    name: str
    dimension: int
    metric: str
    points_count: int
    m: int
    ef_construction: int
    ef_search: int
    #: True while writes acknowledged with wait=False are still being indexed.
    indexing: bool = False
    #: Bytes held for vectors, graph and codes.
    memory_bytes: int = 0
    #: Bytes on disk (configuration, write-ahead log, snapshots).
    disk_bytes: int = 0
    #: When the collection was created (or restored from an upload), microseconds since the epoch.
    created_unix_micros: int = 0
    #: None, "scalar", "float16", "binary", "pq8", "pq4" or "tiered".
    quantization: str | None = None
    #: Vectors per compression tier (tiered collections, once trained).
    tiers: "TierCounts | None" = None
    #: Shards the points are spread over (1 on a single server).
    shards: int = 1
    #: Copies of each shard, primary included (1 on a single server).
    replication_factor: int = 1
    #: How writes wait for replicas by default: "async", "semi-sync" or "sync".
    write_consistency: str = "async"
    #: Replicas a semi-sync write waits for.
    min_replicas: int = 0


@dataclass(frozen=True)
class TierCounts:
    """How a tiered collection holds its vectors: how many sit in each tier, the bytes of
    the codes graph walks read, and the re-tiering passes applied since the tiers were built."""
    hot: int
    warm: int
    cool: int
    cold: int
    archive: int
    code_bytes: int
    passes: int


@dataclass(frozen=True)
class Hit:
    """A search result: the point id, its score (larger is better) and, when asked, payload and vector."""
    id: int | str
    score: float
    payload: dict[str, Any] | None = None
    vector: list[float] | None = None


@dataclass(frozen=True)
class Record:
    """A stored point, as returned by get and scroll."""
    id: int | str
    payload: dict[str, Any] | None = None
    vector: list[float] | None = None


@dataclass(frozen=True)
class UpdateResult:
    """The outcome of a write: its write-ahead log sequence, how many points it touched, and
    whether it was applied (searchable) before the call returned (False after wait=False)."""
    sequence: int
    points_affected: int
    applied: bool = True
    #: On a cluster: replicas (besides the primary) that had the write when it was acknowledged
    #: (the fewest over the shards it touched).
    replicas_acknowledged: int = 0


class Hits(list):
    """Search hits, best first; `missing_shards` lists the shards of a sharded collection that
    did not answer a search made with allow_partial=True (empty when the answer is complete)."""
    missing_shards: list[int]

    def __init__(self, hits: Iterable["Hit"] = (), missing_shards: Iterable[int] = ()):
        super().__init__(hits)
        self.missing_shards = list(missing_shards)


@dataclass(frozen=True)
class SnapshotInfo:
    """A snapshot file of a collection."""
    name: str
    collection: str
    size_bytes: int
    created_unix_micros: int
    crc32c: int
    wal_sequence: int


@dataclass
class Point:
    """A point to write: id, vector and optional payload."""
    id: int
    vector: Sequence[float]
    payload: dict[str, Any] = field(default_factory=dict)


class Client:
    """A connection to a RuVector server.

    >>> db = Client("127.0.0.1:50051")
    >>> db.create_collection("docs", dimension=3, metric="cosine")
    >>> db.upsert("docs", ids=[1, 2], vectors=[[0.1, 0.9, 0], [0.8, 0.1, 0.1]], payloads=[{"lang": "swift"}, {"lang": "c"}])
    >>> db.search("docs", [0.2, 0.8, 0], k=5, filter={"must": [{"key": "lang", "match": "swift"}]})

    TLS: ``tls=True`` with ``root_certificates`` (PEM bytes; None = system roots) and, for
    mutual TLS, ``private_key`` and ``certificate_chain``. Every call raises a
    `ruvector.RuVectorError` subclass on failure, with the server's message.
    """

    def __init__(self, address: str = "127.0.0.1:50051", *, tls: bool = False, root_certificates: bytes | None = None,
                 private_key: bytes | None = None, certificate_chain: bytes | None = None,
                 server_name_override: str | None = None, timeout: float | None = 60.0,
                 max_message_bytes: int = 64 << 20):
        options = [("grpc.max_send_message_length", max_message_bytes),
                   ("grpc.max_receive_message_length", max_message_bytes)]
        if server_name_override:
            options.append(("grpc.ssl_target_name_override", server_name_override))
        credentials = None
        if tls or root_certificates or private_key:
            credentials = grpc.ssl_channel_credentials(root_certificates, private_key, certificate_chain)

        def new_channel(target: str) -> grpc.Channel:
            # Also for the cluster's leaders: the same TLS settings and limits as this address.
            if credentials is None:
                return grpc.insecure_channel(target, options=options)
            return grpc.secure_channel(target, credentials, options=options)

        self._channel = new_channel(address)
        self._stub = vector_pb2_grpc.VectorServiceStub(self._channel)
        # Upsert and UpsertStream taking messages already encoded (built with ruvector.wire).
        self._upsert = self._channel.unary_unary("/ruvector.v1.VectorService/Upsert", request_serializer=None,
                                                 response_deserializer=vector_pb2.UpdateResult.FromString)
        self._upsert_stream = self._channel.stream_unary("/ruvector.v1.VectorService/UpsertStream",
                                                         request_serializer=None,
                                                         response_deserializer=vector_pb2.UpdateResult.FromString)
        self.timeout = timeout
        #: Cypher, transactions and hyperedges (GraphService): ``db.graph.execute("MATCH ...")``.
        self.graph = Graph(self._channel, timeout)
        #: Members, leadership and cluster metadata (ClusterService): ``db.cluster.state()``.
        self.cluster = Cluster(address, self._channel, new_channel, timeout)

    def close(self) -> None:
        """Closes the connection (and those opened to cluster leaders)."""
        self.cluster.close()
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, method, request, timeout: float | None = None):
        """Calls `method` (a VectorService method name, or one of the channel's callables taking
        encoded bytes), raising the client's errors."""
        call = getattr(self._stub, method) if isinstance(method, str) else method
        try:
            return call(request, timeout=timeout or self.timeout)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    # Collections

    def create_collection(self, name: str, dimension: int, metric: str = "cosine", *, m: int | None = None,
                          ef_construction: int | None = None, ef_search: int | None = None,
                          quantization: str | None = None, pq_subvectors: int = 0, hot_threshold: int = 0,
                          retier_interval: int = 0, shards: int = 0, replication_factor: int = 0,
                          write_consistency: str | None = None, min_replicas: int = 0) -> CollectionInfo:
        """Creates a collection. metric: cosine, l2, dot or manhattan. quantization: None,
        "scalar" (int8), "float16", "binary", "pq8" or "pq4" (with pq_subvectors, default dimension/8),
        or "tiered": each vector in the tier its search traffic earns (hot f32, warm f16, cool PQ8,
        cold PQ4, archive bits), hot at `hot_threshold` returns per million queries (default 1000),
        re-tiered every `retier_interval` searches (default 10000), PQ with pq_subvectors (default dimension/2).
        On a cluster: `shards` (default one per node), `replication_factor` (copies per shard,
        default min(3, nodes)), `write_consistency` ("async", "semi-sync" or "sync"; default the
        cluster's setting) and `min_replicas` (replicas a semi-sync write waits for, default 1)."""
        metric_number = convert.metric(metric)
        request = vector_pb2.CreateCollectionRequest(name=name, dimension=dimension, metric=metric_number,
                                                     hnsw=vector_pb2.HnswConfig(m=m or 0, ef_construction=ef_construction or 0,
                                                                                ef_search=ef_search or 0),
                                                     shards=shards, replication_factor=replication_factor,
                                                     write_consistency=convert.replication_mode(write_consistency),
                                                     min_replicas=min_replicas)
        if quantization is not None:
            kinds = {"scalar": lambda q: q.scalar.SetInParent(), "float16": lambda q: q.float16.SetInParent(),
                     "binary": lambda q: q.binary.SetInParent(),
                     "pq8": lambda q: q.product.CopyFrom(vector_pb2.ProductQuantization(subvectors=pq_subvectors, bits=8)),
                     "pq4": lambda q: q.product.CopyFrom(vector_pb2.ProductQuantization(subvectors=pq_subvectors, bits=4)),
                     "tiered": lambda q: q.tiered.CopyFrom(vector_pb2.TieredCompression(
                         hot_threshold=hot_threshold, retier_interval_queries=retier_interval, subvectors=pq_subvectors))}
            if quantization not in kinds:
                raise ValueError(f"quantization must be one of {sorted(kinds)}; got {quantization!r}")
            kinds[quantization](request.quantization)
        return _info(self._call("CreateCollection", request))

    def get_collection(self, name: str) -> CollectionInfo:
        """Describes a collection (NotFound if absent)."""
        return _info(self._call("GetCollection", vector_pb2.GetCollectionRequest(name=name)))

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

    def list_collections(self) -> list[CollectionInfo]:
        """Every collection, by name."""
        return [_info(c) for c in self._call("ListCollections", vector_pb2.ListCollectionsRequest()).collections]

    def delete_collection(self, name: str) -> int:
        """Deletes a collection and its data; returns how many points it held."""
        return self._call("DeleteCollection", vector_pb2.DeleteCollectionRequest(name=name)).points_deleted

    # Points

    def upsert(self, collection: str, ids: Sequence[int], vectors: Any,
               payloads: Sequence[Mapping[str, Any] | None] | None = None, *, wait: bool = True,
               consistency: str | None = None, min_replicas: int = 0) -> UpdateResult:
        """Inserts or replaces points (at most 10000 per call; use import_stream for more).
        vectors: a list of lists or a 2-D numpy array. Durable when it returns; with wait=False
        it may not be searchable yet (it is indexed shortly after, in order). On a cluster,
        `consistency` ("async", "semi-sync", "sync"; default the collection's) says how many
        replicas must have the write before it is acknowledged (`min_replicas` for semi-sync)."""
        # Rows of a 2-D numpy array stay arrays: ruvector.wire turns each into bytes at once.
        rows = list(vectors) if getattr(vectors, "ndim", 0) == 2 else convert.rows(vectors)
        ids = list(ids.tolist() if hasattr(ids, "tolist") else ids)
        if len(rows) != len(ids) or (payloads is not None and len(payloads) != len(ids)):
            raise ValueError(f"ids ({len(ids)}), vectors ({len(rows)}) and payloads "
                             f"({'-' if payloads is None else len(payloads)}) must have the same length")
        request = wire.upsert_request(collection, [(i, v, payloads[n] if payloads is not None else None)
                                                   for n, (i, v) in enumerate(zip(ids, rows))], _wait(wait),
                                     convert.replication_mode(consistency), min_replicas)
        result = self._call(self._upsert, request)
        return UpdateResult(result.sequence, result.points_affected, result.applied, result.replicas_acknowledged)

    def import_stream(self, collection: str, points: Iterable[Point | tuple | Mapping[str, Any]], *,
                      batch_size: int = 500, progress: bool = False, total: int | None = None,
                      wait: bool = True) -> UpdateResult:
        """Bulk import over one client stream (UpsertStream). `points` yields Point objects,
        (id, vector[, payload]) tuples or {"id", "vector", "payload"} dicts; any iterable, read lazily.
        With progress=True a progress line is drawn on stderr (total gives a percentage).
        wait=False acknowledges each batch once logged (durable) and indexes it while the next
        one is sent: faster, and the last batches may not be searchable when this returns."""
        if not 1 <= batch_size <= 10_000:
            raise ValueError("batch_size must be 1..10000")
        sent = [0]
        failed: list[BaseException] = []
        started = time.monotonic()

        def requests():
            # Messages are encoded straight to bytes (ruvector.wire): no protobuf object per point.
            # grpcio reads this generator on its own thread, so encoding overlaps the transfer.
            try:
                for batch in convert.chunks(points, batch_size):
                    yield wire.upsert_request(collection, [_unpack(p) for p in batch], _wait(wait))
                    sent[0] += len(batch)
                    if progress:
                        _draw_progress(sent[0], total, started)
            except Exception as error:
                failed.append(error)     # raised below instead of the CANCELLED it causes
                raise
        try:
            result = self._upsert_stream(requests(), timeout=None)
        except grpc.RpcError as error:
            if failed:
                raise failed[0] from None
            raise from_rpc_error(error) from None
        finally:
            if progress:
                sys.stderr.write("\n")
        return UpdateResult(result.sequence, result.points_affected, result.applied)

    def get(self, collection: str, ids: Sequence[int], *, with_payload: bool = True,
            with_vectors: bool = False, read_from: str | None = None) -> list[Record]:
        """The stored points with these ids (missing ids are left out). On a cluster,
        read_from="any" may answer from any copy (default: each shard's primary)."""
        request = vector_pb2.GetRequest(collection=collection, ids=[convert.to_id(i) for i in ids],
                                        read_from=convert.read_from(read_from))
        _set_with(request, with_payload, with_vectors)
        return [_record(p, with_payload, with_vectors) for p in self._call("Get", request).points]

    def delete(self, collection: str, ids: Sequence[int] | None = None, *,
               filter: Mapping[str, Any] | None = None, consistency: str | None = None, min_replicas: int = 0) -> int:
        """Deletes points by ids or by filter (exactly one); returns how many were deleted.
        consistency and min_replicas as in upsert."""
        if (ids is None) == (filter is None):
            raise ValueError("delete takes ids or filter (exactly one)")
        request = vector_pb2.DeleteRequest(collection=collection, consistency=convert.replication_mode(consistency),
                                           min_replicas=min_replicas)
        if ids is not None:
            request.ids.CopyFrom(vector_pb2.PointIdList(ids=[convert.to_id(i) for i in ids]))
        else:
            request.filter.CopyFrom(convert.to_filter(filter))
        return self._call("Delete", request).points_affected

    def count(self, collection: str, filter: Mapping[str, Any] | None = None, *, read_from: str | None = None) -> int:
        """Number of points, or of those matching the filter (read_from as in get)."""
        request = vector_pb2.CountRequest(collection=collection, filter=convert.to_filter(filter),
                                          read_from=convert.read_from(read_from))
        return self._call("Count", request).count

    def scroll(self, collection: str, *, filter: Mapping[str, Any] | None = None, page_size: int = 100,
               with_payload: bool = True, with_vectors: bool = False, read_from: str | None = None) -> Iterator[Record]:
        """Every (matching) point, fetched a page at a time: in id order on a single server,
        shard after shard on a cluster (read_from as in get)."""
        offset = None
        while True:
            request = vector_pb2.ScrollRequest(collection=collection, filter=convert.to_filter(filter), limit=page_size,
                                               read_from=convert.read_from(read_from))
            if offset is not None:
                request.offset.CopyFrom(offset)
            _set_with(request, with_payload, with_vectors)
            page = self._call("Scroll", request)
            for point in page.points:
                yield _record(point, with_payload, with_vectors)
            if not page.HasField("next_offset"):
                return
            offset = page.next_offset

    # Search

    def _search_request(self, collection, vector, k, filter, ef, exact, with_payload, with_vectors,
                        score_threshold, offset, oversampling=None, ignore_quantization=False, tag=0,
                        read_from=None, allow_partial=False):
        request = vector_pb2.SearchRequest(collection=collection, vector=convert.to_vector(vector), k=k,
                                           filter=convert.to_filter(filter), offset=offset, tag=tag,
                                           read_from=convert.read_from(read_from), allow_partial=allow_partial)
        if ef or exact or oversampling or ignore_quantization:
            request.params.CopyFrom(vector_pb2.SearchParams(ef=ef or 0, exact=exact))
            if oversampling or ignore_quantization:
                request.params.quantization.CopyFrom(vector_pb2.QuantizationSearchParams(
                    ignore=ignore_quantization, oversampling=oversampling or 0))
        if score_threshold is not None:
            request.score_threshold = score_threshold
        _set_with(request, with_payload, with_vectors)
        return request

    def search(self, collection: str, vector: Any, k: int = 10, *, filter: Mapping[str, Any] | None = None,
               ef: int | None = None, exact: bool = False, with_payload: bool = True, with_vectors: bool = False,
               score_threshold: float | None = None, offset: int = 0, oversampling: float | None = None,
               ignore_quantization: bool = False, read_from: str | None = None, allow_partial: bool = False) -> Hits:
        """The k nearest points to `vector`, best first. exact=True searches by brute force.
        Quantized collections walk on codes and rescore `oversampling` x k candidates on full
        vectors (1..100, default 4); ignore_quantization=True walks full vectors instead. On a
        cluster the search runs on every shard (read_from as in get); with allow_partial=True
        shards that cannot answer are left out and named in the result's `missing_shards`."""
        request = self._search_request(collection, vector, k, filter, ef, exact, with_payload, with_vectors,
                                       score_threshold, offset, oversampling, ignore_quantization,
                                       read_from=read_from, allow_partial=allow_partial)
        return _hits(self._call("Search", request), with_payload, with_vectors)

    def search_batch(self, collection: str, vectors: Any, k: int = 10, **options) -> list[list[Hit]]:
        """Several searches in one call (at most 1000), answered in order. Options as in search."""
        requests = [self._search_request(collection, v, k, options.get("filter"), options.get("ef"),
                                         options.get("exact", False), options.get("with_payload", True),
                                         options.get("with_vectors", False), options.get("score_threshold"),
                                         options.get("offset", 0), options.get("oversampling"),
                                         options.get("ignore_quantization", False))
                    for v in convert.rows(vectors)]
        response = self._call("SearchBatch", vector_pb2.SearchBatchRequest(searches=requests))
        return [_hits(r, options.get("with_payload", True), options.get("with_vectors", False)) for r in response.results]

    def search_stream(self, collection: str, vectors: Iterable[Any], k: int = 10, **options) -> Iterator[list[Hit]]:
        """Searches over one stream (SearchStream): `vectors` is read lazily and results are
        yielded in the same order. A failed query raises its error when its turn comes."""
        with_payload, with_vectors = options.get("with_payload", True), options.get("with_vectors", False)

        def requests():
            for tag, vector in enumerate(vectors):
                yield self._search_request(collection, vector, k, options.get("filter"), options.get("ef"),
                                           options.get("exact", False), with_payload, with_vectors,
                                           options.get("score_threshold"), options.get("offset", 0),
                                           options.get("oversampling"), options.get("ignore_quantization", False), tag=tag)
        pending: dict[int, Any] = {}
        next_tag = 0
        try:
            for response in self._stub.SearchStream(requests(), timeout=None):
                pending[response.tag] = response
                while next_tag in pending:
                    response = pending.pop(next_tag)
                    next_tag += 1
                    if response.HasField("error"):
                        raise from_status(response.error.code, response.error.message)
                    yield _hits(response, with_payload, with_vectors)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    # Snapshots

    def create_snapshot(self, collection: str) -> SnapshotInfo:
        """Writes a point-in-time snapshot of the collection on the server."""
        return _snapshot(self._call("CreateSnapshot", vector_pb2.CreateSnapshotRequest(collection=collection)))

    def list_snapshots(self, collection: str) -> list[SnapshotInfo]:
        """The collection's snapshots, newest first."""
        response = self._call("ListSnapshots", vector_pb2.ListSnapshotsRequest(collection=collection))
        return [_snapshot(s) for s in response.snapshots]

    def download_snapshot(self, collection: str, name: str, path: str | os.PathLike, *,
                          chunk_bytes: int = 1 << 20) -> int:
        """Streams snapshot `name` into the file at `path` (written atomically: a temporary file
        renamed once size and CRC-32C check out). Returns the size in bytes."""
        request = vector_pb2.DownloadSnapshotRequest(collection=collection, name=name, chunk_bytes=chunk_bytes)
        temporary = f"{os.fspath(path)}.part"
        crc, size, trailer = 0, 0, None
        try:
            with open(temporary, "wb") as out:
                for chunk in self._stub.DownloadSnapshot(request, timeout=None):
                    if chunk.offset != size:
                        raise RuVectorError(grpc.StatusCode.DATA_LOSS, f"chunk at offset {chunk.offset}, expected {size}")
                    out.write(chunk.data)
                    crc = crc32c(chunk.data, crc)
                    size += len(chunk.data)
                    if chunk.HasField("trailer"):
                        trailer = chunk.trailer
                out.flush()
                os.fsync(out.fileno())
            if trailer is None or trailer.size_bytes != size or trailer.crc32c != crc:
                raise RuVectorError(grpc.StatusCode.DATA_LOSS, "the download does not match its trailer (size or CRC-32C)")
            os.replace(temporary, path)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
        return size

    def restore_snapshot(self, collection: str, path: str | os.PathLike | None = None, *, name: str | None = None,
                         chunk_bytes: int = 1 << 20) -> CollectionInfo:
        """Replaces (or creates) `collection` with a snapshot: an uploaded file at `path`, or one
        of the collection's own snapshots by `name` (exactly one of the two)."""
        if (path is None) == (name is None):
            raise ValueError("restore_snapshot takes path or name (exactly one)")
        if name is not None:
            requests = iter([vector_pb2.RestoreSnapshotRequest(collection=collection, snapshot_name=name)])
        else:
            requests = _upload(collection, path, chunk_bytes)
        try:
            return _info(self._stub.RestoreSnapshot(requests, timeout=None))
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None


def _upload(collection, path, chunk_bytes):
    size = os.path.getsize(path)
    crc, offset = 0, 0
    with open(path, "rb") as source:
        while True:
            data = source.read(chunk_bytes)
            crc = crc32c(data, crc)
            chunk = common_pb2.FileChunk(offset=offset, data=data)
            offset += len(data)
            if offset >= size:
                chunk.trailer.CopyFrom(common_pb2.FileTrailer(size_bytes=offset, crc32c=crc))
                yield vector_pb2.RestoreSnapshotRequest(collection=collection, chunk=chunk)
                return
            yield vector_pb2.RestoreSnapshotRequest(collection=collection, chunk=chunk)


def _unpack(item):
    if isinstance(item, Point):
        return item.id, item.vector, item.payload
    if isinstance(item, Mapping):
        return item["id"], item["vector"], item.get("payload")
    if isinstance(item, tuple) and len(item) in (2, 3):
        return item[0], item[1], item[2] if len(item) == 3 else None
    raise TypeError(f"a point is a Point, an (id, vector[, payload]) tuple or a dict; got {type(item).__name__}")


def _set_with(request, with_payload, with_vectors):
    options = getattr(request, "with")
    options.with_payload = with_payload
    options.with_vectors = with_vectors


def _record(point, with_payload, with_vectors) -> Record:
    return Record(convert.from_id(point.id), convert.from_payload(point.payload) if with_payload else None,
                  list(point.vector.values) if with_vectors else None)


def _hits(response, with_payload, with_vectors) -> Hits:
    return Hits((Hit(convert.from_id(h.id), h.score, convert.from_payload(h.payload) if with_payload else None,
                     list(h.vector.values) if with_vectors else None) for h in response.hits), response.missing_shards)


def _info(info) -> CollectionInfo:
    kind = info.quantization.WhichOneof("kind") if info.HasField("quantization") else None
    if kind == "product":
        kind = "pq4" if info.quantization.product.bits == 4 else "pq8"
    tiers = None
    if info.HasField("tiers"):
        t = info.tiers
        tiers = TierCounts(t.hot, t.warm, t.cool, t.cold, t.archive, t.code_bytes, t.passes)
    return CollectionInfo(info.name, info.dimension, convert.METRIC_NAMES.get(info.metric, "unspecified"), info.points_count,
                          info.hnsw.m, info.hnsw.ef_construction, info.hnsw.ef_search,
                          info.index_status == vector_pb2.INDEX_STATUS_INDEXING, info.memory_bytes,
                          info.disk_bytes, info.created_unix_micros, kind, tiers, info.shards or 1,
                          info.replication_factor or 1, convert.REPLICATION_MODE_NAMES.get(info.write_consistency, "async"),
                          info.min_replicas)


def _wait(wait: bool) -> int:
    return vector_pb2.WRITE_WAIT_DURABLE if wait else vector_pb2.WRITE_WAIT_ACCEPTED


def _snapshot(s) -> SnapshotInfo:
    return SnapshotInfo(s.name, s.collection, s.size_bytes, s.created_unix_micros, s.crc32c, s.wal_sequence)


def _draw_progress(done: int, total: int | None, started: float) -> None:
    rate = done / max(time.monotonic() - started, 1e-9)
    if total:
        filled = int(30 * min(done, total) / total)
        line = f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} points ({rate:,.0f}/s)"
    else:
        line = f"\r{done} points ({rate:,.0f}/s)"
    sys.stderr.write(line)
    sys.stderr.flush()
