"""Fixtures that run the real ruvector-server binary on a free loopback port.

The binary comes from RUVECTOR_SERVER_BINARY (scripts/test.sh sets it). grpc.testing stubs
are generated at test time from Debian's grpc-proto files; TLS uses the gRPC project's test
certificates that Debian's ruby-grpc ships (read in place, never copied).
"""
import os
import pathlib
import re
import socket
import subprocess
import sys
import tempfile
import threading

import pytest

GRPC_PROTO_ROOT = pathlib.Path("/usr/share/grpc-proto")
RUBY_GRPC_ROOT = pathlib.Path(
    "/usr/lib/x86_64-linux-gnu/rubygems-integration/3.1.0/gems/grpc-1.51.1/src/ruby")
TEST_CERTS = RUBY_GRPC_ROOT / "spec" / "testdata"
TLS_HOST_OVERRIDE = "foo.test.google.fr"


def _generate_testing_stubs() -> pathlib.Path:
    from grpc_tools import protoc

    out = pathlib.Path(tempfile.mkdtemp(prefix="ruvector-grpc-testing-"))
    files = [f"grpc/testing/{name}.proto" for name in ("empty", "messages", "test")]
    # grpcio-reflection ships only v1alpha stubs; v1 is generated here.
    files.append("grpc/reflection/v1/reflection.proto")
    rc = protoc.main(["protoc", f"-I{GRPC_PROTO_ROOT}", f"--python_out={out}", f"--grpc_python_out={out}", *files])
    if rc != 0:
        raise RuntimeError("grpc_tools.protoc failed for grpc.testing protos")
    # Our own API's stubs are the Python client's committed ones (clients/python, installed
    # by scripts/setup.sh; `ruvector.v1.*_pb2`), checked fresh by its regenerate.sh --check.
    sys.path.insert(0, str(out))
    # grpcio owns the `grpc` package; its `grpc.testing` subpackage is a separate PyPI
    # distribution, so the generated stubs are attached to grpc's package path instead.
    import grpc
    for package in ("testing", "reflection", "reflection/v1"):
        (out / "grpc" / package / "__init__.py").touch()
    grpc.__path__.append(str(out / "grpc"))
    # grpcio-reflection registers itself as `grpc.reflection`; v1 joins its path.
    import grpc_reflection
    grpc_reflection.__path__.append(str(out / "grpc" / "reflection"))
    return out


_generate_testing_stubs()


def pytest_configure(config):
    config.addinivalue_line("markers", "cluster: starts several ruvector-server processes as a Raft cluster "
                                       "(Tests/e2e/cluster; each test under 60 s)")
    config.addinivalue_line("markers", "timed: runs alone in scripts/test.sh's second pass (timing-sensitive)")
    config.addinivalue_line("markers", "soak: long on-demand variant of a cluster test (RUVECTOR_CLUSTER_SOAK=1)")


# scripts/test.sh runs this suite in two passes: everything not marked `timed` on two workers
# (pytest-xdist, whole files per worker), then the `timed` tests alone, one at a time: clusters
# whose leases and failover are timed, and tests that bound a server's latency under load or a
# client's retry timing to fractions of a second. A plain `pytest Tests/e2e` runs all in one pass.
_TIMED_FILES = frozenset({
    "test_adversarial_connections.py", "test_adversarial_raft.py", "test_adversarial_vectors.py",
    "test_cluster_tls.py", "test_keepalive.py", "test_local_cluster_script.py",
    "test_python_client_resilience.py",
})


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # First, so that `-m timed` / `-m "not timed"` (applied by pytest's own hook) sees the marks.
    for item in items:
        path = pathlib.Path(str(item.fspath))
        if path.parent.name == "cluster" or path.name in _TIMED_FILES:
            item.add_marker(pytest.mark.timed)


_PHASE_REPORTS = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Kept so that fixtures can tell at teardown whether the test failed (and print logs).
    report = yield
    item.stash.setdefault(_PHASE_REPORTS, {})[report.when] = report
    return report


def failed_so_far(item) -> bool:
    """True when a phase (setup, call) of the test `item` has failed: for fixtures' teardown."""
    return any(report.failed for report in item.stash.get(_PHASE_REPORTS, {}).values())


def server_binary() -> str:
    """The ruvector-server to test: RUVECTOR_SERVER_BINARY (scripts/test.sh sets it)."""
    binary = os.environ.get("RUVECTOR_SERVER_BINARY")
    if not binary or not os.access(binary, os.X_OK):
        raise RuntimeError("set RUVECTOR_SERVER_BINARY to the built ruvector-server")
    return binary


def one_node_cluster(data_dir, *args) -> "RunningServer":
    """A server that is a cluster of one (node 1, founding list naming itself on a free port)."""
    port = free_ports(1)[0]
    return RunningServer(["--listen", f"127.0.0.1:{port}", "--node-id", "1", "--cluster", f"1=127.0.0.1:{port}", *args],
                         data_dir)


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` distinct loopback ports free right now, for servers that must know each other's
    addresses before they start (a cluster map). All are held until every one is chosen."""
    held = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind((host, 0))
            held.append(sock)
        return [sock.getsockname()[1] for sock in held]
    finally:
        for sock in held:
            sock.close()


class RunningServer:
    """A ruvector-server process and the address it listens on."""

    def __init__(self, args, data_dir):
        binary = server_binary()
        self.data_dir = data_dir
        self.process = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--data-dir", str(data_dir), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stderr_lines = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        line = self.process.stdout.readline()
        match = re.search(r"listening on (\S+):(\d+)", line)
        if not match:
            self.process.kill()
            raise RuntimeError(f"server did not start: {line!r} {''.join(self.stderr_lines)}")
        self.host, self.port = match.group(1), int(match.group(2))
        self.address = f"{self.host}:{self.port}"

    def read_metrics_url(self) -> str:
        """The metrics endpoint the server announces on its next stdout line (it was started with
        `--metrics-listen`)."""
        line = self.process.stdout.readline()
        match = re.search(r"metrics on (http://\S+)", line)
        assert match, line
        return match.group(1)

    def _drain_stderr(self):
        for line in self.process.stderr:
            self.stderr_lines.append(line)

    def stop(self, timeout=15):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                return self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise
        return self.process.returncode


def wait_for_metrics(metrics_url: str, pattern: "re.Pattern[str]", timeout: float = 15.0) -> str:
    """Scrapes `metrics_url` until `pattern` matches (returns the scrape); fails after `timeout`
    seconds showing the scrape's request counters."""
    import time
    import urllib.request

    deadline, text = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        with urllib.request.urlopen(metrics_url, timeout=10) as response:
            text = response.read().decode()
        if pattern.search(text):
            return text
        time.sleep(0.2)
    raise AssertionError(f"no {pattern.pattern!r} in the metrics after {timeout} s: "
                         + str([line for line in text.splitlines() if "requests_total" in line]))


def expect_status(code, call):
    """Runs `call`, which must fail with gRPC status `code` and a message; returns the message."""
    import grpc

    with pytest.raises(grpc.RpcError) as info:
        call()
    assert info.value.code() == code, info.value.details()
    assert info.value.details()
    return info.value.details()


@pytest.fixture
def server(tmp_path):
    """A fresh server (plain h2c, empty data directory) for one test."""
    running = RunningServer([], tmp_path / "data")
    yield running
    running.stop()


@pytest.fixture(scope="session")
def h2c_server(tmp_path_factory):
    server = RunningServer(["--enable-interop-test-service"], tmp_path_factory.mktemp("data-h2c"))
    yield server
    assert server.stop() == 0, "server did not exit cleanly on SIGTERM:\n" + "".join(server.stderr_lines)


@pytest.fixture(scope="session")
def tls_server(tmp_path_factory):
    server = RunningServer(["--enable-interop-test-service",
                            "--tls-cert", str(TEST_CERTS / "server1.pem"),
                            "--tls-key", str(TEST_CERTS / "server1.key")],
                           tmp_path_factory.mktemp("data-tls"))
    yield server
    assert server.stop() == 0


@pytest.fixture(scope="session")
def mtls_server(tmp_path_factory):
    server = RunningServer(["--tls-cert", str(TEST_CERTS / "server1.pem"),
                            "--tls-key", str(TEST_CERTS / "server1.key"),
                            "--tls-client-ca", str(TEST_CERTS / "ca.pem")],
                           tmp_path_factory.mktemp("data-mtls"))
    yield server
    assert server.stop() == 0


def secure_channel(server, client_cert=False):
    import grpc

    ca = (TEST_CERTS / "ca.pem").read_bytes()
    if client_cert:
        creds = grpc.ssl_channel_credentials(ca, (TEST_CERTS / "client.key").read_bytes(),
                                             (TEST_CERTS / "client.pem").read_bytes())
    else:
        creds = grpc.ssl_channel_credentials(ca)
    return grpc.secure_channel(server.address, creds,
                               options=[("grpc.ssl_target_name_override", TLS_HOST_OVERRIDE),
                                        ("grpc.max_receive_message_length", 64 << 20),
                                        ("grpc.max_send_message_length", 64 << 20)])


@pytest.fixture(params=["h2c", "tls"])
def channel(request):
    """A grpcio channel to the interop-enabled server, over h2c and over TLS."""
    import grpc

    if request.param == "h2c":
        server = request.getfixturevalue("h2c_server")
        ch = grpc.insecure_channel(server.address, options=[
            ("grpc.max_receive_message_length", 64 << 20), ("grpc.max_send_message_length", 64 << 20)])
    else:
        server = request.getfixturevalue("tls_server")
        ch = secure_channel(server)
    yield ch
    ch.close()
