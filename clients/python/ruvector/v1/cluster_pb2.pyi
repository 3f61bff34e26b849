from ruvector.v1 import common_pb2 as _common_pb2
from ruvector.v1 import vector_pb2 as _vector_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MemberRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEMBER_ROLE_UNSPECIFIED: _ClassVar[MemberRole]
    MEMBER_ROLE_VOTER: _ClassVar[MemberRole]
    MEMBER_ROLE_LEARNER: _ClassVar[MemberRole]
MEMBER_ROLE_UNSPECIFIED: MemberRole
MEMBER_ROLE_VOTER: MemberRole
MEMBER_ROLE_LEARNER: MemberRole

class Member(_message.Message):
    __slots__ = ("node_id", "address", "role", "healthy", "match_index", "last_seen_millis", "lag_entries", "capacity_bytes")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    MATCH_INDEX_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_MILLIS_FIELD_NUMBER: _ClassVar[int]
    LAG_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_BYTES_FIELD_NUMBER: _ClassVar[int]
    node_id: int
    address: str
    role: MemberRole
    healthy: bool
    match_index: int
    last_seen_millis: int
    lag_entries: int
    capacity_bytes: int
    def __init__(self, node_id: _Optional[int] = ..., address: _Optional[str] = ..., role: _Optional[_Union[MemberRole, str]] = ..., healthy: bool = ..., match_index: _Optional[int] = ..., last_seen_millis: _Optional[int] = ..., lag_entries: _Optional[int] = ..., capacity_bytes: _Optional[int] = ...) -> None: ...

class CollectionMetadata(_message.Message):
    __slots__ = ("name", "dimension", "metric", "created_index")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    CREATED_INDEX_FIELD_NUMBER: _ClassVar[int]
    name: str
    dimension: int
    metric: _vector_pb2.Metric
    created_index: int
    def __init__(self, name: _Optional[str] = ..., dimension: _Optional[int] = ..., metric: _Optional[_Union[_vector_pb2.Metric, str]] = ..., created_index: _Optional[int] = ...) -> None: ...

class ShardAssignment(_message.Message):
    __slots__ = ("collection", "shard", "primary_node_id", "replica_node_ids", "replica_lag_records", "epoch", "replica_lag_millis", "primary_sequence", "incoming_node_ids", "handoff_node_id")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    SHARD_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    REPLICA_NODE_IDS_FIELD_NUMBER: _ClassVar[int]
    REPLICA_LAG_RECORDS_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    REPLICA_LAG_MILLIS_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    INCOMING_NODE_IDS_FIELD_NUMBER: _ClassVar[int]
    HANDOFF_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    collection: str
    shard: int
    primary_node_id: int
    replica_node_ids: _containers.RepeatedScalarFieldContainer[int]
    replica_lag_records: _containers.RepeatedScalarFieldContainer[int]
    epoch: int
    replica_lag_millis: _containers.RepeatedScalarFieldContainer[int]
    primary_sequence: int
    incoming_node_ids: _containers.RepeatedScalarFieldContainer[int]
    handoff_node_id: int
    def __init__(self, collection: _Optional[str] = ..., shard: _Optional[int] = ..., primary_node_id: _Optional[int] = ..., replica_node_ids: _Optional[_Iterable[int]] = ..., replica_lag_records: _Optional[_Iterable[int]] = ..., epoch: _Optional[int] = ..., replica_lag_millis: _Optional[_Iterable[int]] = ..., primary_sequence: _Optional[int] = ..., incoming_node_ids: _Optional[_Iterable[int]] = ..., handoff_node_id: _Optional[int] = ...) -> None: ...

class ClusterState(_message.Message):
    __slots__ = ("members", "leader_id", "term", "commit_index", "shards", "replication_factor", "replication_mode", "collections", "answered_by", "applied_index", "stale")
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    LEADER_ID_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    COMMIT_INDEX_FIELD_NUMBER: _ClassVar[int]
    SHARDS_FIELD_NUMBER: _ClassVar[int]
    REPLICATION_FACTOR_FIELD_NUMBER: _ClassVar[int]
    REPLICATION_MODE_FIELD_NUMBER: _ClassVar[int]
    COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_BY_FIELD_NUMBER: _ClassVar[int]
    APPLIED_INDEX_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[Member]
    leader_id: int
    term: int
    commit_index: int
    shards: _containers.RepeatedCompositeFieldContainer[ShardAssignment]
    replication_factor: int
    replication_mode: _common_pb2.ReplicationMode
    collections: _containers.RepeatedCompositeFieldContainer[CollectionMetadata]
    answered_by: int
    applied_index: int
    stale: bool
    def __init__(self, members: _Optional[_Iterable[_Union[Member, _Mapping]]] = ..., leader_id: _Optional[int] = ..., term: _Optional[int] = ..., commit_index: _Optional[int] = ..., shards: _Optional[_Iterable[_Union[ShardAssignment, _Mapping]]] = ..., replication_factor: _Optional[int] = ..., replication_mode: _Optional[_Union[_common_pb2.ReplicationMode, str]] = ..., collections: _Optional[_Iterable[_Union[CollectionMetadata, _Mapping]]] = ..., answered_by: _Optional[int] = ..., applied_index: _Optional[int] = ..., stale: bool = ...) -> None: ...

class JoinRequest(_message.Message):
    __slots__ = ("node_id", "address")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    node_id: int
    address: str
    def __init__(self, node_id: _Optional[int] = ..., address: _Optional[str] = ...) -> None: ...

class LeaveRequest(_message.Message):
    __slots__ = ("node_id",)
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: int
    def __init__(self, node_id: _Optional[int] = ...) -> None: ...

class GetStateRequest(_message.Message):
    __slots__ = ("stale_ok", "with_shard_progress")
    STALE_OK_FIELD_NUMBER: _ClassVar[int]
    WITH_SHARD_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    stale_ok: bool
    with_shard_progress: bool
    def __init__(self, stale_ok: bool = ..., with_shard_progress: bool = ...) -> None: ...

class TransferLeadershipRequest(_message.Message):
    __slots__ = ("node_id",)
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: int
    def __init__(self, node_id: _Optional[int] = ...) -> None: ...

class UpdateSettingsRequest(_message.Message):
    __slots__ = ("replication_factor", "replication_mode")
    REPLICATION_FACTOR_FIELD_NUMBER: _ClassVar[int]
    REPLICATION_MODE_FIELD_NUMBER: _ClassVar[int]
    replication_factor: int
    replication_mode: _common_pb2.ReplicationMode
    def __init__(self, replication_factor: _Optional[int] = ..., replication_mode: _Optional[_Union[_common_pb2.ReplicationMode, str]] = ...) -> None: ...

class ReplicationAck(_message.Message):
    __slots__ = ("start", "applied_sequence")
    START_FIELD_NUMBER: _ClassVar[int]
    APPLIED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    start: ReplicationStart
    applied_sequence: int
    def __init__(self, start: _Optional[_Union[ReplicationStart, _Mapping]] = ..., applied_sequence: _Optional[int] = ...) -> None: ...

class ReplicationStart(_message.Message):
    __slots__ = ("collection", "shard", "from_sequence", "replica_node_id", "epoch", "last_record_epoch")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    SHARD_FIELD_NUMBER: _ClassVar[int]
    FROM_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    REPLICA_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    LAST_RECORD_EPOCH_FIELD_NUMBER: _ClassVar[int]
    collection: str
    shard: int
    from_sequence: int
    replica_node_id: int
    epoch: int
    last_record_epoch: int
    def __init__(self, collection: _Optional[str] = ..., shard: _Optional[int] = ..., from_sequence: _Optional[int] = ..., replica_node_id: _Optional[int] = ..., epoch: _Optional[int] = ..., last_record_epoch: _Optional[int] = ...) -> None: ...

class ReplicationRecord(_message.Message):
    __slots__ = ("sequence", "type", "payload", "crc32c", "epoch")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    CRC32C_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    type: int
    payload: bytes
    crc32c: int
    epoch: int
    def __init__(self, sequence: _Optional[int] = ..., type: _Optional[int] = ..., payload: _Optional[bytes] = ..., crc32c: _Optional[int] = ..., epoch: _Optional[int] = ...) -> None: ...

class TransferShardRequest(_message.Message):
    __slots__ = ("collection", "shard", "chunk_bytes")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    SHARD_FIELD_NUMBER: _ClassVar[int]
    CHUNK_BYTES_FIELD_NUMBER: _ClassVar[int]
    collection: str
    shard: int
    chunk_bytes: int
    def __init__(self, collection: _Optional[str] = ..., shard: _Optional[int] = ..., chunk_bytes: _Optional[int] = ...) -> None: ...

class ShardStatusRequest(_message.Message):
    __slots__ = ("collection", "checksums")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CHECKSUMS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    checksums: bool
    def __init__(self, collection: _Optional[str] = ..., checksums: bool = ...) -> None: ...

class ReplicaProgress(_message.Message):
    __slots__ = ("node_id", "acked_sequence", "lag_records", "lag_millis", "connected")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ACKED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    LAG_RECORDS_FIELD_NUMBER: _ClassVar[int]
    LAG_MILLIS_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    node_id: int
    acked_sequence: int
    lag_records: int
    lag_millis: int
    connected: bool
    def __init__(self, node_id: _Optional[int] = ..., acked_sequence: _Optional[int] = ..., lag_records: _Optional[int] = ..., lag_millis: _Optional[int] = ..., connected: bool = ...) -> None: ...

class LocalShardStatus(_message.Message):
    __slots__ = ("collection", "shard", "primary", "epoch", "last_sequence", "last_record_epoch", "points", "checksum", "replicas", "sealed", "applied_sequence")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    SHARD_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    LAST_RECORD_EPOCH_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    SEALED_FIELD_NUMBER: _ClassVar[int]
    APPLIED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    collection: str
    shard: int
    primary: bool
    epoch: int
    last_sequence: int
    last_record_epoch: int
    points: int
    checksum: int
    replicas: _containers.RepeatedCompositeFieldContainer[ReplicaProgress]
    sealed: bool
    applied_sequence: int
    def __init__(self, collection: _Optional[str] = ..., shard: _Optional[int] = ..., primary: bool = ..., epoch: _Optional[int] = ..., last_sequence: _Optional[int] = ..., last_record_epoch: _Optional[int] = ..., points: _Optional[int] = ..., checksum: _Optional[int] = ..., replicas: _Optional[_Iterable[_Union[ReplicaProgress, _Mapping]]] = ..., sealed: bool = ..., applied_sequence: _Optional[int] = ...) -> None: ...

class ShardStatusResponse(_message.Message):
    __slots__ = ("node_id", "shards")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    SHARDS_FIELD_NUMBER: _ClassVar[int]
    node_id: int
    shards: _containers.RepeatedCompositeFieldContainer[LocalShardStatus]
    def __init__(self, node_id: _Optional[int] = ..., shards: _Optional[_Iterable[_Union[LocalShardStatus, _Mapping]]] = ...) -> None: ...
