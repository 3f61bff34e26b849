"""Connection hygiene (issue 16): connections are not held forever, stalled peers lose their
stream or connection, a connection limit refuses clearly, and an idle close is transparent
to grpcio. Every attack runs inside Guard: a canary client keeps writing meanwhile, and the
server ends alive, healthy and back near its baseline RSS.

Each server here states its limits explicitly (small timeouts so the tests are quick)."""
import resource
import select
import socket
import ssl
import struct
import time

import grpc
import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from adversarial import Guard
from conftest import TEST_CERTS, TLS_HOST_OVERRIDE, RunningServer, secure_channel
from test_metrics import _scrape, _with_metrics

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
ENHANCE_YOUR_CALM = 0xB


def _start(tmp_path, *args, metrics=False):
    if metrics:
        return _with_metrics(tmp_path / "data", *map(str, args))
    return RunningServer([*map(str, args)], tmp_path / "data")


@pytest.fixture
def servers():
    """Servers a test starts; all stopped at its end."""
    started = []
    yield started
    for server in started:
        server.stop()


def _metric(server, name):
    samples = _scrape(server.metrics_url)
    assert name in samples, f"{name} missing from the metrics"
    return samples[name]


def _wait_for_metric(server, name, value, timeout=10.0):
    deadline = time.monotonic() + timeout
    current = _metric(server, name)
    while current != value and time.monotonic() < deadline:
        time.sleep(0.05)
        current = _metric(server, name)
    assert current == value, f"{name} is {current}, expected {value}"


def _seconds_until_closed(sock, timeout, start=None):
    """Reads (and drops) what the server sends until it closes; returns the seconds that took
    (since `start`, default now), or None if the connection is still open after `timeout`."""
    start = time.monotonic() if start is None else start
    sock.settimeout(0.1)
    while time.monotonic() - start < timeout:
        try:
            if not sock.recv(65536):
                return time.monotonic() - start
        except socket.timeout:
            continue
        except ConnectionResetError:
            return time.monotonic() - start
    return None


def _grpc_headers(path):
    return [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"),
            ("content-type", "application/grpc"), ("te", "trailers")]


def _framed(message: bytes) -> bytes:
    return b"\x00" + struct.pack(">I", len(message)) + message


class H2Client:
    """A raw HTTP/2 client (the h2 library) that can misbehave on purpose."""

    def __init__(self, server, settings=None):
        self.sock = socket.create_connection((server.host, server.port), timeout=10)
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config)
        self.conn.initiate_connection()
        # Events read past the one an `until` waited for, kept for the next `until`: a server
        # may send a stream's trailers and its reset in one segment.
        self.pending = []
        if settings:
            self.conn.update_settings(settings)
        self.send()

    def send(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def events(self, timeout):
        """Events received within `timeout` s (stops early when the connection closes)."""
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            return []
        except ConnectionResetError:
            return [None]
        if not chunk:
            return [None]
        events = self.conn.receive_data(chunk)
        self.send()
        return events

    def until(self, predicate, timeout, start=None):
        """Collects events until `predicate(event)` holds; returns (event, seconds since `start`,
        default now) or (None, seconds)."""
        start = time.monotonic() if start is None else start
        while time.monotonic() - start < timeout:
            batch, self.pending = self.pending or self.events(0.2), []
            for index, event in enumerate(batch):
                if event is None or predicate(event):
                    self.pending = batch[index + 1:]
                    self.send()
                    return event, time.monotonic() - start
            self.send()   # what the predicate queued (window updates) leaves now
        return None, time.monotonic() - start

    def health_check(self):
        """A whole Health/Check call on this connection; returns its grpc-status."""
        stream = self.conn.get_next_available_stream_id()
        self.conn.send_headers(stream, _grpc_headers("/grpc.health.v1.Health/Check"))
        self.conn.send_data(stream, _framed(health_pb2.HealthCheckRequest().SerializeToString()), end_stream=True)
        self.send()
        event, _ = self.until(lambda e: isinstance(e, h2.events.TrailersReceived) and e.stream_id == stream, 10)
        assert event is not None, "the health check got no trailers"
        return dict(event.headers).get("grpc-status")

    def close(self):
        self.sock.close()


def test_ten_thousand_idle_connections_are_closed_at_the_handshake_timeout(tmp_path, servers):
    """10,000 TCP connections that never send a byte are each closed at the handshake timeout
    (not before, at most one check interval and scheduling late), the canary keeps writing,
    and they cost little memory meanwhile."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 20000), hard))
    timeout = 5.0
    server = _start(tmp_path, "--max-connections", 12000, "--handshake-timeout-seconds", timeout)
    servers.append(server)
    sockets, opened, closed_after = [], {}, {}
    poller = select.epoll()
    try:
        with Guard(server, rss_slack_bytes=128 << 20) as guard:
            for _ in range(10_000):
                # Timed from before the connect: the server's clock starts later, at accept.
                started = time.monotonic()
                sock = socket.create_connection((server.host, server.port), timeout=10)
                sockets.append(sock)
                opened[sock.fileno()] = started
                poller.register(sock.fileno(), select.EPOLLIN | select.EPOLLRDHUP)
            deadline = time.monotonic() + timeout + 20
            while len(closed_after) < len(sockets) and time.monotonic() < deadline:
                for fd, _ in poller.poll(0.5):
                    if fd not in closed_after:
                        closed_after[fd] = time.monotonic() - opened[fd]
                        poller.unregister(fd)
            peak = guard.peak_rss - guard.baseline_rss
        assert len(closed_after) == len(sockets), f"{len(sockets) - len(closed_after)} connections still open"
        earliest, latest = min(closed_after.values()), max(closed_after.values())
        assert earliest >= timeout - 0.1, f"a connection was closed after {earliest:.2f} s, before the timeout"
        assert latest <= timeout + 10, f"a connection was closed only after {latest:.2f} s"
        assert peak < 96 << 20, f"10,000 idle connections took {peak >> 20} MiB at the peak"
    finally:
        poller.close()
        for sock in sockets:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _closed_after_stopping(server, opening):
    started = time.monotonic()
    sock = socket.create_connection((server.host, server.port), timeout=10)
    sock.sendall(opening)
    elapsed = _seconds_until_closed(sock, 10, start=started)
    sock.close()
    assert elapsed is not None, "the connection is still open 10 s later"
    assert 0.9 <= elapsed <= 6.0, f"closed after {elapsed:.2f} s with a 1 s handshake timeout"


@pytest.mark.parametrize("opening", [b"", PREFACE[:16]], ids=["nothing", "half-preface"])
def test_connections_that_stop_before_the_preface_are_closed(tmp_path, servers, opening):
    server = _start(tmp_path, "--handshake-timeout-seconds", 1)
    servers.append(server)
    with Guard(server):
        _closed_after_stopping(server, opening)


@pytest.mark.parametrize("opening", [b"", b"\x16\x03\x01\x02\x00\x01"], ids=["nothing", "half-client-hello"])
def test_tls_connections_that_stop_in_the_handshake_are_closed(tmp_path, servers, opening):
    """The same over TLS, where the timeout also covers the TLS handshake (Guard's canary speaks
    h2c, so health is checked over TLS here instead)."""
    server = _start(tmp_path, "--handshake-timeout-seconds", 1,
                    "--tls-cert", TEST_CERTS / "server1.pem", "--tls-key", TEST_CERTS / "server1.key")
    servers.append(server)
    _closed_after_stopping(server, opening)
    assert server.process.poll() is None
    with secure_channel(server) as channel:
        response = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert response.status == health_pb2.HealthCheckResponse.SERVING


def test_frame_header_without_its_payload_closes_the_connection(tmp_path, servers):
    """After a valid preface, a PING frame header announcing 8 bytes that never come: the
    connection is closed with a GOAWAY that says why, after the stall timeout."""
    server = _start(tmp_path, "--stream-stall-timeout-seconds", 1)
    servers.append(server)
    with Guard(server):
        client = H2Client(server)
        client.until(lambda e: isinstance(e, h2.events.RemoteSettingsChanged), 5)
        started = time.monotonic()   # before the send: the server's clock starts at receipt
        client.sock.sendall(struct.pack(">I", 8)[1:] + bytes([6, 0]) + struct.pack(">I", 0))
        event, elapsed = client.until(lambda e: isinstance(e, h2.events.ConnectionTerminated), 10, start=started)
        client.close()
    assert isinstance(event, h2.events.ConnectionTerminated), f"no GOAWAY, got {event}"
    assert event.error_code == ENHANCE_YOUR_CALM
    assert b"in the middle of an HTTP/2 frame" in event.additional_data, event.additional_data
    assert 0.9 <= elapsed <= 6.0, f"closed after {elapsed:.2f} s with a 1 s stall timeout"


def test_half_a_tls_record_closes_the_connection(tmp_path, servers):
    """Over TLS, a peer that stops in the middle of a TLS record (after a valid handshake and
    preface) is closed after the stall timeout, like one stopped inside a frame."""
    server = _start(tmp_path, "--stream-stall-timeout-seconds", 1,
                    "--tls-cert", TEST_CERTS / "server1.pem", "--tls-key", TEST_CERTS / "server1.key")
    servers.append(server)
    context = ssl.create_default_context(cafile=str(TEST_CERTS / "ca.pem"))
    context.set_alpn_protocols(["h2"])
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=TLS_HOST_OVERRIDE)
    sock = socket.create_connection((server.host, server.port), timeout=10)
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            sock.sendall(outgoing.read())
            incoming.write(sock.recv(65536))
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    tls.write(conn.data_to_send())
    sock.sendall(outgoing.read())
    tls.write(struct.pack(">I", 8)[1:] + bytes([6, 0]) + struct.pack(">I", 0) + b"12345678")   # a whole PING
    record = outgoing.read()
    started = time.monotonic()
    sock.sendall(record[:len(record) // 2])
    elapsed = _seconds_until_closed(sock, 10, start=started)
    sock.close()
    assert elapsed is not None, "a connection stopped inside a TLS record is still open 10 s later"
    assert 0.9 <= elapsed <= 6.0, f"closed after {elapsed:.2f} s with a 1 s stall timeout"
    with secure_channel(server) as channel:
        response = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert response.status == health_pb2.HealthCheckResponse.SERVING


def test_half_a_grpc_message_fails_the_call_and_frees_the_stream(tmp_path, servers):
    """A call whose request stops 10 bytes into a 1000-byte message ends with CANCELLED and a
    message saying why after the stall timeout, its stream is reset, and the connection keeps
    serving."""
    server = _start(tmp_path, "--stream-stall-timeout-seconds", 1)
    servers.append(server)
    with Guard(server):
        client = H2Client(server)
        stream = client.conn.get_next_available_stream_id()
        client.conn.send_headers(stream, _grpc_headers("/grpc.health.v1.Health/Check"))
        client.conn.send_data(stream, b"\x00" + struct.pack(">I", 1000) + b"x" * 10)
        started = time.monotonic()
        client.send()
        trailers, elapsed = client.until(
            lambda e: isinstance(e, (h2.events.TrailersReceived, h2.events.ResponseReceived)) and e.stream_id == stream, 10,
            start=started)
        reset, _ = client.until(lambda e: isinstance(e, h2.events.StreamReset) and e.stream_id == stream, 5)
        status = client.health_check()
        client.close()
    assert trailers is not None, "the stalled call never ended"
    headers = dict(trailers.headers)
    assert headers.get("grpc-status") == "1", headers
    assert "middle of a message" in headers.get("grpc-message", ""), headers
    assert 0.9 <= elapsed <= 6.0, f"the call ended after {elapsed:.2f} s with a 1 s stall timeout"
    assert isinstance(reset, h2.events.StreamReset), "the stalled stream was not reset"
    assert status == "0", "the connection no longer serves after the stalled call"


def _large_stream_request():
    from grpc.testing import messages_pb2
    # 300 x 1 MiB: far more than any window or buffer; the server must not queue it all.
    request = messages_pb2.StreamingOutputCallRequest(
        response_parameters=[messages_pb2.ResponseParameters(size=1 << 20) for _ in range(300)])
    return _framed(request.SerializeToString())


def test_client_that_never_reads_loses_its_connection(tmp_path, servers):
    """A client opens a 300 MiB server stream and never reads its socket: once the socket and
    windows are full, the connection is closed after the stall timeout and the memory queued
    for it is freed (Guard's RSS check)."""
    server = _start(tmp_path, "--stream-stall-timeout-seconds", 1, "--enable-interop-test-service")
    servers.append(server)
    with Guard(server, rss_slack_bytes=64 << 20):
        client = H2Client(server, {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: (1 << 31) - 1})
        client.conn.increment_flow_control_window((1 << 31) - 1 - 65535)
        stream = client.conn.get_next_available_stream_id()
        client.conn.send_headers(stream, _grpc_headers("/grpc.testing.TestService/StreamingOutputCall"))
        client.conn.send_data(stream, _large_stream_request(), end_stream=True)
        client.send()
        time.sleep(4)   # not reading: the server's writes back up, then its stall timeout runs
        elapsed = _seconds_until_closed(client.sock, 10)
        client.close()
    assert elapsed is not None, "the server still holds the connection of a client that reads nothing"


def test_stream_whose_window_stays_closed_is_reset(tmp_path, servers):
    """A client reads its socket (and the connection window) but never opens the stream's
    window again: that stream is reset with CANCEL after the stall timeout, and the same
    connection still answers another call."""
    server = _start(tmp_path, "--stream-stall-timeout-seconds", 1, "--enable-interop-test-service")
    servers.append(server)
    with Guard(server, rss_slack_bytes=64 << 20):
        client = H2Client(server)
        stream = client.conn.get_next_available_stream_id()
        client.conn.send_headers(stream, _grpc_headers("/grpc.testing.TestService/StreamingOutputCall"))
        client.conn.send_data(stream, _large_stream_request(), end_stream=True)
        client.send()

        def reset_or_ack(event):
            if isinstance(event, h2.events.DataReceived) and event.flow_controlled_length:
                client.conn.increment_flow_control_window(event.flow_controlled_length)   # connection only
            return isinstance(event, h2.events.StreamReset) and event.stream_id == stream

        reset, elapsed = client.until(reset_or_ack, 10)
        status = client.health_check()
        client.close()
    assert isinstance(reset, h2.events.StreamReset), f"no reset of the stalled stream: {reset}"
    assert reset.error_code == h2.errors.ErrorCodes.CANCEL
    assert 0.9 <= elapsed <= 6.0, f"reset after {elapsed:.2f} s with a 1 s stall timeout"
    assert status == "0"


def test_past_max_connections_new_clients_are_refused_clearly(tmp_path, servers):
    limit = 3
    server = _start(tmp_path, "--max-connections", limit, "--handshake-timeout-seconds", 60, metrics=True)
    servers.append(server)
    with Guard(server):
        # Guard's health check connection may still be closing; the canary holds one slot.
        _wait_for_metric(server, "ruvector_connections_open", 1)
        holders = [H2Client(server) for _ in range(limit - 1)]
        _wait_for_metric(server, "ruvector_connections_open", limit)

        refused = H2Client(server)
        goaway, _ = refused.until(lambda e: isinstance(e, h2.events.ConnectionTerminated), 10)
        closed = _seconds_until_closed(refused.sock, 5)
        refused.close()

        # grpcio sees SETTINGS then GOAWAY, so it counts the connection as made and tries
        # again (with backoff) until the call's deadline; the GOAWAY text goes to its log.
        with grpc.insecure_channel(server.address) as channel:
            with pytest.raises(grpc.RpcError) as info:
                health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
        from test_cli import run
        code, _, cli_error = run("collections", "list", server=server)

        refused_total = _metric(server, "ruvector_connections_refused_total")
        for holder in holders:
            holder.close()
        _wait_for_metric(server, "ruvector_connections_open", 1)

    assert isinstance(goaway, h2.events.ConnectionTerminated), f"no GOAWAY for the refused client: {goaway}"
    assert goaway.error_code == ENHANCE_YOUR_CALM
    assert goaway.additional_data == f"server at its connection limit ({limit})".encode()
    assert closed is not None, "the refused connection was not closed"
    assert info.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
    assert code == 69 and f"connection limit ({limit})" in cli_error, cli_error
    assert refused_total >= 3
    warnings = [line for line in server.stderr_lines if "refusing connections" in line]
    assert len(warnings) == 1, f"the refusal log is not rate-limited: {warnings}"


def test_grpcio_reconnects_transparently_after_an_idle_close(tmp_path, servers):
    server = _start(tmp_path, "--idle-timeout-seconds", 2, metrics=True)
    servers.append(server)
    with Guard(server):
        _wait_for_metric(server, "ruvector_connections_open", 1)   # the canary's, never idle
        with grpc.insecure_channel(server.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            assert stub.Check(health_pb2.HealthCheckRequest(), timeout=5).status == health_pb2.HealthCheckResponse.SERVING
            _wait_for_metric(server, "ruvector_connections_open", 2)
            # Idle for the timeout: the server says GOAWAY and closes ours, not the canary's.
            _wait_for_metric(server, "ruvector_connections_open", 1, timeout=10)
            # The same channel calls again: grpcio opens a new connection by itself.
            for _ in range(3):
                assert stub.Check(health_pb2.HealthCheckRequest(), timeout=5).status == health_pb2.HealthCheckResponse.SERVING
