"""Conversions between Python values and the protobuf messages: payloads, vectors, ids and
the filter mini-language (see `to_filter`)."""
from __future__ import annotations

import math
import uuid
from typing import Any, Iterable, Iterator, Mapping, TypeVar

from ruvector.v1 import common_pb2, vector_pb2

Payload = dict[str, Any]

_FILTER_KEYS = {"must", "should", "must_not"}
_FILTER_OPTIONS = {"min_should"}

T = TypeVar("T")


def to_value(value: Any) -> common_pb2.Value:
    """A value: None, bool, int, float, str, a list of values, or a dict of them (a map: Cypher
    parameters take maps; collection payloads do not nest yet and the server says so)."""
    if value is None:
        return common_pb2.Value(null_value=True)
    if isinstance(value, bool):
        return common_pb2.Value(bool_value=value)
    if isinstance(value, int):
        return common_pb2.Value(int_value=value)
    if isinstance(value, float):
        return common_pb2.Value(double_value=value)
    if isinstance(value, str):
        return common_pb2.Value(string_value=value)
    if isinstance(value, (list, tuple)):
        return common_pb2.Value(list_value=common_pb2.ListValue(values=[to_value(v) for v in value]))
    if isinstance(value, Mapping):
        return common_pb2.Value(struct_value=to_payload(value))
    if hasattr(value, "item"):          # numpy scalars
        return to_value(value.item())
    raise TypeError(f"payload values are None, bool, int, float, str, lists or dicts of them; got {type(value).__name__}")


def from_value(value: common_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind in (None, "null_value"):
        return None
    if kind == "list_value":
        return [from_value(v) for v in value.list_value.values]
    if kind == "struct_value":
        return from_payload(value.struct_value)
    return getattr(value, kind)


def to_payload(payload: Mapping[str, Any] | None) -> common_pb2.Struct:
    struct = common_pb2.Struct()
    for key, value in (payload or {}).items():
        if not isinstance(key, str):
            raise TypeError(f"payload keys are strings; got {key!r}")
        struct.fields[key].CopyFrom(to_value(value))
    return struct


def from_payload(struct: common_pb2.Struct) -> Payload:
    return {key: from_value(value) for key, value in struct.fields.items()}


METRICS = {"l2": vector_pb2.METRIC_L2, "euclidean": vector_pb2.METRIC_L2, "cosine": vector_pb2.METRIC_COSINE,
           "dot": vector_pb2.METRIC_DOT, "manhattan": vector_pb2.METRIC_MANHATTAN}
METRIC_NAMES = {vector_pb2.METRIC_L2: "l2", vector_pb2.METRIC_COSINE: "cosine", vector_pb2.METRIC_DOT: "dot",
                vector_pb2.METRIC_MANHATTAN: "manhattan"}


#: Write modes by name (ReplicationMode); "semi_sync" is accepted for "semi-sync".
REPLICATION_MODES = {"async": common_pb2.REPLICATION_MODE_ASYNC, "semi-sync": common_pb2.REPLICATION_MODE_SEMI_SYNC,
                     "semi_sync": common_pb2.REPLICATION_MODE_SEMI_SYNC, "sync": common_pb2.REPLICATION_MODE_SYNC}
REPLICATION_MODE_NAMES = {common_pb2.REPLICATION_MODE_ASYNC: "async", common_pb2.REPLICATION_MODE_SEMI_SYNC: "semi-sync",
                          common_pb2.REPLICATION_MODE_SYNC: "sync"}
READ_FROM = {"primary": vector_pb2.READ_FROM_PRIMARY, "any": vector_pb2.READ_FROM_ANY}


def replication_mode(name: str | None) -> common_pb2.ReplicationMode:
    """The wire number of a write mode name ("async", "semi-sync", "sync"); None: unspecified."""
    if name is None:
        return common_pb2.REPLICATION_MODE_UNSPECIFIED
    if name not in REPLICATION_MODES:
        raise ValueError(f"consistency must be one of 'async', 'semi-sync', 'sync'; got {name!r}")
    return REPLICATION_MODES[name]


def read_from(name: str | None) -> vector_pb2.ReadFrom:
    """The wire number of a read_from name ("primary", "any"); None: unspecified (primary)."""
    if name is None:
        return vector_pb2.READ_FROM_UNSPECIFIED
    if name not in READ_FROM:
        raise ValueError(f"read_from must be 'primary' or 'any'; got {name!r}")
    return READ_FROM[name]


def metric(name: str) -> vector_pb2.Metric:
    """The wire number of a metric name (cosine, l2/euclidean, dot, manhattan)."""
    if name not in METRICS:
        raise ValueError(f"metric must be one of {sorted(METRICS)}; got {name!r}")
    return METRICS[name]


def to_vector(vector: Any) -> common_pb2.Vector:
    """A list/tuple of numbers or a 1-D numpy array."""
    if hasattr(vector, "tolist"):
        vector = vector.tolist()
    values = list(vector)
    if values and isinstance(values[0], (list, tuple)):
        raise TypeError("expected one vector (a flat sequence of numbers), got a nested sequence")
    return common_pb2.Vector(values=values)


def rows(vectors: Any) -> list[Any]:
    """A 2-D numpy array or a sequence of vectors, as a list of rows."""
    if hasattr(vectors, "tolist"):
        vectors = vectors.tolist()
    return list(vectors)


def to_id(point_id: Any) -> common_pb2.PointId:
    """An int in 0 .. 2**63 - 1, or a UUID (`uuid.UUID` or its canonical string)."""
    if isinstance(point_id, uuid.UUID):
        return common_pb2.PointId(uuid=str(point_id))
    if isinstance(point_id, str):
        try:
            return common_pb2.PointId(uuid=str(uuid.UUID(point_id)))
        except ValueError:
            raise ValueError(f"string point ids are UUIDs like '550e8400-e29b-41d4-a716-446655440000'; got {point_id!r}") from None
    if isinstance(point_id, bool) or not isinstance(point_id, int):
        if hasattr(point_id, "item"):
            return to_id(point_id.item())
        raise TypeError(f"point ids are non-negative integers or UUIDs; got {point_id!r}")
    if not 0 <= point_id < 2 ** 63:
        raise ValueError(f"numeric point ids are 0 .. 2**63 - 1; got {point_id}")
    return common_pb2.PointId(num=point_id)


def from_id(point_id: common_pb2.PointId) -> int | str:
    return point_id.num if point_id.WhichOneof("kind") == "num" else point_id.uuid


def to_filter(spec: Mapping[str, Any] | None) -> common_pb2.Filter | None:
    """The filter mini-language.

    A filter is a dict with any of "must" (all hold), "should" (at least one holds) and
    "must_not" (none holds), each a list of conditions. A condition is one of:

    - ``{"key": "lang", "match": "swift"}``: equality with a str, int or bool
    - ``{"key": "lang", "match": {"any": ["swift", "c"]}}`` or ``{"except": [...]}``
    - ``{"key": "year", "range": {"gte": 2000, "lt": 2010}}`` (gt, gte, lt, lte)
    - ``{"key": "tags", "exists": True}`` (present and not null)
    - ``{"key": "note", "is_null": True}`` (present and null); ``{"key": "tags", "is_empty": True}``
      (absent, null or an empty list)
    - ``{"has_id": [1, 2, 3]}``: the point's id is one of these
    - a nested filter dict (``{"should": [...]}``)

    ``"min_should": N`` beside ``should`` asks for at least N of them.

    Shorthand: a dict without must/should/must_not, e.g. ``{"lang": "swift", "year": 2020}``,
    means every key equals its value.
    """
    if spec is None:
        return None
    if not isinstance(spec, Mapping):
        raise TypeError(f"a filter is a dict; got {type(spec).__name__}")
    if not _FILTER_KEYS & spec.keys():
        return common_pb2.Filter(must=[_condition({"key": k, "match": v}) for k, v in spec.items()])
    unknown = set(spec) - _FILTER_KEYS - _FILTER_OPTIONS
    if unknown:
        raise ValueError(f"unknown filter keys {sorted(unknown)}; use must, should, must_not, min_should")
    min_should = spec.get("min_should", 0)
    if not isinstance(min_should, int) or isinstance(min_should, bool) or min_should < 0:
        raise ValueError(f"min_should must be a non-negative integer; got {min_should!r}")
    return common_pb2.Filter(
        must=[_condition(c) for c in spec.get("must", [])],
        should=[_condition(c) for c in spec.get("should", [])],
        must_not=[_condition(c) for c in spec.get("must_not", [])],
        min_should=min_should,
    )


def _condition(spec: Mapping[str, Any]) -> common_pb2.Condition:
    if not isinstance(spec, Mapping):
        raise TypeError(f"a condition is a dict; got {spec!r}")
    if _FILTER_KEYS & spec.keys():
        return common_pb2.Condition(filter=to_filter(spec))
    if "has_id" in spec:
        return common_pb2.Condition(has_id=common_pb2.HasIdCondition(ids=[to_id(i) for i in spec["has_id"]]))
    if "filter" in spec:
        return common_pb2.Condition(filter=to_filter(spec["filter"]))
    key = spec.get("key")
    if not isinstance(key, str) or not key:
        raise ValueError(f"a condition needs a 'key' (payload field name): {spec!r}")
    field = common_pb2.FieldCondition(key=key)
    if "match" in spec:
        field.match.CopyFrom(_match(key, spec["match"]))
    elif "range" in spec:
        bounds = spec["range"]
        unknown = set(bounds) - {"gt", "gte", "lt", "lte"}
        if unknown or not bounds:
            raise ValueError(f"range on '{key}' takes gt, gte, lt, lte; got {sorted(bounds)}")
        for name, bound in bounds.items():
            if not isinstance(bound, (int, float)) or isinstance(bound, bool) or math.isnan(bound):
                raise ValueError(f"range bound {name} on '{key}' must be a number; got {bound!r}")
            setattr(field.range, name, float(bound))
    elif "exists" in spec:
        field.exists = bool(spec["exists"])
    elif spec.get("is_null") is True:
        return common_pb2.Condition(is_null=common_pb2.IsNullCondition(key=key))
    elif spec.get("is_empty") is True:
        return common_pb2.Condition(is_empty=common_pb2.IsEmptyCondition(key=key))
    else:
        raise ValueError(f"condition on '{key}' needs match, range, exists, is_null or is_empty: {spec!r}")
    return common_pb2.Condition(field=field)


def _match(key: str, value: Any) -> common_pb2.Match:
    if isinstance(value, bool):
        return common_pb2.Match(boolean=value)
    if isinstance(value, int):
        return common_pb2.Match(integer=value)
    if isinstance(value, str):
        return common_pb2.Match(keyword=value)
    if isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in ("any", "except"):
        kind, values = next(iter(value.items()))
        values = list(values)
        if all(isinstance(v, str) for v in values):
            strings = common_pb2.RepeatedStrings(values=values)
            return common_pb2.Match(any_keywords=strings) if kind == "any" else common_pb2.Match(except_keywords=strings)
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            ints = common_pb2.RepeatedIntegers(values=values)
            return common_pb2.Match(any_integers=ints) if kind == "any" else common_pb2.Match(except_integers=ints)
        raise ValueError(f"match {kind} on '{key}' takes all strings or all integers; got {values!r}")
    raise ValueError(f"match on '{key}' takes a str, int, bool, {{'any': [...]}} or {{'except': [...]}}; got {value!r}")


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """`items` in lists of `size` (the last may be shorter), read lazily."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
