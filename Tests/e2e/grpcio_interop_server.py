"""A grpc.testing.TestService on Python grpcio, written from the gRPC interop spec, so
that our Swift client's interop cases run against a reference implementation.

Usage: grpcio_interop_server.py PORT_FILE [--tls CERT KEY]; prints "listening on HOST:PORT".
"""
import concurrent.futures
import sys
import time

import conftest  # noqa: F401  (generates and registers the grpc.testing stubs)
import grpc
from grpc.testing import empty_pb2, messages_pb2, test_pb2_grpc

ECHO_INITIAL = "x-grpc-test-echo-initial"
ECHO_TRAILING = "x-grpc-test-echo-trailing-bin"


def _echo_metadata(context):
    metadata = dict(context.invocation_metadata())
    if ECHO_INITIAL in metadata:
        context.send_initial_metadata(((ECHO_INITIAL, metadata[ECHO_INITIAL]),))
    if ECHO_TRAILING in metadata:
        context.set_trailing_metadata(((ECHO_TRAILING, metadata[ECHO_TRAILING]),))


def _apply_status(status, context):
    if status.code != 0:
        context.abort(grpc.StatusCode(next(c for c in grpc.StatusCode if c.value[0] == status.code).value), status.message)


class TestService(test_pb2_grpc.TestServiceServicer):
    def EmptyCall(self, request, context):
        _echo_metadata(context)
        return empty_pb2.Empty()

    def UnaryCall(self, request, context):
        _echo_metadata(context)
        if request.HasField("response_status"):
            _apply_status(request.response_status, context)
        return messages_pb2.SimpleResponse(payload=messages_pb2.Payload(body=b"\x00" * request.response_size))

    def StreamingInputCall(self, request_iterator, context):
        _echo_metadata(context)
        total = sum(len(r.payload.body) for r in request_iterator)
        return messages_pb2.StreamingInputCallResponse(aggregated_payload_size=total)

    def _respond(self, request, context):
        if request.HasField("response_status"):
            _apply_status(request.response_status, context)
        for parameters in request.response_parameters:
            if parameters.interval_us:
                time.sleep(parameters.interval_us / 1e6)
            yield messages_pb2.StreamingOutputCallResponse(payload=messages_pb2.Payload(body=b"\x00" * parameters.size))

    def StreamingOutputCall(self, request, context):
        _echo_metadata(context)
        yield from self._respond(request, context)

    def FullDuplexCall(self, request_iterator, context):
        _echo_metadata(context)
        for request in request_iterator:
            yield from self._respond(request, context)


def main():
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=16))
    test_pb2_grpc.add_TestServiceServicer_to_server(TestService(), server)
    if len(sys.argv) > 1 and sys.argv[1] == "--tls":
        with open(sys.argv[2], "rb") as cert, open(sys.argv[3], "rb") as key:
            credentials = grpc.ssl_server_credentials([(key.read(), cert.read())])
        port = server.add_secure_port("127.0.0.1:0", credentials)
    else:
        port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(f"listening on 127.0.0.1:{port}", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
