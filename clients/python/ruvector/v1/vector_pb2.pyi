from ruvector.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Metric(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    METRIC_UNSPECIFIED: _ClassVar[Metric]
    METRIC_L2: _ClassVar[Metric]
    METRIC_COSINE: _ClassVar[Metric]
    METRIC_DOT: _ClassVar[Metric]
    METRIC_MANHATTAN: _ClassVar[Metric]

class WriteWait(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WRITE_WAIT_UNSPECIFIED: _ClassVar[WriteWait]
    WRITE_WAIT_DURABLE: _ClassVar[WriteWait]
    WRITE_WAIT_ACCEPTED: _ClassVar[WriteWait]

class IndexStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INDEX_STATUS_UNSPECIFIED: _ClassVar[IndexStatus]
    INDEX_STATUS_READY: _ClassVar[IndexStatus]
    INDEX_STATUS_INDEXING: _ClassVar[IndexStatus]
    INDEX_STATUS_REBUILDING: _ClassVar[IndexStatus]

class ReadFrom(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    READ_FROM_UNSPECIFIED: _ClassVar[ReadFrom]
    READ_FROM_PRIMARY: _ClassVar[ReadFrom]
    READ_FROM_ANY: _ClassVar[ReadFrom]
METRIC_UNSPECIFIED: Metric
METRIC_L2: Metric
METRIC_COSINE: Metric
METRIC_DOT: Metric
METRIC_MANHATTAN: Metric
WRITE_WAIT_UNSPECIFIED: WriteWait
WRITE_WAIT_DURABLE: WriteWait
WRITE_WAIT_ACCEPTED: WriteWait
INDEX_STATUS_UNSPECIFIED: IndexStatus
INDEX_STATUS_READY: IndexStatus
INDEX_STATUS_INDEXING: IndexStatus
INDEX_STATUS_REBUILDING: IndexStatus
READ_FROM_UNSPECIFIED: ReadFrom
READ_FROM_PRIMARY: ReadFrom
READ_FROM_ANY: ReadFrom

class HnswConfig(_message.Message):
    __slots__ = ("m", "ef_construction", "ef_search", "full_scan_threshold")
    M_FIELD_NUMBER: _ClassVar[int]
    EF_CONSTRUCTION_FIELD_NUMBER: _ClassVar[int]
    EF_SEARCH_FIELD_NUMBER: _ClassVar[int]
    FULL_SCAN_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    m: int
    ef_construction: int
    ef_search: int
    full_scan_threshold: int
    def __init__(self, m: _Optional[int] = ..., ef_construction: _Optional[int] = ..., ef_search: _Optional[int] = ..., full_scan_threshold: _Optional[int] = ...) -> None: ...

class QuantizationConfig(_message.Message):
    __slots__ = ("scalar", "float16", "product", "binary", "tiered")
    SCALAR_FIELD_NUMBER: _ClassVar[int]
    FLOAT16_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    BINARY_FIELD_NUMBER: _ClassVar[int]
    TIERED_FIELD_NUMBER: _ClassVar[int]
    scalar: ScalarQuantization
    float16: Float16Quantization
    product: ProductQuantization
    binary: BinaryQuantization
    tiered: TieredCompression
    def __init__(self, scalar: _Optional[_Union[ScalarQuantization, _Mapping]] = ..., float16: _Optional[_Union[Float16Quantization, _Mapping]] = ..., product: _Optional[_Union[ProductQuantization, _Mapping]] = ..., binary: _Optional[_Union[BinaryQuantization, _Mapping]] = ..., tiered: _Optional[_Union[TieredCompression, _Mapping]] = ...) -> None: ...

class ScalarQuantization(_message.Message):
    __slots__ = ("quantile", "bits", "training_sample")
    QUANTILE_FIELD_NUMBER: _ClassVar[int]
    BITS_FIELD_NUMBER: _ClassVar[int]
    TRAINING_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    quantile: float
    bits: int
    training_sample: int
    def __init__(self, quantile: _Optional[float] = ..., bits: _Optional[int] = ..., training_sample: _Optional[int] = ...) -> None: ...

class Float16Quantization(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ProductQuantization(_message.Message):
    __slots__ = ("subvectors", "bits", "training_sample")
    SUBVECTORS_FIELD_NUMBER: _ClassVar[int]
    BITS_FIELD_NUMBER: _ClassVar[int]
    TRAINING_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    subvectors: int
    bits: int
    training_sample: int
    def __init__(self, subvectors: _Optional[int] = ..., bits: _Optional[int] = ..., training_sample: _Optional[int] = ...) -> None: ...

class BinaryQuantization(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TieredCompression(_message.Message):
    __slots__ = ("hot_threshold", "retier_interval_queries", "subvectors")
    HOT_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    RETIER_INTERVAL_QUERIES_FIELD_NUMBER: _ClassVar[int]
    SUBVECTORS_FIELD_NUMBER: _ClassVar[int]
    hot_threshold: int
    retier_interval_queries: int
    subvectors: int
    def __init__(self, hot_threshold: _Optional[int] = ..., retier_interval_queries: _Optional[int] = ..., subvectors: _Optional[int] = ...) -> None: ...

class TierCounts(_message.Message):
    __slots__ = ("hot", "warm", "cool", "cold", "archive", "code_bytes", "passes")
    HOT_FIELD_NUMBER: _ClassVar[int]
    WARM_FIELD_NUMBER: _ClassVar[int]
    COOL_FIELD_NUMBER: _ClassVar[int]
    COLD_FIELD_NUMBER: _ClassVar[int]
    ARCHIVE_FIELD_NUMBER: _ClassVar[int]
    CODE_BYTES_FIELD_NUMBER: _ClassVar[int]
    PASSES_FIELD_NUMBER: _ClassVar[int]
    hot: int
    warm: int
    cool: int
    cold: int
    archive: int
    code_bytes: int
    passes: int
    def __init__(self, hot: _Optional[int] = ..., warm: _Optional[int] = ..., cool: _Optional[int] = ..., cold: _Optional[int] = ..., archive: _Optional[int] = ..., code_bytes: _Optional[int] = ..., passes: _Optional[int] = ...) -> None: ...

class CreateCollectionRequest(_message.Message):
    __slots__ = ("name", "dimension", "metric", "hnsw", "quantization", "default_wait", "shards", "replication_factor", "write_consistency", "min_replicas", "on_disk", "on_disk_graph")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    HNSW_FIELD_NUMBER: _ClassVar[int]
    QUANTIZATION_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_WAIT_FIELD_NUMBER: _ClassVar[int]
    SHARDS_FIELD_NUMBER: _ClassVar[int]
    REPLICATION_FACTOR_FIELD_NUMBER: _ClassVar[int]
    WRITE_CONSISTENCY_FIELD_NUMBER: _ClassVar[int]
    MIN_REPLICAS_FIELD_NUMBER: _ClassVar[int]
    ON_DISK_FIELD_NUMBER: _ClassVar[int]
    ON_DISK_GRAPH_FIELD_NUMBER: _ClassVar[int]
    name: str
    dimension: int
    metric: Metric
    hnsw: HnswConfig
    quantization: QuantizationConfig
    default_wait: WriteWait
    shards: int
    replication_factor: int
    write_consistency: _common_pb2.ReplicationMode
    min_replicas: int
    on_disk: bool
    on_disk_graph: bool
    def __init__(self, name: _Optional[str] = ..., dimension: _Optional[int] = ..., metric: _Optional[_Union[Metric, str]] = ..., hnsw: _Optional[_Union[HnswConfig, _Mapping]] = ..., quantization: _Optional[_Union[QuantizationConfig, _Mapping]] = ..., default_wait: _Optional[_Union[WriteWait, str]] = ..., shards: _Optional[int] = ..., replication_factor: _Optional[int] = ..., write_consistency: _Optional[_Union[_common_pb2.ReplicationMode, str]] = ..., min_replicas: _Optional[int] = ..., on_disk: bool = ..., on_disk_graph: bool = ...) -> None: ...

class GetCollectionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CollectionInfo(_message.Message):
    __slots__ = ("name", "dimension", "metric", "hnsw", "quantization", "points_count", "memory_bytes", "disk_bytes", "index_status", "created_unix_micros", "tiers", "shards", "replication_factor", "write_consistency", "min_replicas", "on_disk", "on_disk_vector_bytes", "on_disk_graph", "on_disk_graph_bytes")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    HNSW_FIELD_NUMBER: _ClassVar[int]
    QUANTIZATION_FIELD_NUMBER: _ClassVar[int]
    POINTS_COUNT_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    DISK_BYTES_FIELD_NUMBER: _ClassVar[int]
    INDEX_STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_MICROS_FIELD_NUMBER: _ClassVar[int]
    TIERS_FIELD_NUMBER: _ClassVar[int]
    SHARDS_FIELD_NUMBER: _ClassVar[int]
    REPLICATION_FACTOR_FIELD_NUMBER: _ClassVar[int]
    WRITE_CONSISTENCY_FIELD_NUMBER: _ClassVar[int]
    MIN_REPLICAS_FIELD_NUMBER: _ClassVar[int]
    ON_DISK_FIELD_NUMBER: _ClassVar[int]
    ON_DISK_VECTOR_BYTES_FIELD_NUMBER: _ClassVar[int]
    ON_DISK_GRAPH_FIELD_NUMBER: _ClassVar[int]
    ON_DISK_GRAPH_BYTES_FIELD_NUMBER: _ClassVar[int]
    name: str
    dimension: int
    metric: Metric
    hnsw: HnswConfig
    quantization: QuantizationConfig
    points_count: int
    memory_bytes: int
    disk_bytes: int
    index_status: IndexStatus
    created_unix_micros: int
    tiers: TierCounts
    shards: int
    replication_factor: int
    write_consistency: _common_pb2.ReplicationMode
    min_replicas: int
    on_disk: bool
    on_disk_vector_bytes: int
    on_disk_graph: bool
    on_disk_graph_bytes: int
    def __init__(self, name: _Optional[str] = ..., dimension: _Optional[int] = ..., metric: _Optional[_Union[Metric, str]] = ..., hnsw: _Optional[_Union[HnswConfig, _Mapping]] = ..., quantization: _Optional[_Union[QuantizationConfig, _Mapping]] = ..., points_count: _Optional[int] = ..., memory_bytes: _Optional[int] = ..., disk_bytes: _Optional[int] = ..., index_status: _Optional[_Union[IndexStatus, str]] = ..., created_unix_micros: _Optional[int] = ..., tiers: _Optional[_Union[TierCounts, _Mapping]] = ..., shards: _Optional[int] = ..., replication_factor: _Optional[int] = ..., write_consistency: _Optional[_Union[_common_pb2.ReplicationMode, str]] = ..., min_replicas: _Optional[int] = ..., on_disk: bool = ..., on_disk_vector_bytes: _Optional[int] = ..., on_disk_graph: bool = ..., on_disk_graph_bytes: _Optional[int] = ...) -> None: ...

class ListCollectionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCollectionsResponse(_message.Message):
    __slots__ = ("collections",)
    COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    collections: _containers.RepeatedCompositeFieldContainer[CollectionInfo]
    def __init__(self, collections: _Optional[_Iterable[_Union[CollectionInfo, _Mapping]]] = ...) -> None: ...

class DeleteCollectionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteCollectionResponse(_message.Message):
    __slots__ = ("points_deleted",)
    POINTS_DELETED_FIELD_NUMBER: _ClassVar[int]
    points_deleted: int
    def __init__(self, points_deleted: _Optional[int] = ...) -> None: ...

class PointStruct(_message.Message):
    __slots__ = ("id", "vector", "payload")
    ID_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    id: _common_pb2.PointId
    vector: _common_pb2.Vector
    payload: _common_pb2.Struct
    def __init__(self, id: _Optional[_Union[_common_pb2.PointId, _Mapping]] = ..., vector: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ..., payload: _Optional[_Union[_common_pb2.Struct, _Mapping]] = ...) -> None: ...

class UpsertRequest(_message.Message):
    __slots__ = ("collection", "points", "wait", "consistency", "min_replicas")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    CONSISTENCY_FIELD_NUMBER: _ClassVar[int]
    MIN_REPLICAS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    points: _containers.RepeatedCompositeFieldContainer[PointStruct]
    wait: WriteWait
    consistency: _common_pb2.ReplicationMode
    min_replicas: int
    def __init__(self, collection: _Optional[str] = ..., points: _Optional[_Iterable[_Union[PointStruct, _Mapping]]] = ..., wait: _Optional[_Union[WriteWait, str]] = ..., consistency: _Optional[_Union[_common_pb2.ReplicationMode, str]] = ..., min_replicas: _Optional[int] = ...) -> None: ...

class UpdateResult(_message.Message):
    __slots__ = ("sequence", "points_affected", "applied", "replicas_acknowledged")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    POINTS_AFFECTED_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_ACKNOWLEDGED_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    points_affected: int
    applied: bool
    replicas_acknowledged: int
    def __init__(self, sequence: _Optional[int] = ..., points_affected: _Optional[int] = ..., applied: bool = ..., replicas_acknowledged: _Optional[int] = ...) -> None: ...

class WithOptions(_message.Message):
    __slots__ = ("with_payload", "with_vectors", "payload_keys")
    WITH_PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    WITH_VECTORS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_KEYS_FIELD_NUMBER: _ClassVar[int]
    with_payload: bool
    with_vectors: bool
    payload_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, with_payload: bool = ..., with_vectors: bool = ..., payload_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class GetRequest(_message.Message):
    __slots__ = ("collection", "ids", "read_from")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    WITH_FIELD_NUMBER: _ClassVar[int]
    READ_FROM_FIELD_NUMBER: _ClassVar[int]
    collection: str
    ids: _containers.RepeatedCompositeFieldContainer[_common_pb2.PointId]
    read_from: ReadFrom
    def __init__(self, collection: _Optional[str] = ..., ids: _Optional[_Iterable[_Union[_common_pb2.PointId, _Mapping]]] = ..., read_from: _Optional[_Union[ReadFrom, str]] = ..., **kwargs) -> None: ...

class RetrievedPoint(_message.Message):
    __slots__ = ("id", "payload", "vector")
    ID_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    id: _common_pb2.PointId
    payload: _common_pb2.Struct
    vector: _common_pb2.Vector
    def __init__(self, id: _Optional[_Union[_common_pb2.PointId, _Mapping]] = ..., payload: _Optional[_Union[_common_pb2.Struct, _Mapping]] = ..., vector: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ...) -> None: ...

class GetResponse(_message.Message):
    __slots__ = ("points",)
    POINTS_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[RetrievedPoint]
    def __init__(self, points: _Optional[_Iterable[_Union[RetrievedPoint, _Mapping]]] = ...) -> None: ...

class DeleteRequest(_message.Message):
    __slots__ = ("collection", "ids", "filter", "wait", "consistency", "min_replicas")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    CONSISTENCY_FIELD_NUMBER: _ClassVar[int]
    MIN_REPLICAS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    ids: PointIdList
    filter: _common_pb2.Filter
    wait: WriteWait
    consistency: _common_pb2.ReplicationMode
    min_replicas: int
    def __init__(self, collection: _Optional[str] = ..., ids: _Optional[_Union[PointIdList, _Mapping]] = ..., filter: _Optional[_Union[_common_pb2.Filter, _Mapping]] = ..., wait: _Optional[_Union[WriteWait, str]] = ..., consistency: _Optional[_Union[_common_pb2.ReplicationMode, str]] = ..., min_replicas: _Optional[int] = ...) -> None: ...

class PointIdList(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedCompositeFieldContainer[_common_pb2.PointId]
    def __init__(self, ids: _Optional[_Iterable[_Union[_common_pb2.PointId, _Mapping]]] = ...) -> None: ...

class CountRequest(_message.Message):
    __slots__ = ("collection", "filter", "read_from")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    READ_FROM_FIELD_NUMBER: _ClassVar[int]
    collection: str
    filter: _common_pb2.Filter
    read_from: ReadFrom
    def __init__(self, collection: _Optional[str] = ..., filter: _Optional[_Union[_common_pb2.Filter, _Mapping]] = ..., read_from: _Optional[_Union[ReadFrom, str]] = ...) -> None: ...

class CountResponse(_message.Message):
    __slots__ = ("count",)
    COUNT_FIELD_NUMBER: _ClassVar[int]
    count: int
    def __init__(self, count: _Optional[int] = ...) -> None: ...

class ScrollRequest(_message.Message):
    __slots__ = ("collection", "filter", "offset", "limit", "read_from")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    WITH_FIELD_NUMBER: _ClassVar[int]
    READ_FROM_FIELD_NUMBER: _ClassVar[int]
    collection: str
    filter: _common_pb2.Filter
    offset: _common_pb2.PointId
    limit: int
    read_from: ReadFrom
    def __init__(self, collection: _Optional[str] = ..., filter: _Optional[_Union[_common_pb2.Filter, _Mapping]] = ..., offset: _Optional[_Union[_common_pb2.PointId, _Mapping]] = ..., limit: _Optional[int] = ..., read_from: _Optional[_Union[ReadFrom, str]] = ..., **kwargs) -> None: ...

class ScrollResponse(_message.Message):
    __slots__ = ("points", "next_offset")
    POINTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_OFFSET_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[RetrievedPoint]
    next_offset: _common_pb2.PointId
    def __init__(self, points: _Optional[_Iterable[_Union[RetrievedPoint, _Mapping]]] = ..., next_offset: _Optional[_Union[_common_pb2.PointId, _Mapping]] = ...) -> None: ...

class SearchParams(_message.Message):
    __slots__ = ("ef", "exact", "quantization", "learned_rerank")
    EF_FIELD_NUMBER: _ClassVar[int]
    EXACT_FIELD_NUMBER: _ClassVar[int]
    QUANTIZATION_FIELD_NUMBER: _ClassVar[int]
    LEARNED_RERANK_FIELD_NUMBER: _ClassVar[int]
    ef: int
    exact: bool
    quantization: QuantizationSearchParams
    learned_rerank: _common_pb2.LearnedRerank
    def __init__(self, ef: _Optional[int] = ..., exact: bool = ..., quantization: _Optional[_Union[QuantizationSearchParams, _Mapping]] = ..., learned_rerank: _Optional[_Union[_common_pb2.LearnedRerank, _Mapping]] = ...) -> None: ...

class QuantizationSearchParams(_message.Message):
    __slots__ = ("ignore", "rescore", "oversampling")
    IGNORE_FIELD_NUMBER: _ClassVar[int]
    RESCORE_FIELD_NUMBER: _ClassVar[int]
    OVERSAMPLING_FIELD_NUMBER: _ClassVar[int]
    ignore: bool
    rescore: bool
    oversampling: float
    def __init__(self, ignore: bool = ..., rescore: bool = ..., oversampling: _Optional[float] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("collection", "vector", "k", "filter", "params", "score_threshold", "offset", "tag", "read_from", "allow_partial")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    WITH_FIELD_NUMBER: _ClassVar[int]
    SCORE_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    READ_FROM_FIELD_NUMBER: _ClassVar[int]
    ALLOW_PARTIAL_FIELD_NUMBER: _ClassVar[int]
    collection: str
    vector: _common_pb2.Vector
    k: int
    filter: _common_pb2.Filter
    params: SearchParams
    score_threshold: float
    offset: int
    tag: int
    read_from: ReadFrom
    allow_partial: bool
    def __init__(self, collection: _Optional[str] = ..., vector: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ..., k: _Optional[int] = ..., filter: _Optional[_Union[_common_pb2.Filter, _Mapping]] = ..., params: _Optional[_Union[SearchParams, _Mapping]] = ..., score_threshold: _Optional[float] = ..., offset: _Optional[int] = ..., tag: _Optional[int] = ..., read_from: _Optional[_Union[ReadFrom, str]] = ..., allow_partial: bool = ..., **kwargs) -> None: ...

class ScoredPoint(_message.Message):
    __slots__ = ("id", "score", "payload", "vector")
    ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    id: _common_pb2.PointId
    score: float
    payload: _common_pb2.Struct
    vector: _common_pb2.Vector
    def __init__(self, id: _Optional[_Union[_common_pb2.PointId, _Mapping]] = ..., score: _Optional[float] = ..., payload: _Optional[_Union[_common_pb2.Struct, _Mapping]] = ..., vector: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("hits", "tag", "time_micros", "error", "missing_shards", "model_version")
    HITS_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    TIME_MICROS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    MISSING_SHARDS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[ScoredPoint]
    tag: int
    time_micros: int
    error: SearchError
    missing_shards: _containers.RepeatedScalarFieldContainer[int]
    model_version: int
    def __init__(self, hits: _Optional[_Iterable[_Union[ScoredPoint, _Mapping]]] = ..., tag: _Optional[int] = ..., time_micros: _Optional[int] = ..., error: _Optional[_Union[SearchError, _Mapping]] = ..., missing_shards: _Optional[_Iterable[int]] = ..., model_version: _Optional[int] = ...) -> None: ...

class SearchError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class SearchBatchRequest(_message.Message):
    __slots__ = ("searches",)
    SEARCHES_FIELD_NUMBER: _ClassVar[int]
    searches: _containers.RepeatedCompositeFieldContainer[SearchRequest]
    def __init__(self, searches: _Optional[_Iterable[_Union[SearchRequest, _Mapping]]] = ...) -> None: ...

class SearchBatchResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SearchResponse]
    def __init__(self, results: _Optional[_Iterable[_Union[SearchResponse, _Mapping]]] = ...) -> None: ...

class CreateSnapshotRequest(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: str
    def __init__(self, collection: _Optional[str] = ...) -> None: ...

class SnapshotInfo(_message.Message):
    __slots__ = ("name", "collection", "size_bytes", "created_unix_micros", "crc32c", "wal_sequence")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_MICROS_FIELD_NUMBER: _ClassVar[int]
    CRC32C_FIELD_NUMBER: _ClassVar[int]
    WAL_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    collection: str
    size_bytes: int
    created_unix_micros: int
    crc32c: int
    wal_sequence: int
    def __init__(self, name: _Optional[str] = ..., collection: _Optional[str] = ..., size_bytes: _Optional[int] = ..., created_unix_micros: _Optional[int] = ..., crc32c: _Optional[int] = ..., wal_sequence: _Optional[int] = ...) -> None: ...

class ListSnapshotsRequest(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: str
    def __init__(self, collection: _Optional[str] = ...) -> None: ...

class ListSnapshotsResponse(_message.Message):
    __slots__ = ("snapshots",)
    SNAPSHOTS_FIELD_NUMBER: _ClassVar[int]
    snapshots: _containers.RepeatedCompositeFieldContainer[SnapshotInfo]
    def __init__(self, snapshots: _Optional[_Iterable[_Union[SnapshotInfo, _Mapping]]] = ...) -> None: ...

class DownloadSnapshotRequest(_message.Message):
    __slots__ = ("collection", "name", "chunk_bytes")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CHUNK_BYTES_FIELD_NUMBER: _ClassVar[int]
    collection: str
    name: str
    chunk_bytes: int
    def __init__(self, collection: _Optional[str] = ..., name: _Optional[str] = ..., chunk_bytes: _Optional[int] = ...) -> None: ...

class RestoreSnapshotRequest(_message.Message):
    __slots__ = ("collection", "snapshot_name", "chunk")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_NAME_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    collection: str
    snapshot_name: str
    chunk: _common_pb2.FileChunk
    def __init__(self, collection: _Optional[str] = ..., snapshot_name: _Optional[str] = ..., chunk: _Optional[_Union[_common_pb2.FileChunk, _Mapping]] = ...) -> None: ...
