"""gRPC compression against the real server: grpcio channels that compress every request
(gzip, deflate) through the vector and graph services, grpcio's client_compressed_unary,
and raw HTTP/2 checks of what only the wire shows: the response's grpc-encoding header and
message flag, the refusals (unsupported encoding, flag without encoding, corrupt data) and a
zip bomb (1 GiB of zeros in about 1 MB) that must end RESOURCE_EXHAUSTED with the server's
memory bounded and the connection still serving."""
import pathlib
import re
import struct
import zlib

import grpc
import h2.events
import numpy as np
import pytest
import ruvector
from grpc.testing import messages_pb2
from ruvector import convert
from ruvector.v1 import vector_pb2

import interop_cases
from conftest import RunningServer
from test_hostile_input import RawH2, _assert_still_serving, _grpc_headers, _status

UNARY = "/grpc.testing.TestService/UnaryCall"
SEARCH = "/ruvector.v1.VectorService/Search"
RECEIVE_LIMIT = 8 << 20
GZIP, DEFLATE = 31, 15      # zlib wbits of each framing


@pytest.fixture(scope="module")
def compression_server(tmp_path_factory):
    """Interop service on, responses compressed with gzip (the policy's other defaults), an
    8 MiB receive limit (for the bomb)."""
    server = RunningServer(["--enable-interop-test-service", "--max-receive-message-bytes", str(RECEIVE_LIMIT),
                            "--response-compression", "gzip"],
                           tmp_path_factory.mktemp("data-compression"))
    yield server
    assert server.stop() == 0, "".join(server.stderr_lines)


def _compress(data, wbits, level=6):
    compressor = zlib.compressobj(level, zlib.DEFLATED, wbits)
    return compressor.compress(data) + compressor.flush()


def _frame(message, compressed=False):
    return struct.pack(">BI", 1 if compressed else 0, len(message)) + message


def _messages(body):
    """(flag, bytes) of each length-prefixed message in a response body."""
    out = []
    while body:
        flag, length = struct.unpack(">BI", body[:5])
        out.append((flag, body[5:5 + length]))
        body = body[5 + length:]
    return out


def _headers(path=UNARY, **extra):
    return _grpc_headers(path) + [(name.replace("_", "-"), value) for name, value in extra.items()]


def _call(client, headers, body):
    stream = client.request(headers, body)
    return client.responses(stream)


# grpcio channels that compress every request


@pytest.mark.parametrize("algorithm", [grpc.Compression.Gzip, grpc.Compression.Deflate], ids=["gzip", "deflate"])
def test_compressed_channel_through_the_services(compression_server, monkeypatch, algorithm):
    """The Python client on a channel with compression on for the whole channel: every request
    goes compressed (the server before compression refused them all with UNIMPLEMENTED), and
    responses come back compressed where the server's policy says so."""
    real = grpc.insecure_channel
    monkeypatch.setattr(grpc, "insecure_channel",
                        lambda target, options=None, compression=None: real(target, options=options, compression=algorithm))
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(300, 16)).astype(np.float32)
    name = f"compressed-{algorithm.name.lower()}"
    with ruvector.Client(compression_server.address) as client:
        client.create_collection(name, 16, "l2")
        client.upsert(name, list(range(300)), vectors, [{"title": f"document number {i}", "n": i} for i in range(300)])
        hits = client.search(name, vectors[42], k=50)
        assert hits[0].id == 42 and len(hits) == 50 and hits[0].payload["title"] == "document number 42"
        streamed = list(client.search_stream(name, vectors[:20], k=5))
        assert [h[0].id for h in streamed] == list(range(20))
        client.graph.execute("UNWIND range(1, 500) AS i CREATE (:Doc {n: i, text: 'a compressible text ' + toString(i)})")
        result = client.graph.execute("MATCH (d:Doc) RETURN d.n AS n, d.text AS text ORDER BY n", batch_rows=100)
        assert [row["n"] for row in result.rows] == list(range(1, 501))
        client.graph.execute("MATCH (d:Doc) DETACH DELETE d")
        client.delete_collection(name)


@pytest.mark.parametrize("case", interop_cases.COMPRESSION_CASES, ids=lambda case: case.__name__)
def test_grpcio_compression_interop(compression_server, case):
    with grpc.insecure_channel(compression_server.address) as channel:
        case(channel)


# What the wire shows


def _unary_request(size, response_compressed=None):
    request = messages_pb2.SimpleRequest(response_size=size)
    if response_compressed is not None:
        request.response_compressed.value = response_compressed
    return request.SerializeToString()


@pytest.mark.parametrize("accept, size, asked, encoding, flag", [
    ("identity,deflate,gzip", 20000, None, "gzip", 1),     # grpcio's header, above the threshold
    ("gzip", 20000, None, "gzip", 1),
    (None, 20000, None, None, 0),                          # a client that accepts nothing
    ("deflate", 20000, None, None, 0),                     # configured gzip, not accepted
    ("identity,deflate,gzip", 100, None, "gzip", 0),       # under the threshold (announced, flag 0)
    ("identity,deflate,gzip", 10, True, "gzip", 1),        # response_compressed: true
    ("deflate", 10, True, "deflate", 1),                   # ... with what the client accepts
    ("identity,deflate,gzip", 20000, False, "gzip", 0),    # response_compressed: false
], ids=["grpcio", "gzip", "no-accept", "deflate-only", "small", "asked", "asked-deflate", "asked-plain"])
def test_response_flag_and_encoding_on_the_wire(compression_server, accept, size, asked, encoding, flag):
    client = RawH2(compression_server)
    extra = {"grpc_accept_encoding": accept} if accept else {}
    headers, body, trailers, _ = _call(client, _headers(**extra), _frame(_unary_request(size, asked)))
    client.close()
    assert _status(headers, trailers)[0] == 0, (headers, trailers)
    assert headers.get("grpc-accept-encoding") == "identity,deflate,gzip"
    assert headers.get("grpc-encoding") == encoding
    [(got_flag, message)] = _messages(body)
    assert got_flag == flag
    if flag:
        message = zlib.decompress(message, GZIP if encoding == "gzip" else DEFLATE)
    assert len(messages_pb2.SimpleResponse.FromString(message).payload.body) == size


def test_the_default_server_answers_grpcio_uncompressed_unless_asked(tmp_path):
    """Off by default: a client listing gzip gets plain responses (the spec allows it), except
    a message the handler is asked to compress (response_compressed)."""
    server = RunningServer(["--enable-interop-test-service"], tmp_path / "data")
    try:
        for asked, encoding, flag in [(None, None, 0), (True, "gzip", 1)]:
            client = RawH2(server)
            headers, body, trailers, _ = _call(client, _headers(grpc_accept_encoding="identity,deflate,gzip"),
                                               _frame(_unary_request(20000 if asked is None else 10, asked)))
            client.close()
            assert _status(headers, trailers)[0] == 0, (headers, trailers)
            assert headers.get("grpc-encoding") == encoding
            [(got_flag, _)] = _messages(body)
            assert got_flag == flag
    finally:
        assert server.stop() == 0


def test_search_responses_compress_payloads_but_not_vectors(compression_server):
    """Real search responses: hits with text payloads go compressed; hits with float vectors
    (which gzip shrinks by a few percent at a high CPU cost) go plain by the default rule."""
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(200, 384)).astype(np.float32)
    with ruvector.Client(compression_server.address) as db:
        db.create_collection("wire", 384)
        db.upsert("wire", list(range(200)), vectors, [{"title": f"a document about topic {i % 7}", "i": i} for i in range(200)])
    client = RawH2(compression_server)
    for with_payload, with_vectors, expected_flag in [(True, False, 1), (False, True, 0), (True, True, 0)]:
        request = vector_pb2.SearchRequest(collection="wire", vector=convert.to_vector(vectors[0]), k=50)
        getattr(request, "with").with_payload = with_payload
        getattr(request, "with").with_vectors = with_vectors
        headers, body, trailers, _ = _call(client, _headers(SEARCH, grpc_accept_encoding="identity,deflate,gzip"),
                                           _frame(request.SerializeToString()))
        assert _status(headers, trailers)[0] == 0, (headers, trailers)
        [(flag, message)] = _messages(body)
        assert flag == expected_flag, (with_payload, with_vectors, len(message))
        if flag:
            message = zlib.decompress(message, GZIP)
        response = vector_pb2.SearchResponse.FromString(message)
        assert len(response.hits) == 50 and convert.from_id(response.hits[0].id) == 0
    client.close()


def test_compressed_requests_are_read(compression_server):
    for encoding, wbits in (("gzip", GZIP), ("deflate", DEFLATE)):
        client = RawH2(compression_server)
        request = messages_pb2.SimpleRequest(response_size=5, payload=messages_pb2.Payload(body=b"x" * 100000),
                                             expect_compressed=messages_pb2.BoolValue(value=True))
        headers, body, trailers, _ = _call(client, _headers(grpc_encoding=encoding),
                                           _frame(_compress(request.SerializeToString(), wbits), compressed=True))
        client.close()
        assert _status(headers, trailers)[0] == 0, (encoding, headers, trailers)


def test_unsupported_encoding_is_unimplemented_and_lists_ours(compression_server):
    client = RawH2(compression_server)
    headers, _, trailers, _ = _call(client, _headers(grpc_encoding="snappy"), _frame(b"", compressed=True))
    client.close()
    code, message = _status(headers, trailers)
    assert code == grpc.StatusCode.UNIMPLEMENTED.value[0] and "snappy" in message
    assert {"gzip", "deflate", "identity"} <= set(headers["grpc-accept-encoding"].split(","))


def test_flag_without_encoding_is_internal(compression_server):
    client = RawH2(compression_server)
    headers, _, trailers, _ = _call(client, _headers(), _frame(_compress(_unary_request(5), GZIP), compressed=True))
    client.close()
    code, message = _status(headers, trailers)
    assert code == grpc.StatusCode.INTERNAL.value[0] and "grpc-encoding" in message


@pytest.mark.parametrize("corrupt", ["flipped", "truncated", "wrong-framing"])
def test_corrupt_compressed_data_is_internal_and_the_connection_serves_on(compression_server, corrupt):
    good = _compress(_unary_request(5), GZIP)
    bad = {"flipped": good[:12] + bytes(b ^ 0xFF for b in good[12:20]) + good[20:],
           "truncated": good[:-6], "wrong-framing": _compress(_unary_request(5), DEFLATE)}[corrupt]
    client = RawH2(compression_server)
    headers, _, trailers, _ = _call(client, _headers(grpc_encoding="gzip"), _frame(bad, compressed=True))
    code, message = _status(headers, trailers)
    assert code == grpc.StatusCode.INTERNAL.value[0] and "gzip" in message, (headers, trailers)
    # The same connection takes the next call.
    headers, body, trailers, _ = _call(client, _headers(grpc_encoding="gzip"), _frame(good, compressed=True))
    client.close()
    assert _status(headers, trailers)[0] == 0 and len(_messages(body)) == 1


# The zip bomb


def _resident_kib(pid):
    status = pathlib.Path(f"/proc/{pid}/status").read_text()
    return {key: int(value) for key, value in re.findall(r"(VmRSS|VmHWM):\s+(\d+) kB", status)}


def _send_body(client, stream_id, body):
    """Sends `body` within the flow-control windows (the server answers once the whole
    message is in, so no response event comes before the end)."""
    offset = 0
    while offset < len(body):
        room = min(client.conn.local_flow_control_window(stream_id), client.conn.max_outbound_frame_size)
        if room > 0:
            chunk = body[offset:offset + room]
            offset += len(chunk)
            client.conn.send_data(stream_id, chunk, end_stream=offset == len(body))
            client.sock.sendall(client.conn.data_to_send())
            continue
        data = client.sock.recv(65536)
        assert data, "connection closed while sending"
        for event in client.conn.receive_data(data):
            assert not isinstance(event, (h2.events.ResponseReceived, h2.events.StreamReset)), event
        client.sock.sendall(client.conn.data_to_send())


@pytest.mark.parametrize("encoding, wbits", [("gzip", GZIP), ("deflate", DEFLATE)])
def test_zip_bomb_is_resource_exhausted_with_memory_bounded(compression_server, encoding, wbits):
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    zeros = bytes(1 << 20)
    bomb = b"".join(compressor.compress(zeros) for _ in range(1024)) + compressor.flush()
    assert len(bomb) < 2 << 20          # 1 GiB of zeros
    pid = compression_server.process.pid
    # Reset the server's peak resident set (VmHWM) so the peak measured is this call's.
    pathlib.Path(f"/proc/{pid}/clear_refs").write_text("5")
    before = _resident_kib(pid)

    client = RawH2(compression_server)
    stream_id = client.conn.get_next_available_stream_id()
    client.conn.send_headers(stream_id, _headers(grpc_encoding=encoding))
    framed = struct.pack(">BI", 1, len(bomb)) + bomb
    _send_body(client, stream_id, framed)
    headers, _, trailers, _ = client.responses(stream_id)
    code, message = _status(headers, trailers)
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0] and "max_receive_message_bytes" in message, (headers, trailers)

    after = _resident_kib(pid)
    grown_mib = (after["VmHWM"] - before["VmRSS"]) / 1024
    # The limit (8 MiB) plus the bomb's own bytes in flight plus slack; 1 GiB would show.
    assert grown_mib < 64, f"server peak resident set grew {grown_mib:.0f} MiB"
    # The same connection, and the server, still serve.
    headers, _, trailers, _ = _call(client, _headers(grpc_encoding=encoding),
                                    _frame(_compress(_unary_request(5), wbits), compressed=True))
    client.close()
    assert _status(headers, trailers)[0] == 0, (headers, trailers)
    _assert_still_serving(compression_server)
