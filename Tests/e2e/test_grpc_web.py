"""gRPC-Web on the server's main port (grpc/grpc doc/PROTOCOL-WEB.md), with raw HTTP requests:
HTTP/1.1 through http.client and sockets, HTTP/2 through the `h2` package, plaintext and TLS.
Every content type, unary and server-streaming calls, statuses in trailer frames and in
trailers-only responses, deadlines, credentials, CORS, and hostile HTTP/1.1 requests."""
from __future__ import annotations

import base64
import http.client
import socket
import ssl
import struct
import re
import time
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import pytest
from ruvector.v1 import common_pb2, graph_pb2, vector_pb2

from conftest import TEST_CERTS, TLS_HOST_OVERRIDE, RunningServer, wait_for_metrics

CONTENT_TYPES = ["application/grpc-web", "application/grpc-web+proto",
                 "application/grpc-web-text", "application/grpc-web-text+proto"]
VECTOR = "/ruvector.v1.VectorService/"
ORIGIN = "http://console.test:8080"
API_KEY = "web-key-0123456789abcdef0123"


@dataclass
class WebResponse:
    """What a gRPC-Web call returned: HTTP status and headers, messages, and the gRPC status
    (from the trailer frame, or from the headers for a trailers-only response)."""
    http_status: int
    headers: dict[str, str]
    messages: list[bytes] = field(default_factory=list)
    trailers: dict[str, str] = field(default_factory=dict)
    raw_body: bytes = b""

    @property
    def grpc_status(self) -> int:
        """The call's status code; the trailer frame wins over headers."""
        return int(self.trailers.get("grpc-status", self.headers.get("grpc-status", "-1")))

    @property
    def grpc_message(self) -> str:
        """The status message, percent-decoded."""
        from urllib.parse import unquote
        return unquote(self.trailers.get("grpc-message", self.headers.get("grpc-message", "")))


def frame(message: bytes, flag: int = 0) -> bytes:
    """A length-prefixed gRPC message."""
    return struct.pack(">BI", flag, len(message)) + message


def encode_body(message: bytes, content_type: str) -> bytes:
    """The request body for `message` in `content_type`'s encoding."""
    framed = frame(message)
    return base64.b64encode(framed) if "text" in content_type else framed


def decode_text(body: bytes) -> bytes:
    """Decodes a text-mode body: base64 chunks, each possibly padded, back to back."""
    out = bytearray()
    for start in range(0, len(body), 4):
        out += base64.b64decode(body[start:start + 4])
    assert len(body) % 4 == 0, body
    return bytes(out)


def parse_body(body: bytes, content_type: str) -> tuple[list[bytes], dict[str, str]]:
    """Messages and trailers of a response body; the trailer frame must come last."""
    data = decode_text(body) if "text" in content_type else body
    messages, trailers, offset = [], {}, 0
    while offset < len(data):
        assert not trailers, "a frame after the trailer frame"
        flag, length = struct.unpack(">BI", data[offset:offset + 5])
        payload = data[offset + 5:offset + 5 + length]
        assert len(payload) == length, "truncated frame"
        offset += 5 + length
        if flag & 0x80:
            for line in payload.decode().split("\r\n"):
                if line:
                    name, value = line.split(":", 1)
                    assert name == name.lower()
                    trailers[name] = value.strip()
        else:
            assert flag == 0
            messages.append(payload)
    return messages, trailers


def call_http1(server, path: str, body: bytes, content_type: str, headers=(), tls=False,
               timeout: float = 20) -> WebResponse:
    """One gRPC-Web call over HTTP/1.1 (http.client, Content-Length body)."""
    if tls:
        context = ssl.create_default_context(cafile=str(TEST_CERTS / "ca.pem"))
        context.set_alpn_protocols(["http/1.1"])
        conn = http.client.HTTPSConnection(server.host, server.port, timeout=timeout, context=context)
        conn._tunnel_host = None
        conn.sock = context.wrap_socket(socket.create_connection((server.host, server.port), timeout=timeout),
                                        server_hostname=TLS_HOST_OVERRIDE)
        assert conn.sock.selected_alpn_protocol() == "http/1.1"
    else:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers={"content-type": content_type, "x-grpc-web": "1", **dict(headers)})
        response = conn.getresponse()
        raw = response.read()
        got = {k.lower(): v for k, v in response.getheaders()}
        messages, trailers = parse_body(raw, content_type) if raw else ([], {})
        return WebResponse(response.status, got, messages, trailers, raw)
    finally:
        conn.close()


def call_http2(server, path: str, body: bytes, content_type: str, headers=(), method="POST",
               timeout: float = 20) -> WebResponse:
    """One gRPC-Web call over HTTP/2 with prior knowledge (the `h2` package)."""
    sock = socket.create_connection((server.host, server.port), timeout=timeout)
    try:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        conn.initiate_connection()
        stream = conn.get_next_available_stream_id()
        conn.send_headers(stream, [(":method", method), (":path", path), (":scheme", "http"),
                                   (":authority", server.address), ("content-type", content_type),
                                   ("x-grpc-web", "1"), *headers], end_stream=not body)
        if body:
            conn.send_data(stream, body, end_stream=True)
        sock.sendall(conn.data_to_send())
        status, got, raw, done = 0, {}, bytearray(), False
        deadline = time.monotonic() + timeout
        while not done and time.monotonic() < deadline:
            data = sock.recv(65536)
            if not data:
                break
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    got = dict(event.headers)
                    status = int(got.pop(":status"))
                elif isinstance(event, h2.events.DataReceived):
                    raw += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, stream)
                elif isinstance(event, h2.events.TrailersReceived):
                    raise AssertionError(f"gRPC-Web must not use HTTP/2 trailers: {event.headers}")
                elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
                    done = True
            sock.sendall(conn.data_to_send())
        assert done, "the stream did not end"
        messages, trailers = parse_body(bytes(raw), content_type) if raw else ([], {})
        return WebResponse(status, got, messages, trailers, bytes(raw))
    finally:
        sock.close()


def call(server, version: str, path: str, message: bytes, content_type="application/grpc-web+proto",
         headers=(), timeout: float = 20) -> WebResponse:
    """A gRPC-Web call over HTTP/1.1 ("1.1") or HTTP/2 ("2")."""
    body = encode_body(message, content_type)
    if version == "1.1":
        return call_http1(server, path, body, content_type, headers, timeout=timeout)
    return call_http2(server, path, body, content_type, headers, timeout=timeout)


def _point(i: int) -> vector_pb2.PointStruct:
    return vector_pb2.PointStruct(id=common_pb2.PointId(num=i),
                                  vector=common_pb2.Vector(values=[float(i), 1.0, 0.5, -1.0]),
                                  payload=common_pb2.Struct(fields={"i": common_pb2.Value(int_value=i)}))


@pytest.fixture(scope="module")
def web_server(tmp_path_factory):
    """A plaintext server that allows one browser origin."""
    server = RunningServer(["--cors-allowed-origin", ORIGIN], tmp_path_factory.mktemp("data-web"))
    yield server
    assert server.stop() == 0, "".join(server.stderr_lines)


@pytest.mark.parametrize("version", ["1.1", "2"])
@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_unary_calls_in_every_content_type_and_http_version(web_server, version, content_type):
    name = f"web_{version.replace('.', '')}_{content_type.split('/')[1].replace('-', '_').replace('+', '_')}"
    created = call(web_server, version, VECTOR + "CreateCollection", vector_pb2.CreateCollectionRequest(
        name=name, dimension=4, metric=vector_pb2.METRIC_L2).SerializeToString(), content_type)
    assert created.http_status == 200 and created.grpc_status == 0, created
    expected_type = "application/grpc-web-text+proto" if "text" in content_type else "application/grpc-web+proto"
    assert created.headers["content-type"] == expected_type
    assert "grpc-status" not in created.headers     # in the trailer frame, not the headers
    assert vector_pb2.CollectionInfo.FromString(created.messages[0]).name == name
    upsert = call(web_server, version, VECTOR + "Upsert", vector_pb2.UpsertRequest(
        collection=name, points=[_point(i) for i in range(1, 51)]).SerializeToString(), content_type)
    assert upsert.grpc_status == 0 and vector_pb2.UpdateResult.FromString(upsert.messages[0]).points_affected == 50
    search = call(web_server, version, VECTOR + "Search", vector_pb2.SearchRequest(
        collection=name, vector=common_pb2.Vector(values=[7.0, 1.0, 0.5, -1.0]), k=3).SerializeToString(), content_type)
    assert search.grpc_status == 0, search
    hits = vector_pb2.SearchResponse.FromString(search.messages[0]).hits
    assert [h.id.num for h in hits] == [7, 6, 8] or [h.id.num for h in hits][:1] == [7]
    assert len(search.messages) == 1 and search.trailers["grpc-status"] == "0"


@pytest.mark.parametrize("version", ["1.1", "2"])
def test_server_streaming_cypher_arrives_as_many_messages(web_server, version):
    request = graph_pb2.ExecuteRequest(query="UNWIND range(1, 20000) AS i RETURN i").SerializeToString()
    result = call(web_server, version, "/ruvector.v1.GraphService/Execute", request, "application/grpc-web-text")
    assert result.grpc_status == 0, result
    parts = [graph_pb2.ExecuteResponse.FromString(m) for m in result.messages]
    assert parts[0].WhichOneof("part") == "header" and parts[-1].WhichOneof("part") == "summary"
    rows = sum(len(p.rows.rows) for p in parts if p.WhichOneof("part") == "rows")
    assert rows == 20000 and len(parts) > 3
    if version == "1.1":
        assert result.headers.get("transfer-encoding") == "chunked"


@pytest.mark.parametrize("version", ["1.1", "2"])
def test_errors_before_any_message_are_trailers_only(web_server, version):
    missing = call(web_server, version, VECTOR + "Search", vector_pb2.SearchRequest(
        collection="nope", vector=common_pb2.Vector(values=[1, 2, 3, 4]), k=1).SerializeToString())
    assert missing.http_status == 200 and missing.raw_body == b""
    assert missing.headers["grpc-status"] == "5" and "nope" in missing.grpc_message
    assert missing.headers["content-type"] == "application/grpc-web+proto"
    unknown = call(web_server, version, "/ruvector.v1.VectorService/NoSuchMethod", b"")
    assert unknown.headers["grpc-status"] == "12" and unknown.raw_body == b""
    # A client-streaming method cannot be called from a browser: refused with a clear status.
    streaming = call(web_server, version, VECTOR + "UpsertStream", vector_pb2.UpsertRequest(collection="x").SerializeToString())
    assert streaming.grpc_status == 12 and "client-streaming" in streaming.grpc_message


@pytest.mark.parametrize("version", ["1.1", "2"])
def test_an_error_after_messages_is_in_the_trailer_frame(web_server, version):
    # The header part goes out first; the division by zero fails the query afterwards.
    request = graph_pb2.ExecuteRequest(query="UNWIND range(1, 3) AS i RETURN 10 / (i - 2) AS v").SerializeToString()
    result = call(web_server, version, "/ruvector.v1.GraphService/Execute", request)
    assert len(result.messages) == 1 and graph_pb2.ExecuteResponse.FromString(result.messages[0]).HasField("header")
    assert result.trailers["grpc-status"] == "3" and "division by zero" in result.grpc_message, result
    assert "grpc-status" not in result.headers


@pytest.mark.parametrize("version", ["1.1", "2"])
def test_grpc_timeout_is_honoured(web_server, version):
    heavy = graph_pb2.ExecuteRequest(
        query="UNWIND range(1, 20000) AS a UNWIND range(1, 20000) AS b RETURN count(*) AS c").SerializeToString()
    started = time.monotonic()
    result = call(web_server, version, "/ruvector.v1.GraphService/Execute", heavy, headers=[("grpc-timeout", "300m")])
    assert result.grpc_status == 4, result
    assert time.monotonic() - started < 10


def test_credentials_are_checked_as_for_grpc(tmp_path):
    server = RunningServer(["--api-key", API_KEY], tmp_path / "data")
    try:
        request = vector_pb2.ListCollectionsRequest().SerializeToString()
        for version in ("1.1", "2"):
            refused = call(server, version, VECTOR + "ListCollections", request)
            assert refused.grpc_status == 16, refused
            allowed = call(server, version, VECTOR + "ListCollections", request, headers=[("api-key", API_KEY)])
            assert allowed.grpc_status == 0, allowed
            wrong = call(server, version, VECTOR + "ListCollections", request, headers=[("authorization", "Bearer nope")])
            assert wrong.grpc_status == 16 and "nope" not in wrong.grpc_message
    finally:
        server.stop()


def _preflight(server, origin: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    conn.request("OPTIONS", VECTOR + "Search", headers={
        "origin": origin, "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, x-grpc-web, grpc-timeout, authorization"})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_cors_preflight_and_responses_for_allowed_origins_only(web_server, tmp_path):
    allowed = _preflight(web_server, ORIGIN)
    assert allowed.status == 204
    assert allowed.getheader("access-control-allow-origin") == ORIGIN
    assert "POST" in allowed.getheader("access-control-allow-methods")
    assert "authorization" in allowed.getheader("access-control-allow-headers")
    refused = _preflight(web_server, "http://evil.test")
    assert refused.status == 403 and refused.getheader("access-control-allow-origin") is None
    request = vector_pb2.ListCollectionsRequest().SerializeToString()
    for version in ("1.1", "2"):
        answered = call(web_server, version, VECTOR + "ListCollections", request, headers=[("origin", ORIGIN)])
        assert answered.headers["access-control-allow-origin"] == ORIGIN
        assert "grpc-status" in answered.headers["access-control-expose-headers"]
        other = call(web_server, version, VECTOR + "ListCollections", request, headers=[("origin", "http://evil.test")])
        assert "access-control-allow-origin" not in other.headers
    # Off by default.
    plain = RunningServer([], tmp_path / "data")
    try:
        assert _preflight(plain, ORIGIN).status == 403
    finally:
        plain.stop()


def test_http1_over_tls_with_alpn(tls_server):
    body = encode_body(vector_pb2.ListCollectionsRequest().SerializeToString(), "application/grpc-web")
    result = call_http1(tls_server, VECTOR + "ListCollections", body, "application/grpc-web", tls=True)
    assert result.grpc_status == 0, result


def _raw_exchange(server, data: bytes, timeout: float = 10) -> bytes:
    """Sends `data` on a new connection and returns everything received until the server closes."""
    with socket.create_connection((server.host, server.port), timeout=timeout) as sock:
        sock.sendall(data)
        received = bytearray()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            received += chunk
        return bytes(received)


def test_keep_alive_and_pipelined_requests_answered_in_order(web_server):
    first = encode_body(vector_pb2.GetCollectionRequest(name="pipe-a").SerializeToString(), "application/grpc-web")
    second = encode_body(vector_pb2.GetCollectionRequest(name="pipe-b").SerializeToString(), "application/grpc-web")
    request = (b"POST " + VECTOR.encode() + b"GetCollection HTTP/1.1\r\nHost: x\r\ncontent-type: application/grpc-web\r\n"
               b"content-length: %d\r\n\r\n")
    data = (request % len(first) + first + request % len(second) + second
            + b"POST /x/Y HTTP/1.1\r\nHost: x\r\nconnection: close\r\ncontent-type: application/grpc-web\r\n"
            + b"content-length: 0\r\n\r\n")
    answer = _raw_exchange(web_server, data)
    assert answer.count(b"HTTP/1.1 200 OK") == 3, answer
    assert answer.index(b"pipe-a") < answer.index(b"pipe-b")
    assert answer.rstrip().endswith(b"grpc-status: 12") or b"grpc-status: 12" in answer


def _request(head: bytes, body: bytes = b"", path: bytes = b"/ruvector.v1.VectorService/ListCollections") -> bytes:
    """A raw HTTP/1.1 request: request line and Host, then `head` (header lines) and `body`."""
    return b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n" + head + b"\r\n" + body


WEB = b"content-type: application/grpc-web\r\n"
HOSTILE = {
    "content-length and transfer-encoding": (_request(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"),
                                             b"400"),
    "two content-lengths": (_request(b"Content-Length: 5\r\nContent-Length: 6\r\n"), b"400"),
    "negative content-length": (_request(b"Content-Length: -5\r\n"), b"400"),
    "huge content-length": (_request(b"Content-Length: 99999999999999\r\n"), b"413"),
    # The call starts at the head and waits for its body; the bad chunk cancels it.
    "bad chunk size": (_request(WEB + b"Transfer-Encoding: chunked\r\n", b"2\r\n\0\0\r\nzz\r\n"), b"400"),
    "huge chunk": (_request(WEB + b"Transfer-Encoding: chunked\r\n", b"FFFFFFF\r\n"), b"413"),
    "gzip transfer coding": (_request(b"Transfer-Encoding: gzip\r\n"), b"501"),
    "oversized header": (_request(b"X-Big: " + b"a" * 40000 + b"\r\n"), b"431"),
    "too many headers": (_request(b"".join(b"X-%d: 1\r\n" % i for i in range(300))), b"431"),
    "folded header": (_request(b"X: a\r\n b\r\n"), b"400"),
    "bare LF": (b"POST /a/B HTTP/1.1\nHost: x\n\n", b"400"),
    "HTTP/1.0": (b"POST /a/B HTTP/1.0\r\nHost: x\r\n\r\n", b"505"),
    "no host": (b"POST /a/B HTTP/1.1\r\n\r\n", b"400"),
    "native gRPC over HTTP/1.1": (_request(b"connection: close\r\ncontent-type: application/grpc\r\ncontent-length: 5\r\n",
                                           b"\0\0\0\0\0"), b"415"),
    "body bigger than its message": (_request(b"connection: close\r\n" + WEB + b"content-length: 20\r\n",
                                              b"\0\0\0\0\x02ab\0\xff\xff\xff\xff" + b"x" * 6), b"200"),
    "not base64": (_request(b"connection: close\r\ncontent-type: application/grpc-web-text\r\ncontent-length: 8\r\n",
                            b"!!!!!!!!"), b"200"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_http1_requests_are_refused_and_the_server_keeps_serving(web_server, name):
    data, status = HOSTILE[name]
    answer = _raw_exchange(web_server, data)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:300]
    if status == b"200":
        assert b"grpc-status: 0" not in answer and b"grpc-status" in answer.lower()
    ok = call(web_server, "1.1", VECTOR + "ListCollections", vector_pb2.ListCollectionsRequest().SerializeToString())
    assert ok.grpc_status == 0


def test_slow_and_truncated_requests_are_cut_off(tmp_path):
    server = RunningServer(["--handshake-timeout-seconds", "1", "--stream-stall-timeout-seconds", "1"], tmp_path / "data")
    try:
        started = time.monotonic()
        # A head that never ends (slowloris): a 408 and the connection closed by the handshake timeout.
        answer = _raw_exchange(server, b"POST /ruvector.v1.VectorService/ListCollections HTTP/1.1\r\nHost: x\r\n")
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert time.monotonic() - started < 8
        # A body that stops short of its Content-Length: cut off by the stall timeout.
        started = time.monotonic()
        answer = _raw_exchange(server, b"POST /ruvector.v1.VectorService/ListCollections HTTP/1.1\r\nHost: x\r\n"
                                       b"content-type: application/grpc-web\r\ncontent-length: 50\r\n\r\n\0\0\0")
        assert time.monotonic() - started < 8
        assert answer == b"" or b"grpc-status" in answer or answer.startswith(b"HTTP/1.1 408"), answer
        ok = call(server, "1.1", VECTOR + "ListCollections", vector_pb2.ListCollectionsRequest().SerializeToString())
        assert ok.grpc_status == 0
    finally:
        server.stop()


def test_closing_an_http1_connection_cancels_its_call(tmp_path):
    server = RunningServer(["--metrics-listen", "127.0.0.1:0"], tmp_path / "data")
    try:
        metrics = server.read_metrics_url()
        heavy = encode_body(graph_pb2.ExecuteRequest(
            query="UNWIND range(1, 20000) AS a UNWIND range(1, 20000) AS b RETURN count(*) AS c").SerializeToString(),
            "application/grpc-web")
        with socket.create_connection((server.host, server.port), timeout=10) as sock:
            sock.sendall(_request(WEB + b"content-length: %d\r\n" % len(heavy), heavy,
                                  path=b"/ruvector.v1.GraphService/Execute"))
            time.sleep(0.5)
        # No deadline: only the closed connection can end the query (it would run for minutes).
        wait_for_metrics(metrics, re.compile(
            r'ruvector_rpc_requests_total\{method="/ruvector.v1.GraphService/Execute",code="CANCELLED"\} 1'))
    finally:
        server.stop()


def test_text_bodies_in_any_chunking_and_expect_continue(web_server):
    framed = frame(vector_pb2.GetCollectionRequest(name="chunky").SerializeToString())
    # Two base64 segments, each padded, cut into 3-byte HTTP chunks.
    text = base64.b64encode(framed[:4]) + base64.b64encode(framed[4:])
    conn = http.client.HTTPConnection(web_server.host, web_server.port, timeout=10)
    try:
        conn.request("POST", VECTOR + "GetCollection", body=(text[i:i + 3] for i in range(0, len(text), 3)),
                     headers={"content-type": "application/grpc-web-text"}, encode_chunked=True)
        response = conn.getresponse()
        messages, trailers = parse_body(response.read(), "application/grpc-web-text")
        assert not messages and response.getheader("grpc-status") == "5"     # trailers-only: NOT_FOUND
        assert not trailers and "chunky" in response.getheader("grpc-message")
    finally:
        conn.close()
    body = encode_body(vector_pb2.ListCollectionsRequest().SerializeToString(), "application/grpc-web")
    answer = _raw_exchange(web_server, _request(b"connection: close\r\nexpect: 100-continue\r\n" + WEB
                                                + b"content-length: %d\r\n" % len(body), body))
    assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"), answer
    assert b"grpc-status: 0" in answer
