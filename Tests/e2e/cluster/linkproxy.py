"""A TCP proxy for one directed link between two cluster nodes, with faults switched at run time.

Node i dials node j through `LinkProxy(P_ij, "127.0.0.1", port_of_j)` (the server's
`--peer-route j=127.0.0.1:P_ij`), so a test can slow, black-hole or cut that link alone while
the process and its client-facing port stay up. Every proxy runs its own selector loop in a
daemon thread of the test process (no subprocess); the controls are thread-safe and return
once the loop has applied them, to existing and new connections alike.

Modes:
- pass-through: bytes are forwarded as they arrive.
- delay(ms): each chunk read is forwarded `ms` after it was read, in order, in both directions
  (a round trip through one proxy gains 2 x ms). A new delay applies to chunks still queued.
- drop(): a black hole. Connections are accepted and read, nothing is forwarded either way
  (no data, no end of stream, no reset), so senders see no error, as behind a partition.
  Bytes queued when the drop starts are lost with it. A connection that lived through a drop
  has lost bytes from the middle of its stream, so leaving the drop resets it (both ends see
  ECONNRESET) and the nodes dial again, as they would once a partitioned TCP connection
  times out.
- cut(): every connection is reset at once and new ones are reset as soon as accepted.
- heal(): back to pass-through.
"""
from __future__ import annotations

import collections
import enum
import selectors
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

#: Per direction: reading stops while this many bytes wait to be sent (backpressure).
QUEUE_LIMIT_BYTES = 4 << 20
_READ_BYTES = 64 << 10
_CONTROL_TIMEOUT_SECONDS = 5.0


class Mode(enum.Enum):
    """What a proxy does with the bytes of its connections."""
    PASS = "pass"
    DELAY = "delay"
    DROP = "drop"
    CUT = "cut"


@dataclass(frozen=True)
class LinkCounters:
    """Bytes a proxy has moved since it started."""
    #: Forwarded from the dialing side (node i) to the target (node j).
    to_target_bytes: int
    #: Forwarded from the target back to the dialing side.
    to_client_bytes: int
    #: Read and thrown away while dropping (both directions).
    dropped_bytes: int
    #: Connections accepted.
    connections: int


def _reset(sock: socket.socket | None) -> None:
    """Closes `sock` with an RST instead of a FIN (SO_LINGER 0), as a crashed peer would."""
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


@dataclass
class _Command:
    """A mode switch asked by a control call, which waits until the loop has applied it."""
    mode: Mode
    delay_seconds: float
    done: threading.Event = field(default_factory=threading.Event)
    applied: bool = False


class _Direction:
    """Bytes flowing one way through a connection: read from `source`, written to `sink`."""

    def __init__(self, source: socket.socket, sink: socket.socket | None, counter: str):
        self.source = source
        self.sink = sink
        self.counter = counter
        #: (monotonic read time, bytes) in arrival order.
        self.queue: collections.deque[tuple[float, bytes]] = collections.deque()
        self.queued_bytes = 0
        self.eof_read = False
        self.eof_sent = False
        #: The last send hit a full socket buffer: wait until the sink is writable.
        self.blocked = False

    def clear(self) -> None:
        self.queue.clear()
        self.queued_bytes = 0

    def done(self) -> bool:
        return self.eof_sent and not self.queue


class _Connection:
    """One accepted connection and the one it opened to the target."""

    def __init__(self, client: socket.socket, upstream: socket.socket | None, poisoned: bool):
        self.client = client
        self.upstream = upstream
        self.connected = False
        self.closed = False
        #: Lived through a drop (or was born in one): reset when the drop ends.
        self.poisoned = poisoned
        self.up = _Direction(client, upstream, "to_target_bytes")
        self.down = _Direction(upstream, client, "to_client_bytes") if upstream is not None else None

    def sockets(self) -> list[socket.socket]:
        return [s for s in (self.client, self.upstream) if s is not None and s.fileno() >= 0]

    def directions(self) -> list[_Direction]:
        return [d for d in (self.up, self.down) if d is not None]


class LinkProxy:
    """Forwards connections accepted on 127.0.0.1:`listen_port` to `target_host`:`target_port`.

    >>> proxy = LinkProxy(0, "127.0.0.1", 7002)     # 0: any free port, see `.port`
    >>> proxy.delay(20); proxy.drop(); proxy.heal(); proxy.close()
    """

    def __init__(self, listen_port: int, target_host: str, target_port: int, *, listen_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((listen_host, listen_port))
        self._listener.listen(128)
        self._listener.setblocking(False)
        #: The port it listens on (useful when created with 0).
        self.port: int = self._listener.getsockname()[1]
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._wake_writer.setblocking(False)
        self._lock = threading.Lock()
        self._commands: collections.deque[_Command] = collections.deque()
        self._counts = {"to_target_bytes": 0, "to_client_bytes": 0, "dropped_bytes": 0, "connections": 0}
        self._mode = Mode.PASS
        self._delay_seconds = 0.0
        self._closing = False
        self._failure: BaseException | None = None
        self._connections: list[_Connection] = []
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, "accept")
        self._selector.register(self._wake_reader, selectors.EVENT_READ, "wake")
        self._thread = threading.Thread(target=self._run, name=f"linkproxy-{self.port}", daemon=True)
        self._thread.start()

    # Controls (any thread)

    def pass_through(self) -> None:
        """Forwards bytes as they arrive."""
        self._command(Mode.PASS, 0.0)

    def delay(self, millis: float) -> None:
        """Forwards each chunk `millis` after it was read, in order, both ways."""
        if millis < 0:
            raise ValueError("a delay is 0 ms or more")
        self._command(Mode.DELAY, millis / 1000.0)

    def drop(self) -> None:
        """Black-holes the link: reads everything, forwards nothing, reports no error."""
        self._command(Mode.DROP, 0.0)

    def cut(self) -> None:
        """Resets every connection and every new one until healed."""
        self._command(Mode.CUT, 0.0)

    def heal(self) -> None:
        """Back to pass-through (connections that lived through a drop are reset)."""
        self.pass_through()

    @property
    def mode(self) -> Mode:
        """The mode in force."""
        with self._lock:
            return self._mode

    def counters(self) -> LinkCounters:
        """A snapshot of the byte and connection counters."""
        with self._lock:
            return LinkCounters(**self._counts)

    def close(self) -> None:
        """Stops the proxy: every connection is reset and the port is free when this returns."""
        with self._lock:
            if self._closing:
                already = True
            else:
                already, self._closing = False, True
        if not already:
            self._wake()
        self._thread.join(timeout=_CONTROL_TIMEOUT_SECONDS)
        if self._thread.is_alive():
            raise RuntimeError(f"link proxy on port {self.port} did not stop")
        if self._failure is not None:
            raise RuntimeError(f"link proxy on port {self.port} failed") from self._failure

    def __enter__(self) -> "LinkProxy":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _command(self, mode: Mode, delay_seconds: float) -> None:
        command = _Command(mode, delay_seconds)
        with self._lock:
            if self._closing:
                raise RuntimeError(f"link proxy on port {self.port} is closed")
            self._commands.append(command)
        self._wake()
        if not command.done.wait(_CONTROL_TIMEOUT_SECONDS) or not command.applied:
            raise RuntimeError(f"link proxy on port {self.port} did not apply {mode.value} (closed or stuck)")

    def _wake(self) -> None:
        try:
            self._wake_writer.send(b"x")
        except BlockingIOError:
            pass    # a wake-up is already pending
        except OSError:
            pass    # the loop has ended and closed it

    # The loop (proxy thread only)

    def _run(self) -> None:
        try:
            while not self._closing:
                now = time.monotonic()
                timeout = self._flush_all(now)
                self._update_interest()
                for key, mask in self._selector.select(timeout):
                    self._dispatch(key, mask)
        except BaseException as error:
            # Kept for close() to raise: a proxy that died must fail the test, not hang it.
            self._failure = error
            raise
        finally:
            self._shutdown()

    def _dispatch(self, key: selectors.SelectorKey, mask: int) -> None:
        if key.data == "accept":
            self._accept()
        elif key.data == "wake":
            self._apply_commands()
        else:
            connection, sock = key.data
            if mask & selectors.EVENT_WRITE and not connection.closed:
                self._writable(connection, sock)
            if mask & selectors.EVENT_READ and not connection.closed:
                self._readable(connection, sock)

    def _apply_commands(self) -> None:
        try:
            while self._wake_reader.recv(4096):
                pass
        except BlockingIOError:
            pass
        while True:
            with self._lock:
                if not self._commands:
                    return
                command = self._commands.popleft()
                previous = self._mode
                self._mode, self._delay_seconds = command.mode, command.delay_seconds
            self._enter(command.mode, previous)
            command.applied = True
            command.done.set()

    def _enter(self, mode: Mode, previous: Mode) -> None:
        """Makes the connections match a mode just switched to."""
        if mode is Mode.CUT:
            for connection in list(self._connections):
                self._close(connection, reset=True)
        elif mode is Mode.DROP:
            for connection in self._connections:
                connection.poisoned = True
                for direction in connection.directions():
                    self._count("dropped_bytes", direction.queued_bytes)
                    direction.clear()
        elif previous is Mode.DROP:
            for connection in [c for c in self._connections if c.poisoned]:
                self._close(connection, reset=True)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            self._count("connections", 1)
            mode = self.mode
            if mode is Mode.CUT:
                _reset(client)
                continue
            client.setblocking(False)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            upstream = None
            if mode is not Mode.DROP:
                upstream = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                upstream.setblocking(False)
                upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                upstream.connect_ex(self.target)
            connection = _Connection(client, upstream, poisoned=mode is Mode.DROP)
            # Registered with the selector by _update_interest before the next select.
            self._connections.append(connection)

    def _writable(self, connection: _Connection, sock: socket.socket) -> None:
        if sock is connection.upstream and not connection.connected:
            error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if error and not connection.poisoned:
                # The target refused or is gone: the dialing side sees its connection reset.
                self._close(connection, reset=True)
                return
            connection.connected = True
        for direction in connection.directions():
            if direction.sink is sock:
                direction.blocked = False

    def _readable(self, connection: _Connection, sock: socket.socket) -> None:
        direction = connection.up if sock is connection.client else connection.down
        try:
            data = sock.recv(_READ_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = None
        if connection.poisoned:
            self._read_into_black_hole(connection, direction, data)
        elif data is None:
            self._close(connection, reset=True)
        elif not data:
            direction.eof_read = True
        else:
            direction.queue.append((time.monotonic(), data))
            direction.queued_bytes += len(data)

    def _read_into_black_hole(self, connection: _Connection, direction: _Direction, data: bytes | None) -> None:
        """Drop mode: data is counted and forgotten; an end of stream or error is not passed on."""
        if data:
            self._count("dropped_bytes", len(data))
            return
        direction.eof_read = True
        self._selector.unregister(direction.source)
        direction.source.close()
        if all(d.eof_read for d in connection.directions()) and connection.upstream is not None:
            self._close(connection, reset=False)

    def _flush_all(self, now: float) -> float | None:
        """Sends every chunk that is due; returns seconds until the next one is (None: none waits)."""
        with self._lock:
            mode, delay_seconds = self._mode, self._delay_seconds
        next_due = None
        if mode in (Mode.DROP, Mode.CUT):
            return None
        for connection in list(self._connections):
            if connection.poisoned:
                continue
            for direction in connection.directions():
                due = self._flush(connection, direction, now, delay_seconds)
                if due is not None:
                    next_due = due if next_due is None else min(next_due, due)
            if not connection.closed and all(d.done() for d in connection.directions()):
                self._close(connection, reset=False)
        return None if next_due is None else max(0.0, next_due - now)

    def _flush(self, connection: _Connection, direction: _Direction, now: float, delay_seconds: float) -> float | None:
        """Sends `direction`'s due chunks in order; returns when its next chunk is due, if it waits."""
        if direction.sink is None or direction.blocked or not connection.connected or connection.closed:
            return None
        while direction.queue:
            read_time, data = direction.queue[0]
            if read_time + delay_seconds > now:
                return read_time + delay_seconds
            try:
                sent = direction.sink.send(data)
            except (BlockingIOError, InterruptedError):
                direction.blocked = True
                return None
            except OSError:
                self._close(connection, reset=True)
                return None
            self._count(direction.counter, sent)
            direction.queued_bytes -= sent
            if sent < len(data):
                direction.queue[0] = (read_time, data[sent:])
                direction.blocked = True
                return None
            direction.queue.popleft()
        if direction.eof_read and not direction.eof_sent:
            direction.eof_sent = True
            try:
                direction.sink.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        return None

    def _update_interest(self) -> None:
        registered = self._selector.get_map()
        for connection in self._connections:
            for sock in connection.sockets():
                events = self._interest(connection, sock)
                key = registered.get(sock)
                if key is None and events:
                    self._selector.register(sock, events, (connection, sock))
                elif key is not None and not events:
                    self._selector.unregister(sock)
                elif key is not None and key.events != events:
                    self._selector.modify(sock, events, (connection, sock))

    def _interest(self, connection: _Connection, sock: socket.socket) -> int:
        events = 0
        for direction in connection.directions():
            if direction.source is sock and not direction.eof_read and (
                    connection.poisoned or direction.queued_bytes < QUEUE_LIMIT_BYTES):
                events |= selectors.EVENT_READ
            if direction.sink is sock and direction.blocked:
                events |= selectors.EVENT_WRITE
        if sock is connection.upstream and not connection.connected:
            events |= selectors.EVENT_WRITE
        return events

    def _close(self, connection: _Connection, *, reset: bool) -> None:
        if connection.closed:
            return      # e.g. a send failed one way while the other way still had bytes queued
        connection.closed = True
        self._connections.remove(connection)
        for sock in connection.sockets():
            if sock in self._selector.get_map():
                self._selector.unregister(sock)
            if reset:
                _reset(sock)
            else:
                sock.close()

    def _count(self, counter: str, amount: int) -> None:
        if amount:
            with self._lock:
                self._counts[counter] += amount

    def _shutdown(self) -> None:
        for connection in list(self._connections):
            self._close(connection, reset=True)
        self._selector.close()
        self._listener.close()
        self._wake_reader.close()
        self._wake_writer.close()
        with self._lock:
            self._closing = True
            pending, self._commands = list(self._commands), collections.deque()
        for command in pending:
            command.done.set()
