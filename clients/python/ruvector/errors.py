"""Errors raised by the client: one class per gRPC status a caller may want to handle."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import grpc

if TYPE_CHECKING:
    from ruvector.models import FailedBatch

#: Trailing metadata as (key, value) pairs; binary values ("-bin" keys) are bytes.
Metadata = Sequence[tuple[str, "str | bytes"]]


class RuVectorError(Exception):
    """A call failed. `code` is the gRPC status code, `message` the server's explanation,
    `trailing_metadata` what the server sent with it (a follower's leader hint, for one), and
    `batch` the `ruvector.models.FailedBatch` when an `upload_points` batch failed."""

    def __init__(self, code: grpc.StatusCode, message: str, trailing_metadata: Metadata = ()):
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.trailing_metadata: tuple[tuple[str, str | bytes], ...] = tuple(trailing_metadata)
        self.batch: FailedBatch | None = None


class InvalidArgument(RuVectorError):
    """The request was refused as given (wrong dimension, bad filter, over a limit...)."""


class NotFound(RuVectorError):
    """The collection, point or snapshot does not exist."""


class AlreadyExists(RuVectorError):
    """A collection with that name exists."""


class ResourceExhausted(RuVectorError):
    """A size limit was exceeded (message size, upload size)."""


class FailedPrecondition(RuVectorError):
    """The server cannot do this in its current state (e.g. a snapshot of a newer format)."""


class Aborted(RuVectorError):
    """A conflict; retry the operation."""


class Unavailable(RuVectorError):
    """The server cannot be reached or is shutting down; retry later."""


class DeadlineExceeded(RuVectorError):
    """The call's timeout passed before the server answered."""


class DataLoss(RuVectorError):
    """Bytes were damaged in transfer (CRC or size mismatch)."""


class Unimplemented(RuVectorError):
    """The server does not offer this call."""


class Unauthenticated(RuVectorError):
    """The server needs credentials and got none it accepts: pass ``api_key=`` (or set RUVECTOR_API_KEY)."""


class PermissionDenied(RuVectorError):
    """The credentials are valid but do not reach this call or collection."""


_BY_CODE = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.ABORTED: Aborted,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.DATA_LOSS: DataLoss,
    grpc.StatusCode.UNIMPLEMENTED: Unimplemented,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
}


def from_rpc_error(error: grpc.RpcError) -> RuVectorError:
    """The RuVectorError subclass for a grpcio error (sync or asyncio)."""
    found: Any = error      # grpc.RpcError declares no methods; its call-error subclasses do
    code = found.code() if hasattr(found, "code") else grpc.StatusCode.UNKNOWN
    details = found.details() if hasattr(found, "details") else str(error)
    trailing = found.trailing_metadata() if hasattr(found, "trailing_metadata") else None
    return _BY_CODE.get(code, RuVectorError)(code, details or "", tuple(trailing or ()))


def from_status(code_number: int, message: str) -> RuVectorError:
    """The RuVectorError subclass for a numeric status (e.g. a SearchStream per-query error)."""
    code = next((c for c in grpc.StatusCode if c.value[0] == code_number), grpc.StatusCode.UNKNOWN)
    return _BY_CODE.get(code, RuVectorError)(code, message)
