"""The values the clients take and return (shared by `ruvector.Client` and `ruvector.AsyncClient`)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence, Tuple, Union

if TYPE_CHECKING:
    from numpy.typing import NDArray

#: A point id: an int in 0 .. 2**63 - 1, or a UUID (a `uuid.UUID` or its string in any case).
PointIdLike = Union[int, str, uuid.UUID]
#: A point id as the server returns it: an int, or a UUID as its canonical lower-case string.
PointId = Union[int, str]
#: One vector: a sequence of numbers or a 1-D numpy array.
VectorLike = Union[Sequence[float], "NDArray[Any]"]
#: Several vectors: a sequence of vectors or a 2-D numpy array.
VectorsLike = Union[Sequence[VectorLike], "NDArray[Any]"]
#: Point ids for a write: a sequence of ids or a 1-D numpy array of integers.
IdsLike = Union[Sequence[PointIdLike], "NDArray[Any]", range]
#: A payload: string keys, values None, bool, int, float, str, lists and dicts of them.
PayloadLike = Mapping[str, Any]
#: A filter in the mini-language of `ruvector.convert.to_filter`.
FilterLike = Mapping[str, Any]
#: A point to write: a `Point`, an ``(id, vector)`` or ``(id, vector, payload)`` tuple, or a dict
#: with "id", "vector" and optionally "payload".
PointLike = Union["Point", Tuple[PointIdLike, VectorLike], Tuple[PointIdLike, VectorLike, Union[PayloadLike, None]],
                  Mapping[str, Any]]


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
    #: Bytes held in memory for vectors (unless on disk), graph and codes.
    memory_bytes: int = 0
    #: Bytes on disk (configuration, write-ahead log, snapshots).
    disk_bytes: int = 0
    #: When the collection was created (or restored from an upload), microseconds since the epoch.
    created_unix_micros: int = 0
    #: None, "scalar" (int8), "int4", "float16", "binary", "pq8", "pq4" or "tiered".
    quantization: str | None = None
    #: Vectors per compression tier (tiered collections, once trained).
    tiers: TierCounts | None = None
    #: Shards the points are spread over (1 on a single server).
    shards: int = 1
    #: Copies of each shard, primary included (1 on a single server).
    replication_factor: int = 1
    #: How writes wait for replicas by default: "async", "semi-sync" or "sync".
    write_consistency: str = "async"
    #: Replicas a semi-sync write waits for.
    min_replicas: int = 0
    #: True when full vectors are kept in a memory-mapped file (`on_disk`, or tiered).
    on_disk: bool = False
    #: Bytes of full vectors in that file (not in memory_bytes).
    on_disk_vector_bytes: int = 0
    #: True when the graph's level-0 links are in a memory-mapped file too (`on_disk_graph`).
    on_disk_graph: bool = False
    #: Bytes of level-0 links in that file (not in memory_bytes).
    on_disk_graph_bytes: int = 0


@dataclass(frozen=True)
class Hit:
    """A search result: the point id, its score (larger is better) and, when asked, payload and vector."""
    id: PointId
    score: float
    payload: dict[str, Any] | None = None
    vector: list[float] | None = None


@dataclass(frozen=True)
class Record:
    """A stored point, as returned by get and scroll."""
    id: PointId
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


class Hits(list[Hit]):
    """Search hits, best first; `missing_shards` lists the shards of a sharded collection that
    did not answer a search made with allow_partial=True (empty when the answer is complete);
    `model_version` is the learned model that ranked them (0: the plain HNSW order)."""
    missing_shards: list[int]
    model_version: int

    def __init__(self, hits: Iterable[Hit] = (), missing_shards: Iterable[int] = (), model_version: int = 0):
        super().__init__(hits)
        self.missing_shards = list(missing_shards)
        self.model_version = model_version


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
    id: PointIdLike
    vector: VectorLike
    payload: PayloadLike = field(default_factory=dict)


@dataclass(frozen=True)
class FailedBatch:
    """The batch of `upload_points` whose error was raised: its place in the upload (0 first)
    and the ids it held. The error carries it as ``error.batch``."""
    index: int
    ids: list[PointIdLike]
