"""Bad input never crashes the server: malformed HTTP/2, wrong content type, oversize and
garbage messages each get the right gRPC status or HTTP/2 error, and the server keeps
serving other clients."""
import random
import socket
import struct

import grpc
import h2.config
import h2.connection
import h2.events
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc


def _assert_still_serving(server):
    with grpc.insecure_channel(server.address) as ch:
        response = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert response.status == health_pb2.HealthCheckResponse.SERVING
    assert server.process.poll() is None, "server process died"


class RawH2:
    """A minimal HTTP/2 client (h2 library) for requests grpcio would never send."""

    def __init__(self, server):
        self.sock = socket.create_connection((server.host, server.port), timeout=5)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.sock.sendall(self.conn.data_to_send())

    def request(self, headers, body=b"", end=True):
        stream_id = self.conn.get_next_available_stream_id()
        self.conn.send_headers(stream_id, headers, end_stream=not body and end)
        if body:
            self.conn.send_data(stream_id, body, end_stream=end)
        self.sock.sendall(self.conn.data_to_send())
        return stream_id

    def responses(self, stream_id):
        """Collects headers, data and trailers until the stream ends or is reset."""
        headers, data, trailers, reset = {}, b"", {}, None
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                return headers, data, trailers, "connection closed"
            for event in self.conn.receive_data(chunk):
                if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream_id:
                    headers = dict(event.headers)
                elif isinstance(event, h2.events.DataReceived) and event.stream_id == stream_id:
                    data += event.data
                    self.conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
                elif isinstance(event, h2.events.TrailersReceived) and event.stream_id == stream_id:
                    trailers = dict(event.headers)
                elif isinstance(event, h2.events.StreamReset) and event.stream_id == stream_id:
                    reset = event.error_code
                if isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)) and event.stream_id == stream_id:
                    self.sock.sendall(self.conn.data_to_send())
                    return headers, data, trailers, reset
            self.sock.sendall(self.conn.data_to_send())

    def close(self):
        self.sock.close()


def _grpc_headers(path="/grpc.health.v1.Health/Check", content_type="application/grpc"):
    return [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"),
            ("content-type", content_type), ("te", "trailers")]


def _status(headers, trailers):
    merged = {**headers, **trailers}
    return int(merged["grpc-status"]) if "grpc-status" in merged else None, merged.get("grpc-message", "")


def test_wrong_content_type_is_415(h2c_server):
    client = RawH2(h2c_server)
    stream = client.request(_grpc_headers(content_type="application/json"), b"{}")
    headers, _, trailers, _ = client.responses(stream)
    assert headers[":status"] == "415"
    client.close()
    _assert_still_serving(h2c_server)


def test_get_is_refused(h2c_server):
    client = RawH2(h2c_server)
    headers = [h if h[0] != ":method" else (":method", "GET") for h in _grpc_headers()]
    stream = client.request(headers)
    response_headers, _, _, _ = client.responses(stream)
    assert response_headers[":status"] == "405"
    client.close()


@pytest.mark.parametrize("body", [b"\x00\x00\x00\x00\x05\xff\xff\xff", b"\x00\x00\x00\x00\x03\x0a\xff\xff",
                                  b"\x00\x00\x00", b"\x01\x00\x00\x00\x01\x00"],
                         ids=["garbage-protobuf", "bad-length-delimited", "truncated-prefix", "compressed-flag"])
def test_garbage_messages_get_a_status(h2c_server, body):
    client = RawH2(h2c_server)
    stream = client.request(_grpc_headers(), body)
    headers, _, trailers, reset = client.responses(stream)
    code, message = _status(headers, trailers)
    assert code in (grpc.StatusCode.INTERNAL.value[0], grpc.StatusCode.INVALID_ARGUMENT.value[0]), (headers, trailers, reset)
    assert message
    client.close()
    _assert_still_serving(h2c_server)


def test_declared_oversize_message_is_resource_exhausted(h2c_server):
    client = RawH2(h2c_server)
    stream = client.request(_grpc_headers(), b"\x00" + struct.pack(">I", 1 << 31) + b"\x00" * 16)
    headers, _, trailers, _ = client.responses(stream)
    code, message = _status(headers, trailers)
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    assert "limit" in message
    client.close()


def test_oversize_metadata_resets_the_stream(h2c_server):
    client = RawH2(h2c_server)
    stream = client.request(_grpc_headers() + [("x-big", "a" * 12000), ("x-big2", "b" * 12000)], b"\x00" * 5)
    headers, _, trailers, reset = client.responses(stream)
    assert reset is not None or headers.get(":status") is None or _status(headers, trailers)[0] != 0
    client.close()
    _assert_still_serving(h2c_server)


def test_random_bytes_instead_of_http2(h2c_server):
    rng = random.Random(1234)
    for _ in range(20):
        sock = socket.create_connection((h2c_server.host, h2c_server.port), timeout=5)
        sock.sendall(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4096))))
        try:
            while sock.recv(65536):
                pass
        except (ConnectionResetError, socket.timeout):
            pass
        sock.close()
    _assert_still_serving(h2c_server)


def test_mutated_frames_after_a_valid_preface(h2c_server):
    """Seeded random mutation of a valid request: the server answers or closes, never dies."""
    rng = random.Random(99)
    template = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    template.initiate_connection()
    stream_id = template.get_next_available_stream_id()
    template.send_headers(stream_id, _grpc_headers())
    template.send_data(stream_id, b"\x00\x00\x00\x00\x02\x0a\x00", end_stream=True)
    valid = template.data_to_send()
    preface_length = 24
    for _ in range(200):
        mutated = bytearray(valid)
        for _ in range(rng.randint(1, 8)):
            position = rng.randrange(preface_length, len(mutated))
            mutated[position] = rng.getrandbits(8)
        sock = socket.create_connection((h2c_server.host, h2c_server.port), timeout=5)
        try:
            sock.sendall(bytes(mutated))
            sock.settimeout(0.5)
            while sock.recv(65536):
                pass
        except (ConnectionResetError, socket.timeout, BrokenPipeError):
            pass
        sock.close()
    _assert_still_serving(h2c_server)
