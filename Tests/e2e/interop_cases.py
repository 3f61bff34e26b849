"""The gRPC interoperability test cases (grpc/doc/interop-test-descriptions.md), written
against grpcio stubs. Each function takes a channel and raises AssertionError on failure."""
import grpc

from grpc.testing import empty_pb2, messages_pb2, test_pb2_grpc

SPECIAL_STATUS_MESSAGE = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n"


def _payload(size):
    return messages_pb2.Payload(body=b"\x00" * size)


def _expect_code(call, code, message=None):
    """Runs `call`, which must fail with `code` (and `message`, when given)."""
    try:
        call()
    except grpc.RpcError as error:
        assert error.code() == code, error
        assert message is None or error.details() == message, repr(error.details())
    else:
        raise AssertionError(f"expected {code}")


def empty_unary(channel):
    response = test_pb2_grpc.TestServiceStub(channel).EmptyCall(empty_pb2.Empty())
    assert isinstance(response, empty_pb2.Empty)


def large_unary(channel):
    request = messages_pb2.SimpleRequest(response_size=314159, payload=_payload(271828))
    response = test_pb2_grpc.TestServiceStub(channel).UnaryCall(request)
    assert response.payload.body == b"\x00" * 314159


def client_streaming(channel):
    requests = (messages_pb2.StreamingInputCallRequest(payload=_payload(size)) for size in (27182, 8, 1828, 45904))
    response = test_pb2_grpc.TestServiceStub(channel).StreamingInputCall(requests)
    assert response.aggregated_payload_size == 74922


def server_streaming(channel):
    sizes = (31415, 9, 2653, 58979)
    request = messages_pb2.StreamingOutputCallRequest(
        response_parameters=[messages_pb2.ResponseParameters(size=size) for size in sizes])
    responses = list(test_pb2_grpc.TestServiceStub(channel).StreamingOutputCall(request))
    assert [len(r.payload.body) for r in responses] == list(sizes)
    assert all(r.payload.body == b"\x00" * len(r.payload.body) for r in responses)


class _Pipe:
    """A request iterator the test feeds one message at a time."""

    def __init__(self):
        import queue
        self._queue = queue.Queue()

    def add(self, item):
        self._queue.put(item)

    def close(self):
        self._queue.put(None)

    def __iter__(self):
        return self

    def __next__(self):
        item = self._queue.get()
        if item is None:
            raise StopIteration()
        return item


def _ping_pong_request(response_size, payload_size):
    return messages_pb2.StreamingOutputCallRequest(
        response_parameters=[messages_pb2.ResponseParameters(size=response_size)], payload=_payload(payload_size))


def ping_pong(channel):
    pipe = _Pipe()
    responses = test_pb2_grpc.TestServiceStub(channel).FullDuplexCall(pipe)
    for response_size, payload_size in ((31415, 27182), (9, 8), (2653, 1828), (58979, 45904)):
        pipe.add(_ping_pong_request(response_size, payload_size))
        response = next(responses)
        assert len(response.payload.body) == response_size
    pipe.close()
    assert list(responses) == []


def empty_stream(channel):
    responses = test_pb2_grpc.TestServiceStub(channel).FullDuplexCall(iter([]))
    assert list(responses) == []


def timeout_on_sleeping_server(channel):
    pipe = _Pipe()
    responses = test_pb2_grpc.TestServiceStub(channel).FullDuplexCall(pipe, timeout=0.001)
    pipe.add(messages_pb2.StreamingOutputCallRequest(payload=_payload(27182)))
    try:
        _expect_code(lambda: next(responses), grpc.StatusCode.DEADLINE_EXCEEDED)
    finally:
        pipe.close()


def cancel_after_begin(channel):
    pipe = _Pipe()
    future = test_pb2_grpc.TestServiceStub(channel).StreamingInputCall.future(pipe)
    future.cancel()
    assert future.cancelled()
    pipe.close()


def cancel_after_first_response(channel):
    pipe = _Pipe()
    responses = test_pb2_grpc.TestServiceStub(channel).FullDuplexCall(pipe)
    pipe.add(_ping_pong_request(31415, 27182))
    assert len(next(responses).payload.body) == 31415
    responses.cancel()
    try:
        _expect_code(lambda: next(responses), grpc.StatusCode.CANCELLED)
    finally:
        pipe.close()


def status_code_and_message(channel):
    stub = test_pb2_grpc.TestServiceStub(channel)
    status = messages_pb2.EchoStatus(code=2, message="test status message")
    _expect_code(lambda: stub.UnaryCall(messages_pb2.SimpleRequest(response_status=status)),
                   grpc.StatusCode.UNKNOWN, "test status message")
    _expect_code(lambda: list(stub.FullDuplexCall(iter([messages_pb2.StreamingOutputCallRequest(response_status=status)]))),
                   grpc.StatusCode.UNKNOWN, "test status message")


def special_status_message(channel):
    stub = test_pb2_grpc.TestServiceStub(channel)
    status = messages_pb2.EchoStatus(code=2, message=SPECIAL_STATUS_MESSAGE)
    _expect_code(lambda: stub.UnaryCall(messages_pb2.SimpleRequest(response_status=status)),
                   grpc.StatusCode.UNKNOWN, SPECIAL_STATUS_MESSAGE)


def custom_metadata(channel):
    stub = test_pb2_grpc.TestServiceStub(channel)
    metadata = (("x-grpc-test-echo-initial", "test_initial_metadata_value"),
                ("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab"))
    request = messages_pb2.SimpleRequest(response_size=314159, payload=_payload(271828))
    response, call = stub.UnaryCall.with_call(request, metadata=metadata)
    assert len(response.payload.body) == 314159
    assert ("x-grpc-test-echo-initial", "test_initial_metadata_value") in call.initial_metadata()
    assert ("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab") in call.trailing_metadata()

    responses = stub.FullDuplexCall(iter([_ping_pong_request(314159, 271828)]), metadata=metadata)
    assert [len(r.payload.body) for r in responses] == [314159]
    assert ("x-grpc-test-echo-initial", "test_initial_metadata_value") in responses.initial_metadata()
    assert ("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab") in responses.trailing_metadata()


def unimplemented_method(channel):
    stub = test_pb2_grpc.TestServiceStub(channel)
    _expect_code(lambda: stub.UnimplementedCall(empty_pb2.Empty()), grpc.StatusCode.UNIMPLEMENTED)


def unimplemented_service(channel):
    stub = test_pb2_grpc.UnimplementedServiceStub(channel)
    _expect_code(lambda: stub.UnimplementedCall(empty_pb2.Empty()), grpc.StatusCode.UNIMPLEMENTED)


ALL_CASES = [
    empty_unary, large_unary, client_streaming, server_streaming, ping_pong, empty_stream,
    timeout_on_sleeping_server, cancel_after_begin, cancel_after_first_response,
    status_code_and_message, special_status_message, custom_metadata, unimplemented_method,
    unimplemented_service,
]


def client_compressed_unary(channel):
    """grpcio's form of the case: compression chosen per call (grpcio cannot set the flag per
    message, so client_compressed_streaming is the Ruby client's alone)."""
    stub = test_pb2_grpc.TestServiceStub(channel)

    def request(expect):
        return messages_pb2.SimpleRequest(response_size=314159, payload=_payload(271828),
                                          expect_compressed=messages_pb2.BoolValue(value=expect))
    # The probe: an uncompressed request that says it is compressed.
    _expect_code(lambda: stub.UnaryCall(request(True), compression=grpc.Compression.NoCompression),
                 grpc.StatusCode.INVALID_ARGUMENT)
    for algorithm in (grpc.Compression.Gzip, grpc.Compression.Deflate):
        assert len(stub.UnaryCall(request(True), compression=algorithm).payload.body) == 314159
    assert len(stub.UnaryCall(request(False), compression=grpc.Compression.NoCompression).payload.body) == 314159


# Not in ALL_CASES: our Swift interop client does not compress.
COMPRESSION_CASES = [client_compressed_unary]
