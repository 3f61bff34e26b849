"""Large messages through the real binary, and a slow reader that loses nothing. (That the
server actually waits for a slow reader is asserted precisely in the Swift RPC tests,
which can count the handler's completed sends.)"""
import time

import grpc
import pytest
from grpc.testing import messages_pb2, test_pb2_grpc

SIX_MIB = 6 << 20


def test_large_unary_both_ways(channel):
    """A 6 MiB request and a 6 MiB response (over h2c and TLS)."""
    stub = test_pb2_grpc.TestServiceStub(channel)
    request = messages_pb2.SimpleRequest(response_size=SIX_MIB, payload=messages_pb2.Payload(body=b"\x00" * SIX_MIB))
    response = stub.UnaryCall(request, timeout=60)
    assert len(response.payload.body) == SIX_MIB


def test_request_over_the_limit_is_resource_exhausted(tmp_path):
    from conftest import RunningServer

    server = RunningServer(["--enable-interop-test-service", "--max-receive-message-bytes", str(1 << 20)], tmp_path / "d")
    try:
        with grpc.insecure_channel(server.address, options=[("grpc.max_send_message_length", 8 << 20)]) as ch:
            stub = test_pb2_grpc.TestServiceStub(ch)
            with pytest.raises(grpc.RpcError) as info:
                stub.UnaryCall(messages_pb2.SimpleRequest(payload=messages_pb2.Payload(body=b"\x00" * (2 << 20))), timeout=30)
            assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "limit" in info.value.details()
            # The connection is still usable for calls within the limit.
            assert stub.UnaryCall(messages_pb2.SimpleRequest(response_size=10), timeout=10).payload.body == b"\x00" * 10
    finally:
        assert server.stop() == 0


def test_response_over_the_send_limit_is_resource_exhausted(tmp_path):
    from conftest import RunningServer

    server = RunningServer(["--enable-interop-test-service", "--max-send-message-bytes", str(1 << 20)], tmp_path / "d")
    try:
        with grpc.insecure_channel(server.address) as ch:
            with pytest.raises(grpc.RpcError) as info:
                test_pb2_grpc.TestServiceStub(ch).UnaryCall(messages_pb2.SimpleRequest(response_size=2 << 20), timeout=30)
            assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        assert server.stop() == 0


def test_slow_reader_loses_nothing(h2c_server):
    """The server streams 200 x 256 KiB (50 MiB) to a client that pauses after the first
    message; every message arrives intact and in order."""
    sizes = [256 << 10] * 200
    request = messages_pb2.StreamingOutputCallRequest(
        response_parameters=[messages_pb2.ResponseParameters(size=s) for s in sizes])
    with grpc.insecure_channel(h2c_server.address, options=[("grpc.http2.bdp_probe", 0)]) as ch:
        responses = test_pb2_grpc.TestServiceStub(ch).StreamingOutputCall(request, timeout=120)
        first = next(responses)
        time.sleep(1.0)
        received = [first] + list(responses)
    assert [len(r.payload.body) for r in received] == sizes
