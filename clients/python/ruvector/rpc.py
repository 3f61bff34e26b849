"""What the sync and asyncio transports share: the methods and which may be retried, the retry
policy, and the connection settings (TLS, limits, the API key sent as metadata).

Retries. A call that fails with UNAVAILABLE may or may not have reached the server (the
connection can drop after the request left). Only calls for which a second delivery changes
nothing a caller can see are retried:

- reads: GetCollection, ListCollections, Get, Count, Scroll (each page), Search, SearchBatch,
  ListSnapshots, QueryHyperedges, ListIndexes, HybridSearch, cluster GetState and ShardStatus,
  GetModelStatus.

Never retried: Upsert (a first attempt that was applied but not answered, sent again after
another client wrote the same id, would put back the older value: another writer's update
lost, and a history no single order of the writes explains), creating, deleting and restoring collections and snapshots (a second create
answers ALREADY_EXISTS to a call that succeeded), Delete (its count would be wrong, and a
filter may match points written in between), Cypher (a query may write), transactions,
hyperedges, index creation, cluster membership, feedback and model settings (a record sent twice
counts twice), and every streaming call (its input has been
consumed, or part of its answer delivered). Their UNAVAILABLE is raised as `ruvector.Unavailable`.
"""
from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import grpc

from ruvector.errors import RuVectorError, from_rpc_error
from ruvector.v1 import cluster_pb2, common_pb2, graph_pb2, learn_pb2, route_pb2, vector_pb2

#: The environment variable an API key is read from when none is given.
API_KEY_ENVIRONMENT = "RUVECTOR_API_KEY"


@dataclass(frozen=True)
class Method:
    """One RPC: its path, how its answers are decoded and whether UNAVAILABLE may be retried."""
    path: str
    decode: Callable[[bytes], Any]
    retry: bool = False


def _vector(name: str, response: Any, retry: bool = False) -> Method:
    return Method(f"/ruvector.v1.VectorService/{name}", response.FromString, retry)


def _graph(name: str, response: Any, retry: bool = False) -> Method:
    return Method(f"/ruvector.v1.GraphService/{name}", response.FromString, retry)


def _cluster(name: str, response: Any, retry: bool = False) -> Method:
    return Method(f"/ruvector.v1.ClusterService/{name}", response.FromString, retry)


def _learn(name: str, response: Any, retry: bool = False) -> Method:
    return Method(f"/ruvector.v1.LearnService/{name}", response.FromString, retry)


def _route(name: str, response: Any, retry: bool = False) -> Method:
    return Method(f"/ruvector.v1.RouteService/{name}", response.FromString, retry)


class Vector:
    """VectorService methods."""
    CREATE_COLLECTION = _vector("CreateCollection", vector_pb2.CollectionInfo)
    GET_COLLECTION = _vector("GetCollection", vector_pb2.CollectionInfo, retry=True)
    LIST_COLLECTIONS = _vector("ListCollections", vector_pb2.ListCollectionsResponse, retry=True)
    DELETE_COLLECTION = _vector("DeleteCollection", vector_pb2.DeleteCollectionResponse)
    UPSERT = _vector("Upsert", vector_pb2.UpdateResult)
    UPSERT_STREAM = _vector("UpsertStream", vector_pb2.UpdateResult)
    GET = _vector("Get", vector_pb2.GetResponse, retry=True)
    DELETE = _vector("Delete", vector_pb2.UpdateResult)
    COUNT = _vector("Count", vector_pb2.CountResponse, retry=True)
    SCROLL = _vector("Scroll", vector_pb2.ScrollResponse, retry=True)
    SEARCH = _vector("Search", vector_pb2.SearchResponse, retry=True)
    SEARCH_BATCH = _vector("SearchBatch", vector_pb2.SearchBatchResponse, retry=True)
    SEARCH_STREAM = _vector("SearchStream", vector_pb2.SearchResponse)
    CREATE_SNAPSHOT = _vector("CreateSnapshot", vector_pb2.SnapshotInfo)
    LIST_SNAPSHOTS = _vector("ListSnapshots", vector_pb2.ListSnapshotsResponse, retry=True)
    DOWNLOAD_SNAPSHOT = _vector("DownloadSnapshot", common_pb2.FileChunk)
    RESTORE_SNAPSHOT = _vector("RestoreSnapshot", vector_pb2.CollectionInfo)


class Graph:
    """GraphService methods."""
    EXECUTE = _graph("Execute", graph_pb2.ExecuteResponse)
    BEGIN_TRANSACTION = _graph("BeginTransaction", graph_pb2.TransactionInfo)
    COMMIT = _graph("Commit", graph_pb2.CommitResponse)
    ROLLBACK = _graph("Rollback", graph_pb2.RollbackResponse)
    CREATE_HYPEREDGE = _graph("CreateHyperedge", graph_pb2.Hyperedge)
    QUERY_HYPEREDGES = _graph("QueryHyperedges", graph_pb2.QueryHyperedgesResponse, retry=True)
    CREATE_INDEX = _graph("CreateIndex", graph_pb2.IndexInfo)
    LIST_INDEXES = _graph("ListIndexes", graph_pb2.ListIndexesResponse, retry=True)
    HYBRID_SEARCH = _graph("HybridSearch", graph_pb2.HybridSearchResponse, retry=True)


class Cluster:
    """ClusterService methods a client calls."""
    JOIN = _cluster("Join", cluster_pb2.ClusterState)
    LEAVE = _cluster("Leave", cluster_pb2.ClusterState)
    GET_STATE = _cluster("GetState", cluster_pb2.ClusterState, retry=True)
    TRANSFER_LEADERSHIP = _cluster("TransferLeadership", cluster_pb2.ClusterState)
    UPDATE_SETTINGS = _cluster("UpdateSettings", cluster_pb2.ClusterState)
    SHARD_STATUS = _cluster("ShardStatus", cluster_pb2.ShardStatusResponse, retry=True)


class Learn:
    """LearnService methods. Feedback is not retried: a record delivered twice counts twice."""
    RECORD_FEEDBACK = _learn("RecordFeedback", learn_pb2.RecordFeedbackResponse)
    CONFIGURE_MODEL = _learn("ConfigureModel", learn_pb2.ModelStatus)
    GET_MODEL_STATUS = _learn("GetModelStatus", learn_pb2.ModelStatus, retry=True)
    TRAIN = _learn("Train", learn_pb2.TrainProgress)
    EXPORT_MODEL = _learn("ExportModel", common_pb2.FileChunk)
    IMPORT_MODEL = _learn("ImportModel", learn_pb2.ModelStatus)


class Route:
    """RouteService methods. Outcomes are not retried: one delivered twice counts twice."""
    CREATE_ROUTER = _route("CreateRouter", route_pb2.RouterInfo)
    GET_ROUTER = _route("GetRouter", route_pb2.RouterInfo, retry=True)
    LIST_ROUTERS = _route("ListRouters", route_pb2.ListRoutersResponse, retry=True)
    DELETE_ROUTER = _route("DeleteRouter", route_pb2.DeleteRouterResponse)
    ROUTE = _route("Route", route_pb2.RouteDecision)
    RECORD_OUTCOME = _route("RecordOutcome", route_pb2.RecordOutcomeResponse)
    TRAIN = _route("Train", route_pb2.TrainRouterProgress)
    GET_STATUS = _route("GetStatus", route_pb2.RouterStatus, retry=True)
    REGISTER_ROUTE = _route("RegisterRoute", route_pb2.SemanticRoute)
    LIST_ROUTES = _route("ListRoutes", route_pb2.ListRoutesResponse, retry=True)
    DELETE_ROUTE = _route("DeleteRoute", route_pb2.DeleteRouteResponse)
    MATCH_ROUTE = _route("MatchRoute", route_pb2.MatchRouteResponse, retry=True)
    FIT_ROUTE_THRESHOLD = _route("FitRouteThreshold", route_pb2.FitRouteThresholdResponse)
    EXPORT_ROUTER = _route("ExportRouter", common_pb2.FileChunk)
    IMPORT_ROUTER = _route("ImportRouter", route_pb2.RouterInfo)


def encode(request: Any) -> bytes:
    """A request's bytes: protobuf messages are serialized, bytes (from `ruvector.wire`) pass as they are."""
    return request if isinstance(request, bytes) else bytes(request.SerializeToString())


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter for UNAVAILABLE on the calls `Method.retry` marks.

    Retry n (1 first) waits between half and all of ``min(max_backoff, initial_backoff * 2**(n-1))``
    seconds; the call's timeout covers every attempt and every wait (no retry starts once the
    wait would pass the deadline). ``retries=0`` turns retrying off."""
    retries: int = 3
    initial_backoff: float = 0.05
    max_backoff: float = 2.0

    def __post_init__(self) -> None:
        if self.retries < 0 or self.initial_backoff < 0 or self.max_backoff < self.initial_backoff:
            raise ValueError("retries must be >= 0 and 0 <= initial_backoff <= max_backoff")

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number `retry` (1 for the first)."""
        ceiling = min(self.max_backoff, self.initial_backoff * 2.0 ** (retry - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass
class Attempts:
    """The attempts of one call: decides whether a failure is retried, and how long to wait first."""
    method: Method
    policy: RetryPolicy
    deadline: float | None
    rng: random.Random
    made: int = 0

    def remaining(self) -> float | None:
        """Seconds left before the call's deadline (None: no deadline)."""
        return None if self.deadline is None else max(self.deadline - time.monotonic(), 0.0)

    def wait_before_retry(self, error: RuVectorError) -> float | None:
        """Seconds to wait before trying again after `error`, or None to raise it."""
        self.made += 1
        if not self.method.retry or error.code != grpc.StatusCode.UNAVAILABLE or self.made > self.policy.retries:
            return None
        wait = self.policy.delay(self.made, self.rng)
        remaining = self.remaining()
        if remaining is not None and wait >= remaining:
            return None
        return wait


def deadline_after(timeout: float | None) -> float | None:
    """The monotonic time `timeout` seconds from now (None: no deadline)."""
    return None if timeout is None else time.monotonic() + timeout


def resolve_api_key(api_key: str | None) -> str | None:
    """The key to send: `api_key`, else $RUVECTOR_API_KEY; None when neither is set (or empty)."""
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENVIRONMENT)
    if not key:
        return None
    # gRPC metadata values are printable ASCII; the key itself is never echoed.
    if not all(" " <= c <= "~" for c in key):
        raise ValueError("the API key holds characters that metadata cannot carry (printable ASCII only)")
    return key


@dataclass(frozen=True)
class Settings:
    """How a client connects: TLS material, message limits, timeouts, retries and the API key.
    Shared by every channel a client opens (its address and the cluster leaders it is sent to)."""
    address: str
    tls: bool = False
    root_certificates: bytes | None = field(default=None, repr=False)
    private_key: bytes | None = field(default=None, repr=False)
    certificate_chain: bytes | None = field(default=None, repr=False)
    server_name_override: str | None = None
    max_message_bytes: int = 64 << 20
    #: Default deadline of unary calls, in seconds (None: none).
    timeout: float | None = 60.0
    #: Default deadline of streaming calls, in seconds (None: none; imports and downloads can be long).
    stream_timeout: float | None = None
    retry: RetryPolicy = RetryPolicy()
    #: Never shown: repr, str and errors leave it out.
    api_key: str | None = field(default=None, repr=False)

    @property
    def secure(self) -> bool:
        """True when the channels use TLS."""
        return bool(self.tls or self.root_certificates or self.private_key)

    def channel_options(self) -> list[tuple[str, Any]]:
        """grpcio channel options: message limits and the TLS name override."""
        options: list[tuple[str, Any]] = [("grpc.max_send_message_length", self.max_message_bytes),
                                          ("grpc.max_receive_message_length", self.max_message_bytes)]
        if self.server_name_override:
            options.append(("grpc.ssl_target_name_override", self.server_name_override))
        return options

    def credentials(self) -> grpc.ChannelCredentials:
        """TLS credentials (system roots when no root certificates are given)."""
        return grpc.ssl_channel_credentials(self.root_certificates, self.private_key, self.certificate_chain)

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """Metadata sent with every call: the API key as a bearer token, when there is one."""
        return (("authorization", f"Bearer {self.api_key}"),) if self.api_key else ()

    def unary_timeout(self, timeout: float | None) -> float | None:
        """A unary call's deadline in seconds: `timeout`, else the client's."""
        return timeout if timeout is not None else self.timeout

    def streaming_timeout(self, timeout: float | None) -> float | None:
        """A streaming call's deadline in seconds: `timeout`, else the client's for streams."""
        return timeout if timeout is not None else self.stream_timeout

    def describe(self) -> str:
        """What repr shows of a client: address, TLS and whether a key is set (never the key)."""
        key = ", api_key=<set>" if self.api_key else ""
        return f"{self.address!r}, tls={self.secure}{key}"



class Channels:
    """A client's channels, one per address (its own, and cluster leaders it is sent to), all
    opened with its TLS settings and limits; and the callables made on them, per method."""

    def __init__(self, settings: Settings, insecure: Callable[..., Any], secure: Callable[..., Any]):
        self._settings, self._insecure, self._secure = settings, insecure, secure
        self._lock = threading.Lock()
        self._channels: dict[str, Any] = {}
        self._callables: dict[tuple[str, str, str], Any] = {}

    def channel(self, address: str | None = None) -> Any:
        """The channel to `address` (default: the client's), opened on first use."""
        address = address or self._settings.address
        with self._lock:
            channel = self._channels.get(address)
            if channel is None:
                options = self._settings.channel_options()
                channel = (self._secure(address, self._settings.credentials(), options=options)
                           if self._settings.secure else self._insecure(address, options=options))
                self._channels[address] = channel
            return channel

    def callable(self, kind: str, method: Method, address: str | None = None) -> Any:
        """The channel's `kind` ("unary_unary", "stream_stream", ...) callable for `method`."""
        key = (address or self._settings.address, kind, method.path)
        found = self._callables.get(key)
        if found is None:
            factory = getattr(self.channel(address), kind)
            found = self._callables[key] = factory(method.path, request_serializer=encode,
                                                   response_deserializer=method.decode)
        return found

    def take_all(self) -> list[Any]:
        """Every open channel, forgotten here (for the caller to close)."""
        with self._lock:
            channels, self._channels, self._callables = list(self._channels.values()), {}, {}
        return channels


def failure(raw: grpc.RpcError, failed: list[BaseException]) -> BaseException:
    """What a failed streaming call raises: the exception that stopped its request iterator
    (grpcio replaces it with CANCELLED), else the call's own error."""
    return failed[0] if failed else from_rpc_error(raw)


class ClientBase:
    """What `ruvector.Client` and `ruvector.AsyncClient` share: their arguments (see `Client`),
    made `Settings` once, and how they show themselves."""

    def __init__(self, address: str = "127.0.0.1:50051", *, tls: bool = False, root_certificates: bytes | None = None,
                 private_key: bytes | None = None, certificate_chain: bytes | None = None,
                 server_name_override: str | None = None, timeout: float | None = 60.0,
                 stream_timeout: float | None = None, max_message_bytes: int = 64 << 20,
                 api_key: str | None = None, retries: int = 3, initial_backoff: float = 0.05,
                 max_backoff: float = 2.0):
        self._settings = Settings(address, tls, root_certificates, private_key, certificate_chain,
                                  server_name_override, max_message_bytes, timeout, stream_timeout,
                                  RetryPolicy(retries, initial_backoff, max_backoff), resolve_api_key(api_key))
        self._open()

    def _open(self) -> None:
        """Opens the client's transport on `self._settings` (each client its own kind)."""
        raise NotImplementedError

    @property
    def timeout(self) -> float | None:
        """The default deadline of unary calls, in seconds."""
        return self._settings.timeout

    def __repr__(self) -> str:
        return f"ruvector.{type(self).__name__}({self._settings.describe()})"
