from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EntryType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENTRY_TYPE_UNSPECIFIED: _ClassVar[EntryType]
    ENTRY_TYPE_CONFIG_CHANGE: _ClassVar[EntryType]
    ENTRY_TYPE_NOOP: _ClassVar[EntryType]

class ConfigChangeType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONFIG_CHANGE_TYPE_UNSPECIFIED: _ClassVar[ConfigChangeType]
    CONFIG_CHANGE_TYPE_ADD_LEARNER: _ClassVar[ConfigChangeType]
    CONFIG_CHANGE_TYPE_ADD_VOTER: _ClassVar[ConfigChangeType]
    CONFIG_CHANGE_TYPE_REMOVE: _ClassVar[ConfigChangeType]

class RaftMessageType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RAFT_MESSAGE_TYPE_UNSPECIFIED: _ClassVar[RaftMessageType]
    RAFT_MESSAGE_TYPE_PRE_VOTE: _ClassVar[RaftMessageType]
    RAFT_MESSAGE_TYPE_PRE_VOTE_RESPONSE: _ClassVar[RaftMessageType]
    RAFT_MESSAGE_TYPE_VOTE: _ClassVar[RaftMessageType]
    RAFT_MESSAGE_TYPE_VOTE_RESPONSE: _ClassVar[RaftMessageType]
    RAFT_MESSAGE_TYPE_APPEND: _ClassVar[RaftMessageType]
    RAFT_MESSAGE_TYPE_APPEND_RESPONSE: _ClassVar[RaftMessageType]
    RAFT_MESSAGE_TYPE_HEARTBEAT: _ClassVar[RaftMessageType]
    RAFT_MESSAGE_TYPE_HEARTBEAT_RESPONSE: _ClassVar[RaftMessageType]
    RAFT_MESSAGE_TYPE_TIMEOUT_NOW: _ClassVar[RaftMessageType]
ENTRY_TYPE_UNSPECIFIED: EntryType
ENTRY_TYPE_CONFIG_CHANGE: EntryType
ENTRY_TYPE_NOOP: EntryType
CONFIG_CHANGE_TYPE_UNSPECIFIED: ConfigChangeType
CONFIG_CHANGE_TYPE_ADD_LEARNER: ConfigChangeType
CONFIG_CHANGE_TYPE_ADD_VOTER: ConfigChangeType
CONFIG_CHANGE_TYPE_REMOVE: ConfigChangeType
RAFT_MESSAGE_TYPE_UNSPECIFIED: RaftMessageType
RAFT_MESSAGE_TYPE_PRE_VOTE: RaftMessageType
RAFT_MESSAGE_TYPE_PRE_VOTE_RESPONSE: RaftMessageType
RAFT_MESSAGE_TYPE_VOTE: RaftMessageType
RAFT_MESSAGE_TYPE_VOTE_RESPONSE: RaftMessageType
RAFT_MESSAGE_TYPE_APPEND: RaftMessageType
RAFT_MESSAGE_TYPE_APPEND_RESPONSE: RaftMessageType
RAFT_MESSAGE_TYPE_HEARTBEAT: RaftMessageType
RAFT_MESSAGE_TYPE_HEARTBEAT_RESPONSE: RaftMessageType
RAFT_MESSAGE_TYPE_TIMEOUT_NOW: RaftMessageType

class ConfigChange(_message.Message):
    __slots__ = ("type", "node_id")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    type: ConfigChangeType
    node_id: int
    def __init__(self, type: _Optional[_Union[ConfigChangeType, str]] = ..., node_id: _Optional[int] = ...) -> None: ...

class Entry(_message.Message):
    __slots__ = ("term", "index", "type", "data", "change")
    TERM_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    term: int
    index: int
    type: EntryType
    data: bytes
    change: ConfigChange
    def __init__(self, term: _Optional[int] = ..., index: _Optional[int] = ..., type: _Optional[_Union[EntryType, str]] = ..., data: _Optional[bytes] = ..., change: _Optional[_Union[ConfigChange, _Mapping]] = ...) -> None: ...

class RaftMessage(_message.Message):
    __slots__ = ("type", "to", "term", "index", "log_term", "entries", "commit", "reject", "hint", "context", "transfer")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    LOG_TERM_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    REJECT_FIELD_NUMBER: _ClassVar[int]
    HINT_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    type: RaftMessageType
    to: int
    term: int
    index: int
    log_term: int
    entries: _containers.RepeatedCompositeFieldContainer[Entry]
    commit: int
    reject: bool
    hint: int
    context: bytes
    transfer: bool
    def __init__(self, type: _Optional[_Union[RaftMessageType, str]] = ..., to: _Optional[int] = ..., term: _Optional[int] = ..., index: _Optional[int] = ..., log_term: _Optional[int] = ..., entries: _Optional[_Iterable[_Union[Entry, _Mapping]]] = ..., commit: _Optional[int] = ..., reject: bool = ..., hint: _Optional[int] = ..., context: _Optional[bytes] = ..., transfer: bool = ..., **kwargs) -> None: ...

class RaftBatch(_message.Message):
    __slots__ = ("messages", "from_address")
    FROM_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    FROM_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[RaftMessage]
    from_address: str
    def __init__(self, messages: _Optional[_Iterable[_Union[RaftMessage, _Mapping]]] = ..., from_address: _Optional[str] = ..., **kwargs) -> None: ...

class RaftSendSummary(_message.Message):
    __slots__ = ("messages",)
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    messages: int
    def __init__(self, messages: _Optional[int] = ...) -> None: ...

class InstallSnapshotRequest(_message.Message):
    __slots__ = ("term", "leader_id", "last_included_index", "last_included_term", "offset", "data", "done", "voters", "learners", "total_bytes", "to")
    TERM_FIELD_NUMBER: _ClassVar[int]
    LEADER_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_INCLUDED_INDEX_FIELD_NUMBER: _ClassVar[int]
    LAST_INCLUDED_TERM_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    VOTERS_FIELD_NUMBER: _ClassVar[int]
    LEARNERS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    term: int
    leader_id: int
    last_included_index: int
    last_included_term: int
    offset: int
    data: bytes
    done: bool
    voters: _containers.RepeatedScalarFieldContainer[int]
    learners: _containers.RepeatedScalarFieldContainer[int]
    total_bytes: int
    to: int
    def __init__(self, term: _Optional[int] = ..., leader_id: _Optional[int] = ..., last_included_index: _Optional[int] = ..., last_included_term: _Optional[int] = ..., offset: _Optional[int] = ..., data: _Optional[bytes] = ..., done: bool = ..., voters: _Optional[_Iterable[int]] = ..., learners: _Optional[_Iterable[int]] = ..., total_bytes: _Optional[int] = ..., to: _Optional[int] = ...) -> None: ...

class InstallSnapshotResponse(_message.Message):
    __slots__ = ("term", "next_offset", "done")
    TERM_FIELD_NUMBER: _ClassVar[int]
    NEXT_OFFSET_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    term: int
    next_offset: int
    done: bool
    def __init__(self, term: _Optional[int] = ..., next_offset: _Optional[int] = ..., done: bool = ...) -> None: ...

class ProposeRequest(_message.Message):
    __slots__ = ("command",)
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    command: bytes
    def __init__(self, command: _Optional[bytes] = ..., **kwargs) -> None: ...

class ProposeResponse(_message.Message):
    __slots__ = ("index", "term")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    index: int
    term: int
    def __init__(self, index: _Optional[int] = ..., term: _Optional[int] = ...) -> None: ...

class ReadIndexRequest(_message.Message):
    __slots__ = ()
    FROM_FIELD_NUMBER: _ClassVar[int]
    def __init__(self, **kwargs) -> None: ...

class ReadIndexResponse(_message.Message):
    __slots__ = ("index", "term", "leader_id", "progress")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    LEADER_ID_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    index: int
    term: int
    leader_id: int
    progress: _containers.RepeatedCompositeFieldContainer[MemberProgress]
    def __init__(self, index: _Optional[int] = ..., term: _Optional[int] = ..., leader_id: _Optional[int] = ..., progress: _Optional[_Iterable[_Union[MemberProgress, _Mapping]]] = ...) -> None: ...

class MemberProgress(_message.Message):
    __slots__ = ("node_id", "match_index", "last_seen_millis", "healthy")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    MATCH_INDEX_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_MILLIS_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    node_id: int
    match_index: int
    last_seen_millis: int
    healthy: bool
    def __init__(self, node_id: _Optional[int] = ..., match_index: _Optional[int] = ..., last_seen_millis: _Optional[int] = ..., healthy: bool = ...) -> None: ...
