"""A grpcio server that answers every RuVector method with default (empty) messages and records
what it was sent: for the Python client's tests of metadata, retries and cancellation, where
the real server cannot show what it received.

Every method answers: unary ones with an empty message (a valid encoding of any message
type), streaming ones with one empty message. Behaviours on request: the first N calls of a
method fail with UNAVAILABLE; Execute streams rows until the client goes away.
"""
from __future__ import annotations

import threading
import time
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import grpc

from ruvector.v1 import common_pb2, graph_pb2

#: Methods by how they stream; every other method is unary.
SERVER_STREAMING = {"/ruvector.v1.GraphService/Execute", "/ruvector.v1.VectorService/DownloadSnapshot"}
CLIENT_STREAMING = {"/ruvector.v1.VectorService/UpsertStream", "/ruvector.v1.VectorService/RestoreSnapshot"}
BIDI_STREAMING = {"/ruvector.v1.VectorService/SearchStream"}


@dataclass
class Received:
    """One call as the server saw it."""
    method: str
    metadata: dict[str, str]


@dataclass
class Recorder(grpc.GenericRpcHandler):
    """Answers and records every call (see the module's docstring)."""
    #: The first N calls of a method (by path; unary or server-streaming) fail with UNAVAILABLE.
    unavailable_first: dict[str, int] = field(default_factory=dict)
    #: Execute streams a row every few milliseconds until the call ends (else: one empty message).
    endless_execute: bool = False
    received: list[Received] = field(default_factory=list)
    #: Set when a streaming call ended because the client cancelled it (or went away).
    stream_cancelled: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def calls_to(self, method: str) -> int:
        """How many calls of `method` (path suffix, e.g. "VectorService/Search") arrived."""
        return sum(1 for r in self.received if r.method.endswith(method))

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        method: str = details.method   # type: ignore[attr-defined]
        if not method.startswith("/ruvector.v1."):
            return None
        metadata = {m.key: m.value for m in details.invocation_metadata}   # type: ignore[attr-defined]
        with self.lock:
            self.received.append(Received(method, metadata))
            refuse = self.unavailable_first.get(method, 0) > 0
            if refuse:
                self.unavailable_first[method] -= 1
        return self._handler(method, refuse)

    def _handler(self, method: str, refuse: bool) -> grpc.RpcMethodHandler:
        def unary(request: bytes, context: grpc.ServicerContext) -> bytes:
            if refuse:
                context.abort(grpc.StatusCode.UNAVAILABLE, "not yet")
            return b""

        def server_streaming(request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
            if refuse:
                context.abort(grpc.StatusCode.UNAVAILABLE, "not yet")
            yield from self._stream(method, context)

        def client_streaming(requests: Iterator[bytes], context: grpc.ServicerContext) -> bytes:
            for _ in requests:
                pass
            return b""

        def bidi(requests: Iterator[bytes], context: grpc.ServicerContext) -> Iterator[bytes]:
            for _ in requests:
                pass
            yield b""

        if method in SERVER_STREAMING:
            return grpc.unary_stream_rpc_method_handler(server_streaming)
        if method in CLIENT_STREAMING:
            return grpc.stream_unary_rpc_method_handler(client_streaming)
        if method in BIDI_STREAMING:
            return grpc.stream_stream_rpc_method_handler(bidi)
        return grpc.unary_unary_rpc_method_handler(unary)

    def _stream(self, method: str, context: grpc.ServicerContext) -> Iterator[bytes]:
        if method.endswith("/DownloadSnapshot"):
            # An empty file, with the trailer that proves it whole (CRC-32C of nothing is 0).
            yield common_pb2.FileChunk(trailer=common_pb2.FileTrailer(size_bytes=0, crc32c=0)).SerializeToString()
            return
        if not (self.endless_execute and method.endswith("/Execute")):
            yield b""
            return
        context.add_callback(self.stream_cancelled.set)
        yield graph_pb2.ExecuteResponse(header=graph_pb2.ResultHeader(columns=["i"])).SerializeToString()
        # Bounded: 30 s of rows at the most, should the client never cancel.
        for i in range(3000):
            if not context.is_active():
                return
            row = graph_pb2.Row(values=[graph_pb2.GraphValue(value=common_pb2.Value(int_value=i))])
            yield graph_pb2.ExecuteResponse(rows=graph_pb2.RowBatch(rows=[row])).SerializeToString()
            time.sleep(0.01)


class RecordingServer:
    """A `Recorder` served on a free loopback port (plain h2c)."""

    def __init__(self, recorder: Recorder | None = None):
        self.recorder = recorder or Recorder()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), handlers=[self.recorder])
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self.address = f"127.0.0.1:{self.port}"
        self._server.start()

    def stop(self) -> None:
        """Stops at once (calls still running are cancelled)."""
        self._server.stop(grace=None).wait(5)

    def __enter__(self) -> RecordingServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_until(condition: Callable[[], Any], timeout_seconds: float = 5.0) -> bool:
    """Polls `condition` until it holds or the time is up; returns whether it held."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return bool(condition())
