"""Operator-facing behaviour of the binary: TLS with client certificates, bad settings
refused clearly, SIGTERM draining open calls."""
import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import RunningServer, TEST_CERTS, secure_channel


def test_mutual_tls_accepts_a_client_certificate(mtls_server):
    with secure_channel(mtls_server, client_cert=True) as ch:
        response = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert response.status == health_pb2.HealthCheckResponse.SERVING


def test_mutual_tls_refuses_a_client_without_certificate(mtls_server):
    with secure_channel(mtls_server, client_cert=False) as ch:
        with pytest.raises(grpc.RpcError) as info:
            health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE


def test_plaintext_client_cannot_talk_to_tls_server(tls_server):
    with grpc.insecure_channel(tls_server.address) as ch:
        with pytest.raises(grpc.RpcError) as info:
            health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=3)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize("args, complaint", [
    (["--listen", "nonsense"], "HOST:PORT"),
    (["--tls-cert", str(TEST_CERTS / "server1.pem")], "--tls-key"),
    (["--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"], "certificate"),
    (["--tls-cert", str(TEST_CERTS / "server1.pem"), "--tls-key", str(TEST_CERTS / "client.key")], "does not match"),
    (["--log-level", "chatty"], "log level"),
    (["--wal-sync", "sometimes"], "--wal-sync must be always, batch or never"),
])
def test_bad_settings_are_refused_with_a_clear_message(tmp_path, args, complaint):
    binary = os.environ["RUVECTOR_SERVER_BINARY"]
    result = subprocess.run([binary, "--data-dir", str(tmp_path), "--listen", "127.0.0.1:0", *args],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert complaint in result.stderr + result.stdout


def test_config_file_is_read(tmp_path):
    config = tmp_path / "ruvector.json"
    config.write_text('{"listen": "127.0.0.1:0", "logLevel": "debug", "enableInteropTestService": true}')
    server = RunningServer(["--config", str(config)], tmp_path / "data")
    try:
        with grpc.insecure_channel(server.address) as ch:
            health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
    finally:
        assert server.stop() == 0


def test_sigterm_lets_an_open_call_finish(tmp_path):
    """A streaming call in flight when SIGTERM arrives completes with OK; then the process exits 0."""
    from grpc.testing import messages_pb2, test_pb2_grpc

    server = RunningServer(["--enable-interop-test-service"], tmp_path / "data")
    with grpc.insecure_channel(server.address) as ch:
        stub = test_pb2_grpc.TestServiceStub(ch)
        request = messages_pb2.StreamingOutputCallRequest(response_parameters=[
            messages_pb2.ResponseParameters(size=10, interval_us=200_000) for _ in range(5)])
        responses = stub.StreamingOutputCall(request)
        first = next(responses)
        server.process.terminate()
        rest = list(responses)
        assert len([first, *rest]) == 5
    assert server.process.wait(timeout=15) == 0
    assert any("shutting down" in line for line in server.stderr_lines)


DEPLOY = pathlib.Path(__file__).parents[2] / "deploy"


def test_example_config_in_deploy_starts_as_is_with_the_certificates_the_script_makes(tmp_path):
    """First start as deploy/README.md says: make-dev-certs.sh writes the TLS files the example
    config names (relative to its folder), and the unchanged config starts a TLS server; only
    the data directory and the port are redirected, by flags."""
    shutil.copy(DEPLOY / "config" / "ruvector.example.json", tmp_path / "ruvector.json")
    made = subprocess.run([str(DEPLOY / "make-dev-certs.sh"), str(tmp_path / "tls")], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "tls" / "server.key").stat().st_mode & 0o777 == 0o600
    server = RunningServer(["--config", str(tmp_path / "ruvector.json")], tmp_path / "data")
    try:
        credentials = grpc.ssl_channel_credentials((tmp_path / "tls" / "ca.pem").read_bytes())
        with grpc.secure_channel(server.address, credentials) as ch:
            response = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=10)
            assert response.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        assert server.stop() == 0


def _refused_start(args, data, user=None):
    """Runs the server expecting it to refuse to start; returns its stderr."""
    command = [os.environ["RUVECTOR_SERVER_BINARY"], "--listen", "127.0.0.1:0", "--data-dir", str(data), *args]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0, result.stdout
    return result.stderr


def test_an_unreadable_tls_key_stops_the_start_before_any_data_directory_exists():
    """The key is mode 0600 and owned by someone else (the server runs as nobody when the test is
    root, since root reads any file): the start fails saying which file and why, and the data
    directory it was given is never created."""
    folder = pathlib.Path(tempfile.mkdtemp(prefix="ruvector-tls-"))
    try:
        folder.chmod(0o755)
        made = subprocess.run([str(DEPLOY / "make-dev-certs.sh"), str(folder / "tls")], capture_output=True, text=True, timeout=60)
        assert made.returncode == 0, made.stderr
        (folder / "tls").chmod(0o755)
        user = 65534 if os.geteuid() == 0 else None
        data = folder / "data"
        stderr = _refused_start(["--tls-cert", str(folder / "tls" / "server.pem"), "--tls-key", str(folder / "tls" / "server.key")],
                                data, user)
        assert "cannot read the TLS private key (--tls-key)" in stderr and "Permission denied" in stderr, stderr
        assert "mode 0600" in stderr, stderr
        assert not data.exists()
        # A key that is not a key: refused the same way, nothing created.
        (folder / "garbage.key").write_text("not a key\n")
        stderr = _refused_start(["--tls-cert", str(folder / "tls" / "server.pem"), "--tls-key", str(folder / "garbage.key")], data)
        assert "cannot load private key" in stderr, stderr
        assert not data.exists()
    finally:
        shutil.rmtree(folder)


def test_a_listen_port_in_use_stops_the_start_before_any_data_directory_exists(server, tmp_path):
    data = tmp_path / "second-data"
    stderr = _refused_start(["--listen", server.address], data)
    assert f"--listen {server.address} cannot be used" in stderr and "another process listens there" in stderr, stderr
    assert not data.exists()


def test_unknown_config_key_is_refused(tmp_path):
    config = tmp_path / "ruvector.json"
    config.write_text('{"listne": "127.0.0.1:0"}')
    result = subprocess.run([os.environ["RUVECTOR_SERVER_BINARY"], "--config", str(config)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "listne" in result.stderr


def test_sigterm_applies_queued_writes_and_snapshots_a_long_log(tmp_path):
    """SIGTERM: writes acknowledged with wait=False are applied, a collection with 8 MiB or more of
    log since its last snapshot is snapshotted, so the next start loads it and replays nothing."""
    import numpy as np
    import ruvector

    data = tmp_path / "data"
    vectors = np.random.default_rng(4).normal(size=(1200, 2048)).astype(np.float32)   # about 9.4 MiB of log
    # No automatic snapshot by apply time meanwhile (linked on every core, the import can owe
    # 2 s of it): the whole log is still unsnapshotted at SIGTERM.
    server = RunningServer(["--auto-snapshot-replay-millis", "0"], data)
    try:
        with ruvector.Client(server.address, timeout=60) as db:
            db.create_collection("long", dimension=2048, metric="l2")
            db.create_collection("short", dimension=4, metric="l2")
            db.import_stream("long", ((i, vectors[i]) for i in range(1200)), batch_size=200, wait=False)
            db.upsert("short", ids=[1], vectors=[[1, 2, 3, 4]])
    finally:
        assert server.stop(timeout=60) == 0
    closed = [line for line in server.stderr_lines if "collection closed" in line]
    assert any("long" in line and "snapshot" in line and "none" not in line for line in closed), closed
    assert any("short" in line and "none" in line for line in closed), closed

    server = RunningServer([], data)
    try:
        with ruvector.Client(server.address, timeout=60) as db:
            assert db.count("long") == 1200 and db.count("short") == 1
            assert [h.id for h in db.search("long", vectors[432], k=1)] == [432]
        recovered = [line for line in server.stderr_lines if "collection recovered" in line]
        assert any("long" in line and "replayed_records=0" in line for line in recovered), recovered
        assert any("short" in line and "replayed_records=1" in line for line in recovered), recovered
    finally:
        server.stop()
