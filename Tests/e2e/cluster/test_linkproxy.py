"""LinkProxy against a tiny echo server: each mode does what the cluster tests rely on.
No ruvector server needed."""
from __future__ import annotations

import os
import socket
import socketserver
import statistics
import threading
import time
from typing import Callable, Iterator

import pytest

from linkproxy import LinkProxy, Mode

#: Added latency must be within this of what was asked (a shared, busy 2-core machine).
DELAY_TOLERANCE_SECONDS = 0.08


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while True:
            try:
                data = self.request.recv(65536)
            except OSError:
                return
            if not data:
                self.request.shutdown(socket.SHUT_WR)
                return
            self.server.count(len(data))
            try:
                self.request.sendall(data)
            except OSError:
                return


class EchoServer(socketserver.ThreadingTCPServer):
    """Sends back whatever it reads; counts the bytes it received."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _EchoHandler)
        self.port: int = self.server_address[1]
        self._lock = threading.Lock()
        self._received_bytes = 0

    def count(self, amount: int) -> None:
        with self._lock:
            self._received_bytes += amount

    @property
    def received_bytes(self) -> int:
        with self._lock:
            return self._received_bytes


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(echo: EchoServer) -> Iterator[LinkProxy]:
    with LinkProxy(0, "127.0.0.1", echo.port) as link:
        yield link


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=2)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _recv_exactly(sock: socket.socket, size: int, timeout: float = 5.0) -> bytes:
    sock.settimeout(timeout)
    chunks, received = [], 0
    while received < size:
        chunk = sock.recv(size - received)
        if not chunk:
            raise EOFError(f"end of stream after {received} of {size} bytes")
        chunks.append(chunk)
        received += len(chunk)
    return b"".join(chunks)


def _round_trip_seconds(sock: socket.socket, payload: bytes = b"ping") -> float:
    started = time.monotonic()
    sock.sendall(payload)
    assert _recv_exactly(sock, len(payload)) == payload
    return time.monotonic() - started


def _assert_silent(sock: socket.socket, seconds: float) -> None:
    """Nothing (no data, no end of stream, no reset) arrives on `sock` for `seconds`."""
    sock.settimeout(seconds)
    with pytest.raises(socket.timeout):
        sock.recv(1)


def _assert_reset(sock: socket.socket, timeout: float = 2.0) -> None:
    """`sock` is reset by the proxy (ECONNRESET), not closed gracefully nor left open."""
    sock.settimeout(timeout)
    with pytest.raises(ConnectionResetError):
        sock.recv(1)


def _assert_refused(port: int) -> None:
    """A new connection to `port` is reset by the proxy (on the loopback the reset may come
    before connect() has returned, which then raises it)."""
    try:
        sock = _connect(port)
    except (ConnectionResetError, ConnectionRefusedError):
        return
    with sock:
        _assert_reset(sock)


def _wait_for(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


def test_pass_through_forwards_both_ways_in_order_and_counts_bytes(proxy: LinkProxy) -> None:
    payloads = [os.urandom(1 << 20) for _ in range(3)]
    results: dict[int, bytes] = {}

    def exchange(index: int) -> None:
        with _connect(proxy.port) as sock:
            sender = threading.Thread(target=sock.sendall, args=(payloads[index],))
            sender.start()
            results[index] = _recv_exactly(sock, len(payloads[index]))
            sender.join(timeout=5)

    threads = [threading.Thread(target=exchange, args=(i,)) for i in range(len(payloads))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert all(results.get(i) == payloads[i] for i in range(len(payloads)))
    total = sum(map(len, payloads))
    _wait_for(lambda: proxy.counters().to_client_bytes == total)
    counters = proxy.counters()
    assert (counters.to_target_bytes, counters.dropped_bytes, counters.connections) == (total, 0, 3)


def test_half_close_is_forwarded(proxy: LinkProxy) -> None:
    with _connect(proxy.port) as sock:
        sock.sendall(b"last words")
        sock.shutdown(socket.SHUT_WR)
        assert _recv_exactly(sock, 10) == b"last words"
        assert sock.recv(1) == b"", "the echo server's end of stream reaches the client"


def test_delay_adds_the_latency_each_way_and_keeps_order(proxy: LinkProxy) -> None:
    with _connect(proxy.port) as sock:
        baseline = statistics.median(_round_trip_seconds(sock) for _ in range(5))
        proxy.delay(100)    # on the connection already open
        assert proxy.mode is Mode.DELAY
        delayed = [_round_trip_seconds(sock) for _ in range(5)]
        # Both directions wait 100 ms: a round trip gains 200 ms.
        assert all(0.2 <= rtt <= 0.2 + baseline + DELAY_TOLERANCE_SECONDS for rtt in delayed), (baseline, delayed)

        chunks = [f"chunk-{i:03d};".encode() for i in range(50)]
        for chunk in chunks:
            sock.sendall(chunk)
        assert _recv_exactly(sock, sum(map(len, chunks))) == b"".join(chunks)

        proxy.heal()
        assert _round_trip_seconds(sock) < 0.2 - DELAY_TOLERANCE_SECONDS / 2


def test_a_shorter_delay_applies_to_chunks_already_queued(proxy: LinkProxy) -> None:
    with _connect(proxy.port) as sock:
        proxy.delay(3000)
        started = time.monotonic()
        sock.sendall(b"queued")
        time.sleep(0.05)
        proxy.pass_through()
        assert _recv_exactly(sock, 6) == b"queued"
        assert time.monotonic() - started < 1.0


def test_drop_black_holes_both_ways_without_an_error(proxy: LinkProxy, echo: EchoServer) -> None:
    before = _connect(proxy.port)
    assert _round_trip_seconds(before) < 1
    proxy.drop()
    forwarded = proxy.counters().to_target_bytes
    echoed = echo.received_bytes

    before.sendall(b"into the void")     # no error for the sender
    _assert_silent(before, 0.3)
    during = _connect(proxy.port)         # new connections are accepted, and swallowed too
    during.sendall(b"also lost")
    _assert_silent(during, 0.3)

    _wait_for(lambda: proxy.counters().dropped_bytes == len(b"into the void") + len(b"also lost"))
    assert proxy.counters().to_target_bytes == forwarded
    assert echo.received_bytes == echoed, "the target received nothing during the drop"

    # Both streams lost bytes: healing resets them so the two ends start afresh.
    proxy.heal()
    _assert_reset(before)
    _assert_reset(during)
    before.close()
    during.close()
    with _connect(proxy.port) as after:
        assert _round_trip_seconds(after) < 1


def test_drop_also_swallows_the_targets_answers(proxy: LinkProxy) -> None:
    with _connect(proxy.port) as sock:
        proxy.delay(200)
        sock.sendall(b"answer me")     # reaches the echo server after 200 ms
        time.sleep(0.3)                # the echo is queued on its way back
        proxy.drop()
        _assert_silent(sock, 0.4)
        _wait_for(lambda: proxy.counters().dropped_bytes >= len(b"answer me"))


def test_cut_resets_existing_and_new_connections_until_healed(proxy: LinkProxy) -> None:
    existing = _connect(proxy.port)
    assert _round_trip_seconds(existing) < 1
    proxy.cut()
    _assert_reset(existing)
    existing.close()
    _assert_refused(proxy.port)
    proxy.heal()
    with _connect(proxy.port) as healed:
        assert _round_trip_seconds(healed) < 1


def test_an_unreachable_target_resets_the_dialer() -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        dead_port = placeholder.getsockname()[1]     # bound, not listening: connections refused
        with LinkProxy(0, "127.0.0.1", dead_port) as link:
            _assert_refused(link.port)


def test_close_resets_connections_and_frees_the_port(echo: EchoServer) -> None:
    link = LinkProxy(0, "127.0.0.1", echo.port)
    port = link.port
    sock = _connect(port)
    assert _round_trip_seconds(sock) < 1
    link.close()
    _assert_reset(sock)
    sock.close()
    with pytest.raises(ConnectionRefusedError):
        _connect(port)
    with pytest.raises(RuntimeError):
        link.drop()
    link.close()    # closing twice is harmless
    with LinkProxy(port, "127.0.0.1", echo.port) as again, _connect(again.port) as sock:
        assert _round_trip_seconds(sock) < 1


def test_controls_from_many_threads_leave_a_working_proxy(proxy: LinkProxy) -> None:
    errors: list[BaseException] = []

    def toggle(seed: int) -> None:
        try:
            for i in range(50):
                [proxy.pass_through, lambda: proxy.delay(1), proxy.drop, proxy.cut][(seed + i) % 4]()
        except BaseException as error:     # reported below, not lost in the thread
            errors.append(error)

    with _connect(proxy.port) as sock:
        threads = [threading.Thread(target=toggle, args=(seed,)) for seed in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        assert not errors
        proxy.heal()
    assert proxy.mode is Mode.PASS
    with _connect(proxy.port) as sock:
        assert _round_trip_seconds(sock) < 1
