"""Keepalive and connection ageing as grpcio (gRPC core) sees them: it reconnects transparently
when the server ages its connection out, a call that outlives the grace is cut, and a client
pinging too often is told "too_many_pings" and keeps working after backing off."""
import threading
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from conftest import RunningServer


def _check(channel, timeout=10):
    return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=timeout)


def test_grpcio_calls_keep_succeeding_across_max_age_reconnects(tmp_path):
    server = RunningServer(["--max-connection-age-seconds", "0.4", "--max-connection-age-grace-seconds", "5",
                            "--log-level", "debug"], tmp_path / "data")
    try:
        with grpc.insecure_channel(server.address) as channel:
            calls, end = 0, time.monotonic() + 3
            while time.monotonic() < end:
                assert _check(channel).status == health_pb2.HealthCheckResponse.SERVING
                calls += 1
            assert calls > 20
    finally:
        assert server.stop() == 0
    # Each connection that aged out said so; grpcio opened a new one each time.
    aged = sum("connection at its max age" in line for line in server.stderr_lines)
    assert aged >= 4, f"{aged} connections aged out in 3 s with a 0.4 s max age"


def test_a_call_longer_than_the_grace_is_cut_and_the_next_call_reconnects(tmp_path):
    server = RunningServer(["--max-connection-age-seconds", "0.3", "--max-connection-age-grace-seconds", "0.7"],
                           tmp_path / "data")
    try:
        with grpc.insecure_channel(server.address) as channel:
            _check(channel)
            watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(), timeout=30)
            started = time.monotonic()
            statuses = []
            try:
                for response in watch:
                    statuses.append(response.status)
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.UNAVAILABLE, error.details()
            waited = time.monotonic() - started
            assert statuses and statuses[0] == health_pb2.HealthCheckResponse.SERVING
            assert waited < 10, f"the watch outlived the grace by {waited:.1f} s"
            assert _check(channel).status == health_pb2.HealthCheckResponse.SERVING
    finally:
        assert server.stop() == 0


def test_grpcio_pinging_too_often_is_told_too_many_pings_and_keeps_working(tmp_path):
    server = RunningServer(["--keepalive-min-ping-interval-seconds", "5"], tmp_path / "data")
    options = [("grpc.keepalive_time_ms", 100), ("grpc.keepalive_timeout_ms", 5000),
               ("grpc.keepalive_permit_without_calls", 1), ("grpc.http2.max_pings_without_data", 0),
               ("grpc.http2.min_time_between_pings_ms", 100)]
    try:
        with grpc.insecure_channel(server.address, options=options) as channel:
            _check(channel)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not any("too_many_pings" in line for line in server.stderr_lines):
                time.sleep(0.1)
            assert any("too_many_pings" in line for line in server.stderr_lines), "".join(server.stderr_lines[-20:])
            # grpcio reconnects (with a longer keepalive time) and calls go on.
            for _ in range(5):
                assert _check(channel).status == health_pb2.HealthCheckResponse.SERVING
    finally:
        assert server.stop() == 0
