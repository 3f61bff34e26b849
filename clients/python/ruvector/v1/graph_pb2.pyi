from ruvector.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TemporalType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TEMPORAL_TYPE_UNSPECIFIED: _ClassVar[TemporalType]
    TEMPORAL_TYPE_DATE: _ClassVar[TemporalType]
    TEMPORAL_TYPE_LOCAL_TIME: _ClassVar[TemporalType]
    TEMPORAL_TYPE_TIME: _ClassVar[TemporalType]
    TEMPORAL_TYPE_LOCAL_DATE_TIME: _ClassVar[TemporalType]
    TEMPORAL_TYPE_DATE_TIME: _ClassVar[TemporalType]
    TEMPORAL_TYPE_DURATION: _ClassVar[TemporalType]

class IsolationLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ISOLATION_LEVEL_UNSPECIFIED: _ClassVar[IsolationLevel]
    ISOLATION_LEVEL_READ_UNCOMMITTED: _ClassVar[IsolationLevel]
    ISOLATION_LEVEL_READ_COMMITTED: _ClassVar[IsolationLevel]
    ISOLATION_LEVEL_REPEATABLE_READ: _ClassVar[IsolationLevel]
    ISOLATION_LEVEL_SERIALIZABLE: _ClassVar[IsolationLevel]
TEMPORAL_TYPE_UNSPECIFIED: TemporalType
TEMPORAL_TYPE_DATE: TemporalType
TEMPORAL_TYPE_LOCAL_TIME: TemporalType
TEMPORAL_TYPE_TIME: TemporalType
TEMPORAL_TYPE_LOCAL_DATE_TIME: TemporalType
TEMPORAL_TYPE_DATE_TIME: TemporalType
TEMPORAL_TYPE_DURATION: TemporalType
ISOLATION_LEVEL_UNSPECIFIED: IsolationLevel
ISOLATION_LEVEL_READ_UNCOMMITTED: IsolationLevel
ISOLATION_LEVEL_READ_COMMITTED: IsolationLevel
ISOLATION_LEVEL_REPEATABLE_READ: IsolationLevel
ISOLATION_LEVEL_SERIALIZABLE: IsolationLevel

class GraphValue(_message.Message):
    __slots__ = ("value", "node", "relationship", "path", "list", "temporal", "map")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    RELATIONSHIP_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    LIST_FIELD_NUMBER: _ClassVar[int]
    TEMPORAL_FIELD_NUMBER: _ClassVar[int]
    MAP_FIELD_NUMBER: _ClassVar[int]
    value: _common_pb2.Value
    node: Node
    relationship: Relationship
    path: Path
    list: GraphList
    temporal: Temporal
    map: GraphMap
    def __init__(self, value: _Optional[_Union[_common_pb2.Value, _Mapping]] = ..., node: _Optional[_Union[Node, _Mapping]] = ..., relationship: _Optional[_Union[Relationship, _Mapping]] = ..., path: _Optional[_Union[Path, _Mapping]] = ..., list: _Optional[_Union[GraphList, _Mapping]] = ..., temporal: _Optional[_Union[Temporal, _Mapping]] = ..., map: _Optional[_Union[GraphMap, _Mapping]] = ...) -> None: ...

class GraphMap(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[GraphMapEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[GraphMapEntry, _Mapping]]] = ...) -> None: ...

class GraphMapEntry(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: GraphValue
    def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[GraphValue, _Mapping]] = ...) -> None: ...

class Temporal(_message.Message):
    __slots__ = ("type", "epoch_day", "nano_of_day", "offset_seconds", "zone", "months", "days", "seconds", "nanos", "text")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    EPOCH_DAY_FIELD_NUMBER: _ClassVar[int]
    NANO_OF_DAY_FIELD_NUMBER: _ClassVar[int]
    OFFSET_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ZONE_FIELD_NUMBER: _ClassVar[int]
    MONTHS_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    NANOS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    type: TemporalType
    epoch_day: int
    nano_of_day: int
    offset_seconds: int
    zone: str
    months: int
    days: int
    seconds: int
    nanos: int
    text: str
    def __init__(self, type: _Optional[_Union[TemporalType, str]] = ..., epoch_day: _Optional[int] = ..., nano_of_day: _Optional[int] = ..., offset_seconds: _Optional[int] = ..., zone: _Optional[str] = ..., months: _Optional[int] = ..., days: _Optional[int] = ..., seconds: _Optional[int] = ..., nanos: _Optional[int] = ..., text: _Optional[str] = ...) -> None: ...

class GraphList(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedCompositeFieldContainer[GraphValue]
    def __init__(self, values: _Optional[_Iterable[_Union[GraphValue, _Mapping]]] = ...) -> None: ...

class Node(_message.Message):
    __slots__ = ("id", "labels", "properties", "typed_properties")
    ID_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    TYPED_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    id: int
    labels: _containers.RepeatedScalarFieldContainer[str]
    properties: _common_pb2.Struct
    typed_properties: GraphMap
    def __init__(self, id: _Optional[int] = ..., labels: _Optional[_Iterable[str]] = ..., properties: _Optional[_Union[_common_pb2.Struct, _Mapping]] = ..., typed_properties: _Optional[_Union[GraphMap, _Mapping]] = ...) -> None: ...

class Relationship(_message.Message):
    __slots__ = ("id", "type", "start_node_id", "end_node_id", "properties", "typed_properties")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    START_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    END_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    TYPED_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    id: int
    type: str
    start_node_id: int
    end_node_id: int
    properties: _common_pb2.Struct
    typed_properties: GraphMap
    def __init__(self, id: _Optional[int] = ..., type: _Optional[str] = ..., start_node_id: _Optional[int] = ..., end_node_id: _Optional[int] = ..., properties: _Optional[_Union[_common_pb2.Struct, _Mapping]] = ..., typed_properties: _Optional[_Union[GraphMap, _Mapping]] = ...) -> None: ...

class Path(_message.Message):
    __slots__ = ("nodes", "relationships")
    NODES_FIELD_NUMBER: _ClassVar[int]
    RELATIONSHIPS_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[Node]
    relationships: _containers.RepeatedCompositeFieldContainer[Relationship]
    def __init__(self, nodes: _Optional[_Iterable[_Union[Node, _Mapping]]] = ..., relationships: _Optional[_Iterable[_Union[Relationship, _Mapping]]] = ...) -> None: ...

class Hyperedge(_message.Message):
    __slots__ = ("id", "type", "node_ids", "properties")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    NODE_IDS_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    id: int
    type: str
    node_ids: _containers.RepeatedScalarFieldContainer[int]
    properties: _common_pb2.Struct
    def __init__(self, id: _Optional[int] = ..., type: _Optional[str] = ..., node_ids: _Optional[_Iterable[int]] = ..., properties: _Optional[_Union[_common_pb2.Struct, _Mapping]] = ...) -> None: ...

class Parameter(_message.Message):
    __slots__ = ("name", "value", "temporal")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    TEMPORAL_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: _common_pb2.Value
    temporal: Temporal
    def __init__(self, name: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.Value, _Mapping]] = ..., temporal: _Optional[_Union[Temporal, _Mapping]] = ...) -> None: ...

class ExecuteRequest(_message.Message):
    __slots__ = ("query", "parameters", "transaction_id", "max_rows", "batch_rows")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_ROWS_FIELD_NUMBER: _ClassVar[int]
    BATCH_ROWS_FIELD_NUMBER: _ClassVar[int]
    query: str
    parameters: _containers.RepeatedCompositeFieldContainer[Parameter]
    transaction_id: str
    max_rows: int
    batch_rows: int
    def __init__(self, query: _Optional[str] = ..., parameters: _Optional[_Iterable[_Union[Parameter, _Mapping]]] = ..., transaction_id: _Optional[str] = ..., max_rows: _Optional[int] = ..., batch_rows: _Optional[int] = ...) -> None: ...

class ExecuteResponse(_message.Message):
    __slots__ = ("header", "rows", "summary")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    header: ResultHeader
    rows: RowBatch
    summary: ResultSummary
    def __init__(self, header: _Optional[_Union[ResultHeader, _Mapping]] = ..., rows: _Optional[_Union[RowBatch, _Mapping]] = ..., summary: _Optional[_Union[ResultSummary, _Mapping]] = ...) -> None: ...

class ResultHeader(_message.Message):
    __slots__ = ("columns",)
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, columns: _Optional[_Iterable[str]] = ...) -> None: ...

class RowBatch(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[Row]
    def __init__(self, rows: _Optional[_Iterable[_Union[Row, _Mapping]]] = ...) -> None: ...

class Row(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedCompositeFieldContainer[GraphValue]
    def __init__(self, values: _Optional[_Iterable[_Union[GraphValue, _Mapping]]] = ...) -> None: ...

class ResultSummary(_message.Message):
    __slots__ = ("nodes_created", "nodes_deleted", "relationships_created", "relationships_deleted", "properties_set", "labels_added", "labels_removed", "rows", "time_micros", "plan")
    NODES_CREATED_FIELD_NUMBER: _ClassVar[int]
    NODES_DELETED_FIELD_NUMBER: _ClassVar[int]
    RELATIONSHIPS_CREATED_FIELD_NUMBER: _ClassVar[int]
    RELATIONSHIPS_DELETED_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_SET_FIELD_NUMBER: _ClassVar[int]
    LABELS_ADDED_FIELD_NUMBER: _ClassVar[int]
    LABELS_REMOVED_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TIME_MICROS_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    nodes_created: int
    nodes_deleted: int
    relationships_created: int
    relationships_deleted: int
    properties_set: int
    labels_added: int
    labels_removed: int
    rows: int
    time_micros: int
    plan: QueryPlan
    def __init__(self, nodes_created: _Optional[int] = ..., nodes_deleted: _Optional[int] = ..., relationships_created: _Optional[int] = ..., relationships_deleted: _Optional[int] = ..., properties_set: _Optional[int] = ..., labels_added: _Optional[int] = ..., labels_removed: _Optional[int] = ..., rows: _Optional[int] = ..., time_micros: _Optional[int] = ..., plan: _Optional[_Union[QueryPlan, _Mapping]] = ...) -> None: ...

class QueryPlan(_message.Message):
    __slots__ = ("mode", "operators", "planned", "reason", "cached")
    MODE_FIELD_NUMBER: _ClassVar[int]
    OPERATORS_FIELD_NUMBER: _ClassVar[int]
    PLANNED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CACHED_FIELD_NUMBER: _ClassVar[int]
    mode: str
    operators: _containers.RepeatedCompositeFieldContainer[PlanOperator]
    planned: bool
    reason: str
    cached: bool
    def __init__(self, mode: _Optional[str] = ..., operators: _Optional[_Iterable[_Union[PlanOperator, _Mapping]]] = ..., planned: bool = ..., reason: _Optional[str] = ..., cached: bool = ...) -> None: ...

class PlanOperator(_message.Message):
    __slots__ = ("name", "details", "rows", "time_nanos")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TIME_NANOS_FIELD_NUMBER: _ClassVar[int]
    name: str
    details: str
    rows: int
    time_nanos: int
    def __init__(self, name: _Optional[str] = ..., details: _Optional[str] = ..., rows: _Optional[int] = ..., time_nanos: _Optional[int] = ...) -> None: ...

class BeginTransactionRequest(_message.Message):
    __slots__ = ("isolation", "idle_timeout_millis")
    ISOLATION_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_MILLIS_FIELD_NUMBER: _ClassVar[int]
    isolation: IsolationLevel
    idle_timeout_millis: int
    def __init__(self, isolation: _Optional[_Union[IsolationLevel, str]] = ..., idle_timeout_millis: _Optional[int] = ...) -> None: ...

class TransactionInfo(_message.Message):
    __slots__ = ("transaction_id", "isolation")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    ISOLATION_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    isolation: IsolationLevel
    def __init__(self, transaction_id: _Optional[str] = ..., isolation: _Optional[_Union[IsolationLevel, str]] = ...) -> None: ...

class TransactionRef(_message.Message):
    __slots__ = ("transaction_id",)
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    def __init__(self, transaction_id: _Optional[str] = ...) -> None: ...

class CommitResponse(_message.Message):
    __slots__ = ("sequence",)
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    def __init__(self, sequence: _Optional[int] = ...) -> None: ...

class RollbackResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateHyperedgeRequest(_message.Message):
    __slots__ = ("type", "node_ids", "properties", "transaction_id")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    NODE_IDS_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    type: str
    node_ids: _containers.RepeatedScalarFieldContainer[int]
    properties: _common_pb2.Struct
    transaction_id: str
    def __init__(self, type: _Optional[str] = ..., node_ids: _Optional[_Iterable[int]] = ..., properties: _Optional[_Union[_common_pb2.Struct, _Mapping]] = ..., transaction_id: _Optional[str] = ...) -> None: ...

class QueryHyperedgesRequest(_message.Message):
    __slots__ = ("node_id", "type", "limit")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    node_id: int
    type: str
    limit: int
    def __init__(self, node_id: _Optional[int] = ..., type: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class QueryHyperedgesResponse(_message.Message):
    __slots__ = ("hyperedges",)
    HYPEREDGES_FIELD_NUMBER: _ClassVar[int]
    hyperedges: _containers.RepeatedCompositeFieldContainer[Hyperedge]
    def __init__(self, hyperedges: _Optional[_Iterable[_Union[Hyperedge, _Mapping]]] = ...) -> None: ...

class CreateIndexRequest(_message.Message):
    __slots__ = ("name", "label", "property", "property_index", "vector_index")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PROPERTY_FIELD_NUMBER: _ClassVar[int]
    PROPERTY_INDEX_FIELD_NUMBER: _ClassVar[int]
    VECTOR_INDEX_FIELD_NUMBER: _ClassVar[int]
    name: str
    label: str
    property: str
    property_index: PropertyIndexConfig
    vector_index: VectorIndexConfig
    def __init__(self, name: _Optional[str] = ..., label: _Optional[str] = ..., property: _Optional[str] = ..., property_index: _Optional[_Union[PropertyIndexConfig, _Mapping]] = ..., vector_index: _Optional[_Union[VectorIndexConfig, _Mapping]] = ...) -> None: ...

class PropertyIndexConfig(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class VectorIndexConfig(_message.Message):
    __slots__ = ("dimension", "metric")
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    dimension: int
    metric: int
    def __init__(self, dimension: _Optional[int] = ..., metric: _Optional[int] = ...) -> None: ...

class IndexInfo(_message.Message):
    __slots__ = ("name", "label", "property", "vector", "entries")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PROPERTY_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    name: str
    label: str
    property: str
    vector: bool
    entries: int
    def __init__(self, name: _Optional[str] = ..., label: _Optional[str] = ..., property: _Optional[str] = ..., vector: bool = ..., entries: _Optional[int] = ...) -> None: ...

class ListIndexesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListIndexesResponse(_message.Message):
    __slots__ = ("indexes",)
    INDEXES_FIELD_NUMBER: _ClassVar[int]
    indexes: _containers.RepeatedCompositeFieldContainer[IndexInfo]
    def __init__(self, indexes: _Optional[_Iterable[_Union[IndexInfo, _Mapping]]] = ...) -> None: ...

class HybridSearchRequest(_message.Message):
    __slots__ = ("index", "vector", "k", "filter", "expand_depth", "parameters", "learned_rerank")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    EXPAND_DEPTH_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    LEARNED_RERANK_FIELD_NUMBER: _ClassVar[int]
    index: str
    vector: _common_pb2.Vector
    k: int
    filter: str
    expand_depth: int
    parameters: _containers.RepeatedCompositeFieldContainer[Parameter]
    learned_rerank: _common_pb2.LearnedRerank
    def __init__(self, index: _Optional[str] = ..., vector: _Optional[_Union[_common_pb2.Vector, _Mapping]] = ..., k: _Optional[int] = ..., filter: _Optional[str] = ..., expand_depth: _Optional[int] = ..., parameters: _Optional[_Iterable[_Union[Parameter, _Mapping]]] = ..., learned_rerank: _Optional[_Union[_common_pb2.LearnedRerank, _Mapping]] = ...) -> None: ...

class HybridHit(_message.Message):
    __slots__ = ("node", "score", "neighbourhood")
    NODE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    NEIGHBOURHOOD_FIELD_NUMBER: _ClassVar[int]
    node: Node
    score: float
    neighbourhood: _containers.RepeatedCompositeFieldContainer[Path]
    def __init__(self, node: _Optional[_Union[Node, _Mapping]] = ..., score: _Optional[float] = ..., neighbourhood: _Optional[_Iterable[_Union[Path, _Mapping]]] = ...) -> None: ...

class HybridSearchResponse(_message.Message):
    __slots__ = ("hits", "model_version")
    HITS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[HybridHit]
    model_version: int
    def __init__(self, hits: _Optional[_Iterable[_Union[HybridHit, _Mapping]]] = ..., model_version: _Optional[int] = ...) -> None: ...
