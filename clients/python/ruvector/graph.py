"""`db.graph`: Cypher over GraphService, rows as dicts, transactions as context managers."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

import grpc

from ruvector import convert
from ruvector.errors import from_rpc_error
from ruvector.v1 import graph_pb2, graph_pb2_grpc

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


@dataclass
class Result:
    """A query's columns, rows (dicts by column) and summary counters."""
    columns: list[str]
    rows: list[dict[str, Any]]
    summary: dict[str, int] = field(default_factory=dict)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)


def _node(n) -> Node:
    return Node(n.id, list(n.labels), convert.from_payload(n.properties))


def _relationship(r) -> Relationship:
    return Relationship(r.id, r.type, r.start_node_id, r.end_node_id, convert.from_payload(r.properties))


def _parameters(parameters: Mapping[str, Any] | None) -> list:
    return [graph_pb2.Parameter(name=name, value=convert.to_value(v)) for name, v in (parameters or {}).items()]


def _path(p) -> Path:
    return Path([_node(n) for n in p.nodes], [_relationship(r) for r in p.relationships])


def _index(info) -> GraphIndex:
    return GraphIndex(info.name, info.label, info.property, info.entries, info.vector)


def _hyperedge(h) -> dict[str, Any]:
    return {"id": h.id, "type": h.type, "node_ids": list(h.node_ids), "properties": convert.from_payload(h.properties)}


def _graph_value(v) -> Any:
    kind = v.WhichOneof("kind")
    if kind == "node":
        return _node(v.node)
    if kind == "relationship":
        return _relationship(v.relationship)
    if kind == "path":
        return _path(v.path)
    if kind == "list":
        return [_graph_value(x) for x in v.list.values]
    if kind == "value":
        return convert.from_value(v.value)
    return None


class Transaction:
    """An open transaction; use `execute`, then `commit` or `rollback` (or a `with` block)."""

    def __init__(self, graph: "Graph", transaction_id: str, isolation: str):
        self._graph = graph
        self.id = transaction_id
        self.isolation = isolation
        self.open = True

    def execute(self, query: str, parameters: Mapping[str, Any] | None = None, **options) -> Result:
        return self._graph.execute(query, parameters, transaction_id=self.id, **options)

    def commit(self) -> int:
        """Commits; raises `ruvector.Aborted` when the isolation level forbids it (retry)."""
        self.open = False
        return self._graph._call("Commit", graph_pb2.TransactionRef(transaction_id=self.id)).sequence

    def rollback(self) -> None:
        self.open = False
        self._graph._call("Rollback", graph_pb2.TransactionRef(transaction_id=self.id))


class Graph:
    """The GraphService of a `ruvector.Client` (as `db.graph`)."""

    def __init__(self, channel: grpc.Channel, timeout: float | None):
        self._stub = graph_pb2_grpc.GraphServiceStub(channel)
        self._timeout = timeout

    def _call(self, method: str, request):
        try:
            return getattr(self._stub, method)(request, timeout=self._timeout)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    def execute(self, query: str, parameters: Mapping[str, Any] | None = None, *, transaction_id: str = "",
                max_rows: int = 0, batch_rows: int = 0, timeout: float | None = None) -> Result:
        """Runs a Cypher query (auto-commit, or inside `transaction_id`); rows as dicts by column.
        Nodes, relationships and paths come back as `Node`, `Relationship`, `Path`."""
        request = graph_pb2.ExecuteRequest(
            query=query, transaction_id=transaction_id, max_rows=max_rows, batch_rows=batch_rows,
            parameters=_parameters(parameters))
        columns: list[str] = []
        rows: list[dict[str, Any]] = []
        summary: dict[str, int] = {}
        try:
            for part in self._stub.Execute(request, timeout=timeout or self._timeout):
                which = part.WhichOneof("part")
                if which == "header":
                    columns = list(part.header.columns)
                elif which == "rows":
                    rows += [dict(zip(columns, (_graph_value(v) for v in row.values))) for row in part.rows.rows]
                elif which == "summary":
                    summary = {f.name: getattr(part.summary, f.name) for f in part.summary.DESCRIPTOR.fields}
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None
        return Result(columns, rows, summary)

    def begin(self, isolation: str = "read_committed", idle_timeout_ms: int = 0) -> Transaction:
        """Starts a transaction: read_committed (default), repeatable_read, serializable
        (read_uncommitted runs as read_committed)."""
        if isolation not in _ISOLATION:
            raise ValueError(f"isolation must be one of {sorted(_ISOLATION)}; got {isolation!r}")
        info = self._call("BeginTransaction", graph_pb2.BeginTransactionRequest(
            isolation=_ISOLATION[isolation], idle_timeout_millis=idle_timeout_ms))
        effective = next(k for k, v in _ISOLATION.items() if v == info.isolation)
        return Transaction(self, info.transaction_id, effective)

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

    def create_hyperedge(self, type: str, node_ids: list[int], properties: Mapping[str, Any] | None = None,
                         transaction_id: str = "") -> dict[str, Any]:
        """Creates a hyperedge joining 3..1024 distinct nodes."""
        return _hyperedge(self._call("CreateHyperedge", graph_pb2.CreateHyperedgeRequest(
            type=type, node_ids=node_ids, properties=convert.to_payload(properties), transaction_id=transaction_id)))

    def hyperedges(self, node_id: int = 0, type: str = "", limit: int = 0) -> list[dict[str, Any]]:
        """Hyperedges containing `node_id` and/or of `type`."""
        response = self._call("QueryHyperedges", graph_pb2.QueryHyperedgesRequest(node_id=node_id, type=type, limit=limit))
        return [_hyperedge(h) for h in response.hyperedges]

    def create_vector_index(self, name: str, label: str, property: str, dimension: int,
                            metric: str = "cosine") -> GraphIndex:
        """Indexes the `property` of every `label` node that holds `dimension` numbers (others
        are skipped), in HNSW; kept current by every commit and persisted. metric: cosine,
        l2, dot or manhattan. Raises `AlreadyExists` when the name is taken."""
        config = graph_pb2.VectorIndexConfig(dimension=dimension, metric=convert.metric(metric))
        return _index(self._call("CreateIndex", graph_pb2.CreateIndexRequest(
            name=name, label=label, property=property, vector_index=config)))

    def create_index(self, name: str, label: str, property: str) -> GraphIndex:
        """An equality index on `property` of `label` nodes: ``MATCH (u:User {email: $e})`` and
        ``WHERE u.email = $e`` then look nodes up instead of scanning the label. Kept current
        by every commit and persisted. Raises `AlreadyExists` when the name or pair is taken."""
        return _index(self._call("CreateIndex", graph_pb2.CreateIndexRequest(
            name=name, label=label, property=property, property_index=graph_pb2.PropertyIndexConfig())))

    def indexes(self) -> list[GraphIndex]:
        """Every index, with the number of nodes it holds."""
        return [_index(i) for i in self._call("ListIndexes", graph_pb2.ListIndexesRequest()).indexes]

    def hybrid_search(self, index: str, vector: Any, k: int = 10, *, filter: str = "",
                      parameters: Mapping[str, Any] | None = None, expand_depth: int = 0) -> list[HybridHit]:
        """The `k` nodes of vector index `index` nearest to `vector` (list or numpy array) that
        satisfy `filter`, a Cypher predicate over `node` (e.g. ``"node.year >= $year"`` with
        ``parameters={"year": 2020}``), each with its neighbourhood up to `expand_depth` (0..3)
        relationship hops. Best first.

        >>> hits = db.graph.hybrid_search("papers", query, k=5, filter="node.year > 2015", expand_depth=1)
        >>> hits[0].node.properties["title"], hits[0].score, len(hits[0].neighbourhood)
        """
        request = graph_pb2.HybridSearchRequest(
            index=index, vector=convert.to_vector(vector), k=k, filter=filter, expand_depth=expand_depth,
            parameters=_parameters(parameters))
        return [HybridHit(_node(h.node), h.score, [_path(p) for p in h.neighbourhood])
                for h in self._call("HybridSearch", request).hits]
