"""`db.graph`: Cypher over GraphService, rows as dicts, transactions as context managers.

The requests and the conversion of answers are shared with `ruvector.aio.AsyncGraph`; only the
calls differ.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence

from ruvector import convert
from ruvector.models import VectorLike
from ruvector.rpc import Graph as Methods
from ruvector.transport import Transport
from ruvector.v1 import common_pb2, graph_pb2

_ISOLATION = {
    "read_uncommitted": graph_pb2.ISOLATION_LEVEL_READ_UNCOMMITTED,
    "read_committed": graph_pb2.ISOLATION_LEVEL_READ_COMMITTED,
    "repeatable_read": graph_pb2.ISOLATION_LEVEL_REPEATABLE_READ,
    "serializable": graph_pb2.ISOLATION_LEVEL_SERIALIZABLE,
}


@dataclass(frozen=True)
class Node:
    """A node in a result: id, labels and properties."""
    id: int
    labels: list[str]
    properties: dict[str, Any]


@dataclass(frozen=True)
class Relationship:
    """A relationship in a result."""
    id: int
    type: str
    start: int
    end: int
    properties: dict[str, Any]


@dataclass(frozen=True)
class Path:
    """A path: nodes and the relationships between consecutive ones."""
    nodes: list[Node]
    relationships: list[Relationship]


_TEMPORAL_TYPES = {
    graph_pb2.TEMPORAL_TYPE_DATE: "date",
    graph_pb2.TEMPORAL_TYPE_LOCAL_TIME: "localtime",
    graph_pb2.TEMPORAL_TYPE_TIME: "time",
    graph_pb2.TEMPORAL_TYPE_LOCAL_DATE_TIME: "localdatetime",
    graph_pb2.TEMPORAL_TYPE_DATE_TIME: "datetime",
    graph_pb2.TEMPORAL_TYPE_DURATION: "duration",
}


@dataclass(frozen=True)
class Temporal:
    """A Cypher date, time, datetime or duration, exact to the nanosecond (Python's `datetime`
    keeps microseconds, so the fields are given as the server sends them).

    `type` is "date", "localtime", "time", "localdatetime", "datetime" or "duration"; `text`
    is what Cypher's toString() prints (`str(t)` too), which `date()` and its siblings read back.
    A `Temporal` given as a parameter is sent exactly (`RETURN $t + duration('P1D')`). The other
    fields are set as the type has them: `epoch_day` (days since 1970-01-01), `nano_of_day`,
    `offset_seconds` and `zone` (an IANA name, or "" for a fixed offset); a duration's
    `months`, `days`, `seconds` and `nanos`.
    """
    type: str
    text: str
    epoch_day: int = 0
    nano_of_day: int = 0
    offset_seconds: int = 0
    zone: str = ""
    months: int = 0
    days: int = 0
    seconds: int = 0
    nanos: int = 0

    def __str__(self) -> str:
        return self.text


def _temporal(t: Any) -> Temporal:
    return Temporal(_TEMPORAL_TYPES.get(t.type, "unknown"), t.text, t.epoch_day, t.nano_of_day, t.offset_seconds, t.zone,
                    t.months, t.days, t.seconds, t.nanos)


@dataclass(frozen=True)
class GraphIndex:
    """An index on nodes: `vector` (similarity search over a list-of-numbers property) or a
    property index (equality lookups that MATCH uses to pick its starting nodes)."""
    name: str
    label: str
    property: str
    entries: int
    vector: bool = True


@dataclass(frozen=True)
class HybridHit:
    """A hybrid search result: a seed node, its vector similarity (larger is better) and one
    shortest path to each node within the expansion depth, nearer first."""
    node: Node
    score: float
    neighbourhood: list[Path]


class HybridHits(list[HybridHit]):
    """Hybrid search hits, best first; `model_version` is the learned model of the index
    (LearnService, ``"graph:<index>"``) that ordered the seeds (0: the plain HNSW order)."""
    model_version: int

    def __init__(self, hits: Sequence[HybridHit] = (), model_version: int = 0):
        super().__init__(hits)
        self.model_version = model_version


@dataclass
class PlanOperator:
    """One operator of a query plan; `rows` and `time_ns` are counted under PROFILE only."""
    name: str
    details: str
    rows: int
    time_ns: int


@dataclass
class Plan:
    """How a query ran (PROFILE) or would run (EXPLAIN): its operators, the result first."""
    mode: str
    operators: list[PlanOperator]
    planned: bool
    reason: str
    cached: bool

    def __str__(self) -> str:
        head = self.mode + ((f" ({self.reason})" if self.reason else "") if self.planned else f" (interpreted: {self.reason})")
        head += ", plan cached" if self.cached else ""
        lines = [head]
        for op in self.operators:
            line = f"+{op.name}  {op.details}".rstrip()
            if self.mode == "PROFILE":
                line += f"  rows={op.rows}  time={op.time_ns / 1e6:.3f}ms"
            lines.append(line)
        return "\n".join(lines)


@dataclass
class Result:
    """A query's columns, rows (dicts by column), summary counters and, for a query that
    began with EXPLAIN or PROFILE, its plan."""
    columns: list[str]
    rows: list[dict[str, Any]]
    summary: dict[str, int] = field(default_factory=dict)
    plan: Plan | None = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def _properties(element: Any) -> dict[str, Any]:
    # Temporal properties (and lists of them) come exactly in typed_properties; `properties`
    # has their text.
    properties = convert.from_payload(element.properties)
    properties.update(_graph_map(element.typed_properties))
    return properties


def _node(n: Any) -> Node:
    return Node(n.id, list(n.labels), _properties(n))


def _relationship(r: Any) -> Relationship:
    return Relationship(r.id, r.type, r.start_node_id, r.end_node_id, _properties(r))


def _graph_map(m: Any) -> dict[str, Any]:
    return {entry.key: _graph_value(entry.value) for entry in m.entries}


def _parameter(name: str, v: Any) -> graph_pb2.Parameter:
    if isinstance(v, Temporal):
        # Sent by its exact fields: the server checks them (and the zone) and ignores the text.
        kinds = {type_name: kind for kind, type_name in _TEMPORAL_TYPES.items()}
        if v.type not in kinds:
            raise TypeError(f"unknown temporal type {v.type!r}")
        return graph_pb2.Parameter(name=name, temporal=graph_pb2.Temporal(
            type=kinds[v.type], epoch_day=v.epoch_day, nano_of_day=v.nano_of_day, offset_seconds=v.offset_seconds,
            zone=v.zone, months=v.months, days=v.days, seconds=v.seconds, nanos=v.nanos, text=v.text))
    return graph_pb2.Parameter(name=name, value=convert.to_value(v))


def _parameters(parameters: Mapping[str, Any] | None) -> list[graph_pb2.Parameter]:
    return [_parameter(name, v) for name, v in (parameters or {}).items()]


def _path(p: Any) -> Path:
    return Path([_node(n) for n in p.nodes], [_relationship(r) for r in p.relationships])


def index_info(info: Any) -> GraphIndex:
    """An IndexInfo message as a `GraphIndex`."""
    return GraphIndex(info.name, info.label, info.property, info.entries, info.vector)


def hyperedge(h: Any) -> dict[str, Any]:
    """A Hyperedge message as a dict (id, type, node_ids, properties)."""
    return {"id": h.id, "type": h.type, "node_ids": list(h.node_ids), "properties": convert.from_payload(h.properties)}


def _graph_value(v: Any) -> Any:
    kind = v.WhichOneof("kind")
    if kind == "node":
        return _node(v.node)
    if kind == "relationship":
        return _relationship(v.relationship)
    if kind == "path":
        return _path(v.path)
    if kind == "list":
        return [_graph_value(x) for x in v.list.values]
    if kind == "temporal":
        return _temporal(v.temporal)
    if kind == "map":
        return _graph_map(v.map)
    if kind == "value":
        return convert.from_value(v.value)
    return None

def execute_request(query: str, parameters: Mapping[str, Any] | None, transaction_id: str, max_rows: int,
                    batch_rows: int) -> graph_pb2.ExecuteRequest:
    """An ExecuteRequest (parameters as Python values)."""
    return graph_pb2.ExecuteRequest(query=query, transaction_id=transaction_id, max_rows=max_rows,
                                    batch_rows=batch_rows, parameters=_parameters(parameters))


class ResultReader:
    """Reads an Execute answer's parts: the header's columns, row batches, the summary."""

    def __init__(self) -> None:
        self.columns: list[str] = []
        self.summary: dict[str, int] = {}
        self.plan: Plan | None = None

    def rows(self, part: Any) -> list[dict[str, Any]]:
        """The rows in `part` (none for the header and the summary, which are kept)."""
        which = part.WhichOneof("part")
        if which == "header":
            self.columns = list(part.header.columns)
        elif which == "rows":
            return [dict(zip(self.columns, (_graph_value(v) for v in row.values))) for row in part.rows.rows]
        elif which == "summary":
            self.summary = {f.name: getattr(part.summary, f.name) for f in part.summary.DESCRIPTOR.fields if f.name != "plan"}
            if part.summary.HasField("plan"):
                p = part.summary.plan
                self.plan = Plan(p.mode, [PlanOperator(o.name, o.details, o.rows, o.time_nanos) for o in p.operators],
                                 p.planned, p.reason, p.cached)
        return []


def isolation_level(isolation: str) -> graph_pb2.IsolationLevel:
    """The wire number of an isolation level name."""
    if isolation not in _ISOLATION:
        raise ValueError(f"isolation must be one of {sorted(_ISOLATION)}; got {isolation!r}")
    return _ISOLATION[isolation]


def isolation_name(level: int) -> str:
    """The name of the isolation level a transaction runs at ("unspecified" for one this client does not know)."""
    return next((k for k, v in _ISOLATION.items() if v == level), "unspecified")


def begin_request(isolation: str, idle_timeout_ms: int) -> graph_pb2.BeginTransactionRequest:
    """A BeginTransactionRequest."""
    return graph_pb2.BeginTransactionRequest(isolation=isolation_level(isolation), idle_timeout_millis=idle_timeout_ms)


def hyperedge_request(type: str, node_ids: Sequence[int], properties: Mapping[str, Any] | None,
                      transaction_id: str) -> graph_pb2.CreateHyperedgeRequest:
    """A CreateHyperedgeRequest."""
    return graph_pb2.CreateHyperedgeRequest(type=type, node_ids=node_ids, properties=convert.to_payload(properties),
                                            transaction_id=transaction_id)


def vector_index_request(name: str, label: str, property: str, dimension: int,
                         metric: str) -> graph_pb2.CreateIndexRequest:
    """A CreateIndexRequest for a vector index."""
    config = graph_pb2.VectorIndexConfig(dimension=dimension, metric=convert.metric(metric))
    return graph_pb2.CreateIndexRequest(name=name, label=label, property=property, vector_index=config)


def property_index_request(name: str, label: str, property: str) -> graph_pb2.CreateIndexRequest:
    """A CreateIndexRequest for an equality index."""
    return graph_pb2.CreateIndexRequest(name=name, label=label, property=property,
                                        property_index=graph_pb2.PropertyIndexConfig())


def hybrid_request(index: str, vector: VectorLike, k: int, filter: str, parameters: Mapping[str, Any] | None,
                   expand_depth: int, learned_rerank: int | None = None) -> graph_pb2.HybridSearchRequest:
    """A HybridSearchRequest; `learned_rerank` (a depth, 0 = 100) asks for learned re-ranking."""
    request = graph_pb2.HybridSearchRequest(index=index, vector=convert.to_vector(vector), k=k, filter=filter,
                                            expand_depth=expand_depth, parameters=_parameters(parameters))
    if learned_rerank is not None:
        request.learned_rerank.CopyFrom(common_pb2.LearnedRerank(depth=learned_rerank))
    return request


def hybrid_hits(response: Any) -> HybridHits:
    """A HybridSearchResponse's hits and the model version that ordered them."""
    return HybridHits([HybridHit(_node(h.node), h.score, [_path(p) for p in h.neighbourhood]) for h in response.hits],
                      response.model_version)


class Transaction:
    """An open transaction; use `execute`, then `commit` or `rollback` (or a `with` block)."""

    def __init__(self, graph: Graph, transaction_id: str, isolation: str):
        self._graph = graph
        self.id = transaction_id
        self.isolation = isolation
        self.open = True

    def execute(self, query: str, parameters: Mapping[str, Any] | None = None, *, max_rows: int = 0,
                batch_rows: int = 0, timeout: float | None = None) -> Result:
        """Runs a query inside this transaction."""
        return self._graph.execute(query, parameters, transaction_id=self.id, max_rows=max_rows,
                                   batch_rows=batch_rows, timeout=timeout)

    def commit(self) -> int:
        """Commits; raises `ruvector.Aborted` when the isolation level forbids it (retry)."""
        self.open = False
        return int(self._graph._transport.unary(Methods.COMMIT, graph_pb2.TransactionRef(transaction_id=self.id)).sequence)

    def rollback(self) -> None:
        """Discards the transaction's changes."""
        self.open = False
        self._graph._transport.unary(Methods.ROLLBACK, graph_pb2.TransactionRef(transaction_id=self.id))


class Graph:
    """The GraphService of a `ruvector.Client` (as `db.graph`)."""

    def __init__(self, transport: Transport):
        self._transport = transport

    def execute(self, query: str, parameters: Mapping[str, Any] | None = None, *, transaction_id: str = "",
                max_rows: int = 0, batch_rows: int = 0, timeout: float | None = None) -> Result:
        """Runs a Cypher query (auto-commit, or inside `transaction_id`); rows as dicts by column.
        Nodes, relationships and paths come back as `Node`, `Relationship`, `Path`. `timeout`
        (default: the client's unary timeout) bounds the whole answer."""
        reader = ResultReader()
        rows: list[dict[str, Any]] = []
        for part in self._parts(query, parameters, transaction_id, max_rows, batch_rows,
                                self._transport.settings.unary_timeout(timeout)):
            rows += reader.rows(part)
        return Result(reader.columns, rows, reader.summary, reader.plan)

    def stream(self, query: str, parameters: Mapping[str, Any] | None = None, *, transaction_id: str = "",
               max_rows: int = 0, batch_rows: int = 0, timeout: float | None = None) -> Iterator[dict[str, Any]]:
        """The query's rows as they arrive (large results without holding them all); `timeout`
        defaults to the client's stream timeout. Closing the iterator early cancels the query."""
        reader = ResultReader()
        parts = self._parts(query, parameters, transaction_id, max_rows, batch_rows, timeout)
        try:
            for part in parts:
                yield from reader.rows(part)
        finally:
            parts.close()

    def _parts(self, query: str, parameters: Mapping[str, Any] | None, transaction_id: str, max_rows: int,
               batch_rows: int, timeout: float | None) -> Any:
        request = execute_request(query, parameters, transaction_id, max_rows, batch_rows)
        return self._transport.server_stream(Methods.EXECUTE, request, timeout)

    def begin(self, isolation: str = "read_committed", idle_timeout_ms: int = 0) -> Transaction:
        """Starts a transaction: read_committed (default), repeatable_read, serializable
        (read_uncommitted runs as read_committed)."""
        info = self._transport.unary(Methods.BEGIN_TRANSACTION, begin_request(isolation, idle_timeout_ms))
        return Transaction(self, info.transaction_id, isolation_name(info.isolation))

    @contextmanager
    def transaction(self, isolation: str = "read_committed", idle_timeout_ms: int = 0) -> Iterator[Transaction]:
        """``with db.graph.transaction("serializable") as tx: tx.execute(...)``: commits at the
        end of the block, rolls back if it raises."""
        tx = self.begin(isolation, idle_timeout_ms)
        try:
            yield tx
        except BaseException:
            if tx.open:
                tx.rollback()
            raise
        if tx.open:
            tx.commit()

    def create_hyperedge(self, type: str, node_ids: Sequence[int], properties: Mapping[str, Any] | None = None,
                         transaction_id: str = "", *, timeout: float | None = None) -> dict[str, Any]:
        """Creates a hyperedge joining 3..1024 distinct nodes."""
        request = hyperedge_request(type, node_ids, properties, transaction_id)
        return hyperedge(self._transport.unary(Methods.CREATE_HYPEREDGE, request, timeout))

    def hyperedges(self, node_id: int = 0, type: str = "", limit: int = 0, *,
                   timeout: float | None = None) -> list[dict[str, Any]]:
        """Hyperedges containing `node_id` and/or of `type`."""
        request = graph_pb2.QueryHyperedgesRequest(node_id=node_id, type=type, limit=limit)
        return [hyperedge(h) for h in self._transport.unary(Methods.QUERY_HYPEREDGES, request, timeout).hyperedges]

    def create_vector_index(self, name: str, label: str, property: str, dimension: int,
                            metric: str = "cosine", *, timeout: float | None = None) -> GraphIndex:
        """Indexes the `property` of every `label` node that holds `dimension` numbers (others
        are skipped), in HNSW; kept current by every commit and persisted. metric: cosine,
        l2, dot or manhattan. Raises `AlreadyExists` when the name is taken."""
        request = vector_index_request(name, label, property, dimension, metric)
        return index_info(self._transport.unary(Methods.CREATE_INDEX, request, timeout))

    def create_index(self, name: str, label: str, property: str, *, timeout: float | None = None) -> GraphIndex:
        """An equality index on `property` of `label` nodes: ``MATCH (u:User {email: $e})`` and
        ``WHERE u.email = $e`` then look nodes up instead of scanning the label. Kept current
        by every commit and persisted. Raises `AlreadyExists` when the name or pair is taken."""
        request = property_index_request(name, label, property)
        return index_info(self._transport.unary(Methods.CREATE_INDEX, request, timeout))

    def indexes(self, *, timeout: float | None = None) -> list[GraphIndex]:
        """Every index, with the number of nodes it holds."""
        response = self._transport.unary(Methods.LIST_INDEXES, graph_pb2.ListIndexesRequest(), timeout)
        return [index_info(i) for i in response.indexes]

    def hybrid_search(self, index: str, vector: VectorLike, k: int = 10, *, filter: str = "",
                      parameters: Mapping[str, Any] | None = None, expand_depth: int = 0,
                      learned_rerank: int | None = None, timeout: float | None = None) -> HybridHits:
        """The `k` nodes of vector index `index` nearest to `vector` (list or numpy array) that
        satisfy `filter`, a Cypher predicate over `node` (e.g. ``"node.year >= $year"`` with
        ``parameters={"year": 2020}``), each with its neighbourhood up to `expand_depth` (0..3)
        relationship hops. Best first. `learned_rerank` (a depth, 0 = 100): the index's learned
        model (trained through `db.learn` under the name ``"graph:<index>"``) re-orders the
        nearest `depth` seeds that pass the filter before the first `k` are expanded; the
        result's `model_version` says which model (0: none was active, the HNSW order).

        >>> hits = db.graph.hybrid_search("papers", query, k=5, filter="node.year > 2015", expand_depth=1)
        >>> hits[0].node.properties["title"], hits[0].score, len(hits[0].neighbourhood)
        """
        request = hybrid_request(index, vector, k, filter, parameters, expand_depth, learned_rerank)
        return hybrid_hits(self._transport.unary(Methods.HYBRID_SEARCH, request, timeout))
