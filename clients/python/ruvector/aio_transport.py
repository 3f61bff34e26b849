"""The asyncio call layer: `ruvector.transport` on `grpc.aio`. Same channels per address,
metadata, deadlines, error mapping and retries; streaming answers are async iterators whose
cancellation (of the task consuming them, or closing them early) cancels the call."""
from __future__ import annotations

import asyncio
import random
from typing import Any, AsyncGenerator, AsyncIterable, Iterable

import grpc
import grpc.aio

from ruvector.errors import from_rpc_error
from ruvector.rpc import Attempts, Channels, Method, Settings, deadline_after, failure

#: Requests of a client-streaming call: a sync or an async iterable.
Requests = Iterable[Any] | AsyncIterable[Any]


class AsyncTransport:
    """Calls for a `ruvector.AsyncClient`; channels are opened on first use, in the running loop."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._metadata = settings.metadata()
        self._rng = random.Random()
        self._channels = Channels(settings, grpc.aio.insecure_channel, grpc.aio.secure_channel)

    async def close(self) -> None:
        """Closes every channel (calls still running are cancelled)."""
        for channel in self._channels.take_all():
            await channel.close()

    async def unary(self, method: Method, request: Any, timeout: float | None = None, *,
                    address: str | None = None) -> Any:
        """One request, one answer; retried after UNAVAILABLE when `method.retry` (within `timeout`)."""
        attempts = Attempts(method, self.settings.retry, deadline_after(self.settings.unary_timeout(timeout)),
                            self._rng)
        call = self._channels.callable("unary_unary", method, address)
        while True:
            try:
                return await call(request, timeout=attempts.remaining(), metadata=self._metadata)
            except grpc.RpcError as raw:
                error = from_rpc_error(raw)
            wait = attempts.wait_before_retry(error)
            if wait is None:
                raise error
            await asyncio.sleep(wait)

    def server_stream(self, method: Method, request: Any, timeout: float | None = None) -> AsyncGenerator[Any, None]:
        """The answers to one request, as they arrive (the call starts now)."""
        call = self._channels.callable("unary_stream", method)(
            request, timeout=self.settings.streaming_timeout(timeout), metadata=self._metadata)
        return _answers(call, [])

    async def client_stream(self, method: Method, requests: Requests, timeout: float | None = None) -> Any:
        """Sends `requests` and returns the one answer. An exception raised while producing a
        request is raised instead of the CANCELLED it causes."""
        failed: list[BaseException] = []
        call = self._channels.callable("stream_unary", method)(
            _guarded(requests, failed), timeout=self.settings.streaming_timeout(timeout), metadata=self._metadata)
        try:
            return await call
        except grpc.RpcError as raw:
            raise failure(raw, failed) from None
        finally:
            call.cancel()

    def bidi_stream(self, method: Method, requests: Requests,
                    timeout: float | None = None) -> AsyncGenerator[Any, None]:
        """Sends `requests` while answers arrive (the call starts now)."""
        failed: list[BaseException] = []
        call = self._channels.callable("stream_stream", method)(
            _guarded(requests, failed), timeout=self.settings.streaming_timeout(timeout), metadata=self._metadata)
        return _answers(call, failed)


async def _answers(call: Any, failed: list[BaseException]) -> AsyncGenerator[Any, None]:
    # Cancelling the consuming task raises CancelledError here, and the call is cancelled with it.
    try:
        async for response in call:
            yield response
    except grpc.RpcError as raw:
        raise failure(raw, failed) from None
    finally:
        call.cancel()


async def _guarded(requests: Requests, failed: list[BaseException]) -> AsyncGenerator[Any, None]:
    # grpc.aio cancels the call when the request iterator raises, and drops the exception.
    try:
        if isinstance(requests, AsyncIterable):
            async for request in requests:
                yield request
        else:
            for request in requests:
                yield request
    except Exception as error:
        failed.append(error)
        raise
