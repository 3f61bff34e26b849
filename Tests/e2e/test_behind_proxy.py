"""The server behind a service-mesh style sidecar: nghttpx (Debian nghttp2-proxy) in front of
ruvector-server on loopback, h2c to h2c and TLS-terminating (TLS client -> nghttpx -> h2c
backend). Through it, with grpcio and the Python client: collections, upsert, search, streaming
search, a Cypher query with streamed rows, cancellation that stops server work, deadlines that
arrive in time; and connection ageing and server pings, which the proxy must survive."""
import os
import pathlib
import shutil
import socket
import subprocess
import time

import grpc
import numpy as np
import pytest
from ruvector.v1 import graph_pb2, graph_pb2_grpc

import ruvector
from adversarial import cpu_while_idle
from conftest import TEST_CERTS, TLS_HOST_OVERRIDE, RunningServer, free_ports

NGHTTPX = shutil.which("nghttpx") or ("/usr/sbin/nghttpx" if os.access("/usr/sbin/nghttpx", os.X_OK) else None)


class Proxy:
    """nghttpx on a free loopback port in front of `backend` (h2c, `proto=h2`), its frontend
    plain h2c or TLS with the gRPC test certificate. One process (`--single-process`), no
    configuration file, stopped by `stop`."""

    def __init__(self, backend: RunningServer, tls: bool, log_path: pathlib.Path):
        self.port = free_ports(1)[0]
        self.tls = tls
        frontend = f"127.0.0.1,{self.port}" + ("" if tls else ";no-tls")
        args = [NGHTTPX, "--conf=/dev/null", "--single-process", "--workers=1", f"--frontend={frontend}",
                f"--backend={backend.host},{backend.port};;proto=h2", "--no-ocsp", "--no-via",
                "--log-level=WARN", f"--errorlog-file={log_path}", "--accesslog-file=/dev/null"]
        if tls:
            args += [str(TEST_CERTS / "server1.key"), str(TEST_CERTS / "server1.pem")]
        self.log_path = log_path
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self._wait_until_listening()
        self.address = f"127.0.0.1:{self.port}"

    def _wait_until_listening(self, timeout: float = 15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nghttpx exited with {self.process.returncode}: {self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nghttpx did not listen within {timeout} s: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def channel(self) -> grpc.Channel:
        if not self.tls:
            return grpc.insecure_channel(self.address)
        credentials = grpc.ssl_channel_credentials((TEST_CERTS / "ca.pem").read_bytes())
        return grpc.secure_channel(self.address, credentials,
                                   options=[("grpc.ssl_target_name_override", TLS_HOST_OVERRIDE)])

    def client(self) -> ruvector.Client:
        if not self.tls:
            return ruvector.Client(self.address, timeout=30)
        return ruvector.Client(self.address, root_certificates=(TEST_CERTS / "ca.pem").read_bytes(),
                               server_name_override=TLS_HOST_OVERRIDE, timeout=30)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _require_nghttpx():
    if NGHTTPX is None:
        message = "nghttpx is not installed (Debian package nghttp2-proxy; scripts/setup.sh installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    _require_nghttpx()
    server = RunningServer([], tmp_path_factory.mktemp("data-behind-proxy"))
    yield server
    assert server.stop() == 0, "".join(server.stderr_lines[-40:])


@pytest.fixture(scope="module", params=["h2c", "tls"])
def proxy(request, backend, tmp_path_factory):
    running = Proxy(backend, request.param == "tls", tmp_path_factory.mktemp("nghttpx") / "error.log")
    yield running
    running.stop()


def _graph(proxy: Proxy, channel: grpc.Channel | None = None) -> graph_pb2_grpc.GraphServiceStub:
    return graph_pb2_grpc.GraphServiceStub(channel or proxy.channel())


def test_collections_upsert_search_and_streaming_search(proxy):
    name = f"proxied_{'tls' if proxy.tls else 'h2c'}"
    rng = np.random.default_rng(19)
    vectors = rng.standard_normal((300, 16)).astype(np.float32)
    with proxy.client() as db:
        db.create_collection(name, dimension=16, metric="l2")
        db.upsert(name, ids=list(range(1, 301)), vectors=vectors, payloads=[{"i": i} for i in range(300)])
        queries = vectors[:20] + 0.01
        unary = [[hit.id for hit in db.search(name, q, k=5, exact=True)] for q in queries]
        # Each query's own point is its nearest neighbour.
        assert [ids[0] for ids in unary] == list(range(1, 21))
        streamed = [[hit.id for hit in hits] for hits in db.search_stream(name, iter(queries), k=5, exact=True)]
        assert streamed == unary


def test_cypher_rows_stream_through_the_proxy(proxy):
    parts = list(_graph(proxy).Execute(graph_pb2.ExecuteRequest(query="UNWIND range(1, 20000) AS i RETURN i",
                                                                 batch_rows=500), timeout=60))
    assert parts[0].HasField("header") and parts[-1].HasField("summary")
    batches = [p.rows.rows for p in parts[1:-1]]
    assert len(batches) >= 20, f"{len(batches)} row batches: the rows did not arrive as a stream"
    values = [row.values[0].value.int_value for batch in batches for row in batch]
    assert values == list(range(1, 20001))


@pytest.fixture(scope="module")
def dense_graph(backend):
    """Nodes whose cross product is far more rows than any test reads."""
    with grpc.insecure_channel(backend.address) as channel:
        list(graph_pb2_grpc.GraphServiceStub(channel).Execute(
            graph_pb2.ExecuteRequest(query="UNWIND range(1, 400) AS i CREATE (:Dense {i: i})"), timeout=60))


def test_cancelling_a_stream_through_the_proxy_stops_server_work(proxy, backend, dense_graph):
    channel = proxy.channel()
    call = _graph(proxy, channel).Execute(
        graph_pb2.ExecuteRequest(query="MATCH (a:Dense), (b:Dense), (c:Dense) RETURN a.i, b.i, c.i"), timeout=120)
    parts = iter(call)
    assert next(parts).HasField("header")
    assert next(parts).HasField("rows")
    call.cancel()
    # 64 million rows: a server still producing them after the cancel burns a core.
    time.sleep(0.5)
    idle = cpu_while_idle(backend, 1.0)
    assert idle < 0.15, f"{idle:.2f} CPU seconds after the stream was cancelled through the proxy"
    # The proxy and the server serve the next call.
    rows = list(_graph(proxy, channel).Execute(graph_pb2.ExecuteRequest(query="RETURN 1 AS one"), timeout=30))
    assert rows[-1].HasField("summary")
    channel.close()


def test_deadline_arrives_in_time_through_the_proxy(proxy, backend, dense_graph):
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as info:
        list(_graph(proxy).Execute(graph_pb2.ExecuteRequest(
            query="MATCH (a:Dense), (b:Dense), (c:Dense) RETURN count(*)"), timeout=0.5))
    waited = time.monotonic() - started
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED, info.value.details()
    assert waited < 5, f"DEADLINE_EXCEEDED after {waited:.1f} s for a 0.5 s deadline"
    time.sleep(0.5)
    idle = cpu_while_idle(backend, 1.0)
    assert idle < 0.15, f"{idle:.2f} CPU seconds after the deadline passed"


def test_proxy_survives_connection_ageing_and_server_pings(tmp_path):
    """nghttpx keeps one h2 connection to its backend: the server ages it out every ~0.5 s and
    pings it when quiet; calls through the proxy keep succeeding."""
    _require_nghttpx()
    server = RunningServer(["--max-connection-age-seconds", "0.5", "--max-connection-age-grace-seconds", "10",
                            "--keepalive-time-seconds", "0.2", "--keepalive-timeout-seconds", "2"], tmp_path / "data")
    proxy = Proxy(server, tls=False, log_path=tmp_path / "nghttpx.log")
    try:
        with proxy.client() as db:
            db.create_collection("aged", dimension=4, metric="l2")
            calls, end = 0, time.monotonic() + 3
            while time.monotonic() < end:
                db.upsert("aged", ids=[calls + 1], vectors=[[float(calls), 0, 0, 1]])
                calls += 1
                if calls % 20 == 0:
                    time.sleep(0.5)   # quiet: the server pings the proxy's connection
            assert db.count("aged") == calls
    finally:
        proxy.stop()
        assert server.stop() == 0, "".join(server.stderr_lines[-40:])
