"""The sync call layer: every call sent with the client's metadata and deadline, failures raised
as `ruvector.RuVectorError`, UNAVAILABLE retried where `ruvector.rpc` allows it.
`ruvector.aio_transport` is the same for asyncio."""
from __future__ import annotations

import random
import time
from typing import Any, Generator, Iterable, Iterator

import grpc

from ruvector.errors import from_rpc_error
from ruvector.rpc import Attempts, Channels, Method, Settings, deadline_after, failure


class Transport:
    """Calls for a `ruvector.Client`, over its channels (`ruvector.rpc.Channels`)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._metadata = settings.metadata()
        self._rng = random.Random()
        self._channels = Channels(settings, grpc.insecure_channel, grpc.secure_channel)
        self._channels.channel()

    def close(self) -> None:
        """Closes every channel."""
        for channel in self._channels.take_all():
            channel.close()

    def unary(self, method: Method, request: Any, timeout: float | None = None, *, address: str | None = None) -> Any:
        """One request, one answer; retried after UNAVAILABLE when `method.retry` (within `timeout`)."""
        attempts = Attempts(method, self.settings.retry, deadline_after(self.settings.unary_timeout(timeout)),
                            self._rng)
        call = self._channels.callable("unary_unary", method, address)
        while True:
            try:
                return call(request, timeout=attempts.remaining(), metadata=self._metadata)
            except grpc.RpcError as raw:
                error = from_rpc_error(raw)
            wait = attempts.wait_before_retry(error)
            if wait is None:
                raise error
            time.sleep(wait)

    def server_stream(self, method: Method, request: Any,
                      timeout: float | None = None) -> Generator[Any, None, None]:
        """The answers to one request, as they arrive (the call starts now); closing the
        iterator early cancels the call."""
        call = self._channels.callable("unary_stream", method)(
            request, timeout=self.settings.streaming_timeout(timeout), metadata=self._metadata)
        return _answers(call, [])

    def client_stream(self, method: Method, requests: Iterable[Any], timeout: float | None = None) -> Any:
        """Sends `requests` (read lazily, on grpcio's thread) and returns the one answer. An
        exception raised while producing a request is raised instead of the CANCELLED it causes."""
        failed: list[BaseException] = []
        try:
            return self._channels.callable("stream_unary", method)(
                _guarded(requests, failed), timeout=self.settings.streaming_timeout(timeout), metadata=self._metadata)
        except grpc.RpcError as raw:
            raise failure(raw, failed) from None

    def bidi_stream(self, method: Method, requests: Iterable[Any],
                    timeout: float | None = None) -> Generator[Any, None, None]:
        """Sends `requests` while answers arrive (the call starts now); closing the iterator
        early cancels the call."""
        failed: list[BaseException] = []
        call = self._channels.callable("stream_stream", method)(
            _guarded(requests, failed), timeout=self.settings.streaming_timeout(timeout), metadata=self._metadata)
        return _answers(call, failed)


def _answers(call: Any, failed: list[BaseException]) -> Generator[Any, None, None]:
    try:
        yield from call
    except grpc.RpcError as raw:
        raise failure(raw, failed) from None
    finally:
        call.cancel()


def _guarded(requests: Iterable[Any], failed: list[BaseException]) -> Iterator[Any]:
    # grpcio swallows an exception raised by the request iterator and cancels the call.
    try:
        yield from requests
    except Exception as error:
        failed.append(error)
        raise
