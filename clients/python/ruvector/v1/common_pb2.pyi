from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReplicationMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPLICATION_MODE_UNSPECIFIED: _ClassVar[ReplicationMode]
    REPLICATION_MODE_ASYNC: _ClassVar[ReplicationMode]
    REPLICATION_MODE_SEMI_SYNC: _ClassVar[ReplicationMode]
    REPLICATION_MODE_SYNC: _ClassVar[ReplicationMode]
REPLICATION_MODE_UNSPECIFIED: ReplicationMode
REPLICATION_MODE_ASYNC: ReplicationMode
REPLICATION_MODE_SEMI_SYNC: ReplicationMode
REPLICATION_MODE_SYNC: ReplicationMode

class PointId(_message.Message):
    __slots__ = ("num", "uuid")
    NUM_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    num: int
    uuid: str
    def __init__(self, num: _Optional[int] = ..., uuid: _Optional[str] = ...) -> None: ...

class Value(_message.Message):
    __slots__ = ("null_value", "bool_value", "int_value", "double_value", "string_value", "list_value", "struct_value")
    NULL_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    DOUBLE_VALUE_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    LIST_VALUE_FIELD_NUMBER: _ClassVar[int]
    STRUCT_VALUE_FIELD_NUMBER: _ClassVar[int]
    null_value: bool
    bool_value: bool
    int_value: int
    double_value: float
    string_value: str
    list_value: ListValue
    struct_value: Struct
    def __init__(self, null_value: bool = ..., bool_value: bool = ..., int_value: _Optional[int] = ..., double_value: _Optional[float] = ..., string_value: _Optional[str] = ..., list_value: _Optional[_Union[ListValue, _Mapping]] = ..., struct_value: _Optional[_Union[Struct, _Mapping]] = ...) -> None: ...

class ListValue(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedCompositeFieldContainer[Value]
    def __init__(self, values: _Optional[_Iterable[_Union[Value, _Mapping]]] = ...) -> None: ...

class Struct(_message.Message):
    __slots__ = ("fields",)
    class FieldsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    fields: _containers.MessageMap[str, Value]
    def __init__(self, fields: _Optional[_Mapping[str, Value]] = ...) -> None: ...

class Vector(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class Filter(_message.Message):
    __slots__ = ("must", "should", "must_not", "min_should")
    MUST_FIELD_NUMBER: _ClassVar[int]
    SHOULD_FIELD_NUMBER: _ClassVar[int]
    MUST_NOT_FIELD_NUMBER: _ClassVar[int]
    MIN_SHOULD_FIELD_NUMBER: _ClassVar[int]
    must: _containers.RepeatedCompositeFieldContainer[Condition]
    should: _containers.RepeatedCompositeFieldContainer[Condition]
    must_not: _containers.RepeatedCompositeFieldContainer[Condition]
    min_should: int
    def __init__(self, must: _Optional[_Iterable[_Union[Condition, _Mapping]]] = ..., should: _Optional[_Iterable[_Union[Condition, _Mapping]]] = ..., must_not: _Optional[_Iterable[_Union[Condition, _Mapping]]] = ..., min_should: _Optional[int] = ...) -> None: ...

class Condition(_message.Message):
    __slots__ = ("field", "filter", "has_id", "is_empty", "is_null")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    HAS_ID_FIELD_NUMBER: _ClassVar[int]
    IS_EMPTY_FIELD_NUMBER: _ClassVar[int]
    IS_NULL_FIELD_NUMBER: _ClassVar[int]
    field: FieldCondition
    filter: Filter
    has_id: HasIdCondition
    is_empty: IsEmptyCondition
    is_null: IsNullCondition
    def __init__(self, field: _Optional[_Union[FieldCondition, _Mapping]] = ..., filter: _Optional[_Union[Filter, _Mapping]] = ..., has_id: _Optional[_Union[HasIdCondition, _Mapping]] = ..., is_empty: _Optional[_Union[IsEmptyCondition, _Mapping]] = ..., is_null: _Optional[_Union[IsNullCondition, _Mapping]] = ...) -> None: ...

class FieldCondition(_message.Message):
    __slots__ = ("key", "match", "range", "exists")
    KEY_FIELD_NUMBER: _ClassVar[int]
    MATCH_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    EXISTS_FIELD_NUMBER: _ClassVar[int]
    key: str
    match: Match
    range: Range
    exists: bool
    def __init__(self, key: _Optional[str] = ..., match: _Optional[_Union[Match, _Mapping]] = ..., range: _Optional[_Union[Range, _Mapping]] = ..., exists: bool = ...) -> None: ...

class Match(_message.Message):
    __slots__ = ("keyword", "integer", "boolean", "any_keywords", "any_integers", "except_keywords", "except_integers")
    KEYWORD_FIELD_NUMBER: _ClassVar[int]
    INTEGER_FIELD_NUMBER: _ClassVar[int]
    BOOLEAN_FIELD_NUMBER: _ClassVar[int]
    ANY_KEYWORDS_FIELD_NUMBER: _ClassVar[int]
    ANY_INTEGERS_FIELD_NUMBER: _ClassVar[int]
    EXCEPT_KEYWORDS_FIELD_NUMBER: _ClassVar[int]
    EXCEPT_INTEGERS_FIELD_NUMBER: _ClassVar[int]
    keyword: str
    integer: int
    boolean: bool
    any_keywords: RepeatedStrings
    any_integers: RepeatedIntegers
    except_keywords: RepeatedStrings
    except_integers: RepeatedIntegers
    def __init__(self, keyword: _Optional[str] = ..., integer: _Optional[int] = ..., boolean: bool = ..., any_keywords: _Optional[_Union[RepeatedStrings, _Mapping]] = ..., any_integers: _Optional[_Union[RepeatedIntegers, _Mapping]] = ..., except_keywords: _Optional[_Union[RepeatedStrings, _Mapping]] = ..., except_integers: _Optional[_Union[RepeatedIntegers, _Mapping]] = ...) -> None: ...

class RepeatedStrings(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, values: _Optional[_Iterable[str]] = ...) -> None: ...

class RepeatedIntegers(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, values: _Optional[_Iterable[int]] = ...) -> None: ...

class Range(_message.Message):
    __slots__ = ("lt", "gt", "lte", "gte")
    LT_FIELD_NUMBER: _ClassVar[int]
    GT_FIELD_NUMBER: _ClassVar[int]
    LTE_FIELD_NUMBER: _ClassVar[int]
    GTE_FIELD_NUMBER: _ClassVar[int]
    lt: float
    gt: float
    lte: float
    gte: float
    def __init__(self, lt: _Optional[float] = ..., gt: _Optional[float] = ..., lte: _Optional[float] = ..., gte: _Optional[float] = ...) -> None: ...

class HasIdCondition(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedCompositeFieldContainer[PointId]
    def __init__(self, ids: _Optional[_Iterable[_Union[PointId, _Mapping]]] = ...) -> None: ...

class IsEmptyCondition(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: str
    def __init__(self, key: _Optional[str] = ...) -> None: ...

class IsNullCondition(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: str
    def __init__(self, key: _Optional[str] = ...) -> None: ...

class FileChunk(_message.Message):
    __slots__ = ("offset", "data", "trailer")
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    TRAILER_FIELD_NUMBER: _ClassVar[int]
    offset: int
    data: bytes
    trailer: FileTrailer
    def __init__(self, offset: _Optional[int] = ..., data: _Optional[bytes] = ..., trailer: _Optional[_Union[FileTrailer, _Mapping]] = ...) -> None: ...

class FileTrailer(_message.Message):
    __slots__ = ("size_bytes", "crc32c")
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CRC32C_FIELD_NUMBER: _ClassVar[int]
    size_bytes: int
    crc32c: int
    def __init__(self, size_bytes: _Optional[int] = ..., crc32c: _Optional[int] = ...) -> None: ...

class LearnedRerank(_message.Message):
    __slots__ = ("depth",)
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    depth: int
    def __init__(self, depth: _Optional[int] = ...) -> None: ...
