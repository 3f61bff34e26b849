"""Operator-facing behaviour of the binary: TLS with client certificates, bad settings
refused clearly, SIGTERM draining open calls."""
import os
import subprocess
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


def test_example_config_in_deploy_is_valid(tmp_path):
    """The shipped example config parses (paths are rewritten to temporary ones)."""
    import json
    import pathlib

    example = json.loads((pathlib.Path(__file__).parents[2] / "deploy" / "config" / "ruvector.example.json").read_text())
    example.update({"listen": "127.0.0.1:0", "dataDir": str(tmp_path / "data"),
                    "tlsCert": str(TEST_CERTS / "server1.pem"), "tlsKey": str(TEST_CERTS / "server1.key")})
    config = tmp_path / "ruvector.json"
    config.write_text(json.dumps(example))
    server = RunningServer(["--config", str(config)], tmp_path / "data")
    assert server.stop() == 0


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
    server = RunningServer([], data)
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
