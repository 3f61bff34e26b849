"""VectorService requests built from Python values, and its answers turned back into them.

`ruvector.Client` and `ruvector.AsyncClient` both build every request and read every answer
here; only how they send them differs, so the two cannot drift apart.
"""
from __future__ import annotations

import os
import sys
import time
from typing import Any, Iterable, Iterator, Mapping, Sequence, TypedDict

import grpc

from ruvector import convert, wire
from ruvector.crc import crc32c
from ruvector.errors import RuVectorError, from_status
from ruvector.models import (CollectionInfo, FailedBatch, FilterLike, Hit, Hits, IdsLike, PayloadLike, Point, PointIdLike,
                             PointLike, Record, SnapshotInfo, TierCounts, UpdateResult, VectorLike, VectorsLike)
from ruvector.v1 import common_pb2, vector_pb2


class SearchOptions(TypedDict, total=False):
    """Options of `search_batch` and `search_stream`, as in `search`."""
    filter: FilterLike | None
    ef: int | None
    exact: bool
    with_payload: bool
    with_vectors: bool
    score_threshold: float | None
    offset: int
    oversampling: float | None
    ignore_quantization: bool
    read_from: str | None
    allow_partial: bool
    learned_rerank: int | None


_QUANTIZATIONS = ("scalar", "int4", "float16", "binary", "pq8", "pq4", "tiered")


def create_collection(name: str, dimension: int, metric: str, *, m: int | None, ef_construction: int | None,
                      ef_search: int | None, quantization: str | None, pq_subvectors: int, hot_threshold: int,
                      retier_interval: int, shards: int, replication_factor: int, write_consistency: str | None,
                      min_replicas: int, on_disk: bool = False,
                      on_disk_graph: bool = False) -> vector_pb2.CreateCollectionRequest:
    """A CreateCollectionRequest (see `Client.create_collection` for the arguments)."""
    request = vector_pb2.CreateCollectionRequest(
        name=name, dimension=dimension, metric=convert.metric(metric),
        hnsw=vector_pb2.HnswConfig(m=m or 0, ef_construction=ef_construction or 0, ef_search=ef_search or 0),
        shards=shards, replication_factor=replication_factor,
        write_consistency=convert.replication_mode(write_consistency), min_replicas=min_replicas, on_disk=on_disk,
        on_disk_graph=on_disk_graph)
    if quantization is None:
        return request
    if quantization not in _QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {sorted(_QUANTIZATIONS)}; got {quantization!r}")
    q = request.quantization
    if quantization == "scalar":
        q.scalar.SetInParent()
    elif quantization == "int4":
        q.scalar.bits = 4
    elif quantization == "float16":
        q.float16.SetInParent()
    elif quantization == "binary":
        q.binary.SetInParent()
    elif quantization == "tiered":
        q.tiered.CopyFrom(vector_pb2.TieredCompression(hot_threshold=hot_threshold,
                                                       retier_interval_queries=retier_interval,
                                                       subvectors=pq_subvectors))
    else:
        q.product.CopyFrom(vector_pb2.ProductQuantization(subvectors=pq_subvectors,
                                                          bits=8 if quantization == "pq8" else 4))
    return request


def write_wait(wait: bool) -> int:
    """The WriteWait of a write: durable and searchable (wait=True) or durable only."""
    return int(vector_pb2.WRITE_WAIT_DURABLE if wait else vector_pb2.WRITE_WAIT_ACCEPTED)


def upsert(collection: str, ids: IdsLike, vectors: VectorsLike, payloads: Sequence[PayloadLike | None] | None,
           wait: bool, consistency: str | None, min_replicas: int) -> bytes:
    """An encoded UpsertRequest; ids, vectors and payloads must have the same length."""
    # Rows of a 2-D numpy array stay arrays: ruvector.wire turns each into bytes at once.
    rows = list(vectors) if getattr(vectors, "ndim", 0) == 2 else convert.rows(vectors)
    id_list = list(ids.tolist() if hasattr(ids, "tolist") else ids)
    if len(rows) != len(id_list) or (payloads is not None and len(payloads) != len(id_list)):
        raise ValueError(f"ids ({len(id_list)}), vectors ({len(rows)}) and payloads "
                         f"({'-' if payloads is None else len(payloads)}) must have the same length")
    points = [(i, v, payloads[n] if payloads is not None else None) for n, (i, v) in enumerate(zip(id_list, rows))]
    return wire.upsert_request(collection, points, write_wait(wait), convert.replication_mode(consistency),
                               min_replicas)


def unpack(item: PointLike) -> tuple[PointIdLike, VectorLike, PayloadLike | None]:
    """(id, vector, payload) of a `Point`, an (id, vector[, payload]) tuple or a dict."""
    if isinstance(item, Point):
        return item.id, item.vector, item.payload
    if isinstance(item, Mapping):
        return item["id"], item["vector"], item.get("payload")
    if isinstance(item, tuple) and len(item) in (2, 3):
        return item[0], item[1], item[2] if len(item) == 3 else None
    raise TypeError(f"a point is a Point, an (id, vector[, payload]) tuple or a dict; got {type(item).__name__}")


def check_batch_size(batch_size: int) -> None:
    """Refuses a batch size the server would refuse (1..10000 points per message)."""
    if not 1 <= batch_size <= 10_000:
        raise ValueError("batch_size must be 1..10000")


class ImportFeed:
    """The messages of an import: batches of `points` encoded straight to bytes (`ruvector.wire`,
    no protobuf object per point), with an optional progress bar on stderr."""

    def __init__(self, collection: str, points: Iterable[PointLike], batch_size: int, wait: bool,
                 progress: bool, total: int | None):
        check_batch_size(batch_size)
        self._collection, self._points, self._batch_size = collection, points, batch_size
        self._wait, self._progress, self._total = write_wait(wait), progress, total
        self.sent = 0
        self._started = time.monotonic()

    def requests(self) -> Iterator[bytes]:
        """The UpsertRequest messages, encoded as they are asked for."""
        for batch in convert.chunks(self._points, self._batch_size):
            yield wire.upsert_request(self._collection, [unpack(p) for p in batch], self._wait)
            self.sent += len(batch)
            if self._progress:
                _draw_progress(self.sent, self._total, self._started)

    def finish(self) -> None:
        """Ends the progress line."""
        if self._progress:
            sys.stderr.write("\n")


def upload_batches(points: Iterable[PointLike], batch_size: int) -> Iterator[tuple[int, list[PointIdLike], list[
        tuple[PointIdLike, VectorLike, PayloadLike | None]]]]:
    """`upload_points`' batches: (index, ids, points), read lazily from `points`."""
    check_batch_size(batch_size)
    for index, batch in enumerate(convert.chunks(points, batch_size)):
        yield upload_batch(index, batch)


def upload_batch(index: int, batch: list[PointLike]) -> tuple[int, list[PointIdLike], list[
        tuple[PointIdLike, VectorLike, PayloadLike | None]]]:
    """Batch `index` of `upload_points`: (index, ids, points as (id, vector, payload))."""
    unpacked = [unpack(p) for p in batch]
    return index, [p[0] for p in unpacked], unpacked


def upload_request(collection: str, points: list[tuple[PointIdLike, VectorLike, PayloadLike | None]],
                   wait: bool) -> bytes:
    """One batch of `upload_points`, encoded."""
    return wire.upsert_request(collection, points, write_wait(wait))


def combine(results: list[UpdateResult]) -> UpdateResult:
    """The result of several writes: the last sequence, every point, applied when all were."""
    return UpdateResult(max((r.sequence for r in results), default=0), sum(r.points_affected for r in results),
                        all(r.applied for r in results), min((r.replicas_acknowledged for r in results), default=0))


def mark_batch(error: BaseException, index: int, ids: list[PointIdLike]) -> BaseException:
    """`error` with the upload batch it concerns: ``error.batch`` on a RuVectorError, and a note."""
    if isinstance(error, RuVectorError):
        error.batch = FailedBatch(index, ids)
    if ids:
        error.add_note(f"upload_points: batch {index} ({len(ids)} points, ids {ids[0]!r} .. {ids[-1]!r})")
    return error


def get(collection: str, ids: Sequence[PointIdLike], with_payload: bool, with_vectors: bool,
        read_from: str | None) -> vector_pb2.GetRequest:
    """A GetRequest."""
    request = vector_pb2.GetRequest(collection=collection, ids=[convert.to_id(i) for i in ids],
                                    read_from=convert.read_from(read_from))
    _set_with(request, with_payload, with_vectors)
    return request


def delete(collection: str, ids: Sequence[PointIdLike] | None, filter: FilterLike | None,
           consistency: str | None, min_replicas: int) -> vector_pb2.DeleteRequest:
    """A DeleteRequest by ids or by filter (exactly one)."""
    if (ids is None) == (filter is None):
        raise ValueError("delete takes ids or filter (exactly one)")
    request = vector_pb2.DeleteRequest(collection=collection, consistency=convert.replication_mode(consistency),
                                       min_replicas=min_replicas)
    if ids is not None:
        request.ids.CopyFrom(vector_pb2.PointIdList(ids=[convert.to_id(i) for i in ids]))
    else:
        request.filter.CopyFrom(convert.to_filter(filter) or common_pb2.Filter())
    return request


def count(collection: str, filter: FilterLike | None, read_from: str | None) -> vector_pb2.CountRequest:
    """A CountRequest."""
    return vector_pb2.CountRequest(collection=collection, filter=convert.to_filter(filter),
                                   read_from=convert.read_from(read_from))


def scroll(collection: str, filter: FilterLike | None, page_size: int, offset: common_pb2.PointId | None,
           with_payload: bool, with_vectors: bool, read_from: str | None) -> vector_pb2.ScrollRequest:
    """A ScrollRequest for the page after `offset` (None: the first)."""
    request = vector_pb2.ScrollRequest(collection=collection, filter=convert.to_filter(filter), limit=page_size,
                                       read_from=convert.read_from(read_from))
    if offset is not None:
        request.offset.CopyFrom(offset)
    _set_with(request, with_payload, with_vectors)
    return request


def scroll_page(page: vector_pb2.ScrollResponse, with_payload: bool,
                with_vectors: bool) -> tuple[list[Record], common_pb2.PointId | None]:
    """A page's records and the offset of the next page (None after the last)."""
    records = [record(p, with_payload, with_vectors) for p in page.points]
    return records, page.next_offset if page.HasField("next_offset") else None


def search(collection: str, vector: VectorLike, k: int, options: SearchOptions, tag: int = 0) -> vector_pb2.SearchRequest:
    """A SearchRequest (options as in `Client.search`)."""
    unknown = set(options) - set(SearchOptions.__annotations__)
    if unknown:
        raise TypeError(f"unknown search options {sorted(unknown)}")
    request = vector_pb2.SearchRequest(collection=collection, vector=convert.to_vector(vector), k=k,
                                       filter=convert.to_filter(options.get("filter")), offset=options.get("offset", 0),
                                       tag=tag, read_from=convert.read_from(options.get("read_from")),
                                       allow_partial=options.get("allow_partial", False))
    ef, exact = options.get("ef"), options.get("exact", False)
    oversampling, ignore = options.get("oversampling"), options.get("ignore_quantization", False)
    rerank = options.get("learned_rerank")
    if ef or exact or oversampling or ignore or rerank is not None:
        request.params.CopyFrom(vector_pb2.SearchParams(ef=ef or 0, exact=exact))
        if oversampling or ignore:
            request.params.quantization.CopyFrom(vector_pb2.QuantizationSearchParams(
                ignore=ignore, oversampling=oversampling or 0))
        if rerank is not None:
            # Presence turns re-ranking on; depth 0 lets the server choose (100).
            request.params.learned_rerank.CopyFrom(common_pb2.LearnedRerank(depth=rerank))
    threshold = options.get("score_threshold")
    if threshold is not None:
        request.score_threshold = threshold
    _set_with(request, options.get("with_payload", True), options.get("with_vectors", False))
    return request


def search_batch(collection: str, vectors: VectorsLike, k: int, options: SearchOptions) -> vector_pb2.SearchBatchRequest:
    """A SearchBatchRequest: one search per vector."""
    return vector_pb2.SearchBatchRequest(searches=[search(collection, v, k, options) for v in convert.rows(vectors)])


def search_stream(collection: str, vectors: Iterable[VectorLike], k: int,
                  options: SearchOptions) -> Iterator[vector_pb2.SearchRequest]:
    """SearchStream's requests, tagged in order (read lazily from `vectors`)."""
    for tag, vector in enumerate(vectors):
        yield search(collection, vector, k, options, tag=tag)


class StreamOrder:
    """Puts SearchStream answers back in request order (the server may answer out of order) and
    raises a query's error when its turn comes."""

    def __init__(self, options: SearchOptions):
        self._with_payload = options.get("with_payload", True)
        self._with_vectors = options.get("with_vectors", False)
        self._pending: dict[int, vector_pb2.SearchResponse] = {}
        self._next_tag = 0

    def add(self, response: vector_pb2.SearchResponse) -> list[Hits]:
        """The results now ready in order, after `response` arrived."""
        self._pending[response.tag] = response
        ready = []
        while self._next_tag in self._pending:
            answer = self._pending.pop(self._next_tag)
            self._next_tag += 1
            if answer.HasField("error"):
                raise from_status(answer.error.code, answer.error.message)
            ready.append(hits(answer, self._with_payload, self._with_vectors))
        return ready


class SnapshotFile:
    """A snapshot download written to `path` atomically: into a temporary file, renamed once
    the chunks' offsets, size and CRC-32C match the trailer; removed otherwise."""

    def __init__(self, path: str | os.PathLike[str]):
        self._path = path
        self._temporary = f"{os.fspath(path)}.part"
        self._out = open(self._temporary, "wb")
        self.size = 0
        self._crc = 0
        self._trailer: common_pb2.FileTrailer | None = None

    def write(self, chunk: common_pb2.FileChunk) -> None:
        """Appends one chunk (which must start where the last ended)."""
        if chunk.offset != self.size:
            raise RuVectorError(grpc.StatusCode.DATA_LOSS, f"chunk at offset {chunk.offset}, expected {self.size}")
        self._out.write(chunk.data)
        self._crc = crc32c(chunk.data, self._crc)
        self.size += len(chunk.data)
        if chunk.HasField("trailer"):
            self._trailer = chunk.trailer

    def commit(self) -> int:
        """Checks the file against the trailer and renames it into place; returns its size."""
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()
        trailer = self._trailer
        if trailer is None or trailer.size_bytes != self.size or trailer.crc32c != self._crc:
            raise RuVectorError(grpc.StatusCode.DATA_LOSS, "the download does not match its trailer (size or CRC-32C)")
        os.replace(self._temporary, self._path)
        return self.size

    def discard(self) -> None:
        """Removes what is left of a download that did not commit."""
        self._out.close()
        if os.path.exists(self._temporary):
            os.remove(self._temporary)


def download_snapshot(collection: str, name: str, chunk_bytes: int) -> vector_pb2.DownloadSnapshotRequest:
    """A DownloadSnapshotRequest."""
    return vector_pb2.DownloadSnapshotRequest(collection=collection, name=name, chunk_bytes=chunk_bytes)


def restore_snapshot(collection: str, path: str | os.PathLike[str] | None, name: str | None,
                     chunk_bytes: int) -> Iterator[vector_pb2.RestoreSnapshotRequest]:
    """RestoreSnapshot's requests: one naming a stored snapshot, or the chunks of the file at `path`."""
    if (path is None) == (name is None):
        raise ValueError("restore_snapshot takes path or name (exactly one)")
    if name is not None:
        return iter([vector_pb2.RestoreSnapshotRequest(collection=collection, snapshot_name=name)])
    assert path is not None
    return _upload(collection, path, chunk_bytes)


def _upload(collection: str, path: str | os.PathLike[str], chunk_bytes: int) -> Iterator[vector_pb2.RestoreSnapshotRequest]:
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


def _set_with(request: Any, with_payload: bool, with_vectors: bool) -> None:
    options = getattr(request, "with")
    options.with_payload = with_payload
    options.with_vectors = with_vectors


def record(point: Any, with_payload: bool, with_vectors: bool) -> Record:
    """A stored point of a Get or Scroll answer."""
    return Record(convert.from_id(point.id), convert.from_payload(point.payload) if with_payload else None,
                  list(point.vector.values) if with_vectors else None)


def hits(response: Any, with_payload: bool, with_vectors: bool) -> Hits:
    """A SearchResponse's hits, best first."""
    return Hits((Hit(convert.from_id(h.id), h.score, convert.from_payload(h.payload) if with_payload else None,
                     list(h.vector.values) if with_vectors else None) for h in response.hits), response.missing_shards,
                response.model_version)


def info(message: Any) -> CollectionInfo:
    """A CollectionInfo message as a `CollectionInfo`."""
    kind = message.quantization.WhichOneof("kind") if message.HasField("quantization") else None
    if kind == "product":
        kind = "pq4" if message.quantization.product.bits == 4 else "pq8"
    elif kind == "scalar" and message.quantization.scalar.bits == 4:
        kind = "int4"
    tiers = None
    if message.HasField("tiers"):
        t = message.tiers
        tiers = TierCounts(t.hot, t.warm, t.cool, t.cold, t.archive, t.code_bytes, t.passes)
    return CollectionInfo(message.name, message.dimension, convert.METRIC_NAMES.get(message.metric, "unspecified"),
                          message.points_count, message.hnsw.m, message.hnsw.ef_construction, message.hnsw.ef_search,
                          message.index_status == vector_pb2.INDEX_STATUS_INDEXING, message.memory_bytes,
                          message.disk_bytes, message.created_unix_micros, kind, tiers, message.shards or 1,
                          message.replication_factor or 1,
                          convert.REPLICATION_MODE_NAMES.get(message.write_consistency, "async"), message.min_replicas,
                          message.on_disk, message.on_disk_vector_bytes, message.on_disk_graph,
                          message.on_disk_graph_bytes)


def update_result(message: Any) -> UpdateResult:
    """An UpdateResult message as an `UpdateResult`."""
    return UpdateResult(message.sequence, message.points_affected, message.applied, message.replicas_acknowledged)


def snapshot(s: Any) -> SnapshotInfo:
    """A SnapshotInfo message as a `SnapshotInfo`."""
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
