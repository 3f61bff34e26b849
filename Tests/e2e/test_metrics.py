"""Prometheus metrics (--metrics-listen) from the real binary: calls by method and status,
latency histograms, points per collection, write-ahead log activity."""
import urllib.error
import urllib.request

import grpc
import pytest
from ruvector.v1 import common_pb2, vector_pb2, vector_pb2_grpc

from conftest import RunningServer


def _scrape(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def _with_metrics(data, *args):
    running = RunningServer(["--metrics-listen", "127.0.0.1:0", *args], data)
    running.metrics_url = running.read_metrics_url()
    return running


@pytest.fixture
def server(tmp_path):
    running = _with_metrics(tmp_path / "data")
    yield running
    running.stop()


def test_metrics_count_calls_points_and_log(server):
    stub = vector_pb2_grpc.VectorServiceStub(grpc.insecure_channel(server.address))
    stub.CreateCollection(vector_pb2.CreateCollectionRequest(name="docs", dimension=2, metric=vector_pb2.METRIC_L2))
    for i in range(5):
        stub.Upsert(vector_pb2.UpsertRequest(collection="docs", points=[vector_pb2.PointStruct(
            id=common_pb2.PointId(num=i), vector=common_pb2.Vector(values=[i, i]))]))
    for _ in range(7):
        stub.Search(vector_pb2.SearchRequest(collection="docs", vector=common_pb2.Vector(values=[0, 0]), k=1))
    for _ in range(3):
        with pytest.raises(grpc.RpcError):
            stub.Search(vector_pb2.SearchRequest(collection="missing", vector=common_pb2.Vector(values=[0, 0]), k=1))
    # A path the router does not know must not create a label.
    with pytest.raises(grpc.RpcError):
        grpc.insecure_channel(server.address).unary_unary("/made.Up/Thing")(b"")

    samples = _scrape(server.metrics_url)
    search = 'method="/ruvector.v1.VectorService/Search"'
    assert samples[f'ruvector_rpc_requests_total{{{search},code="OK"}}'] == 7
    assert samples[f'ruvector_rpc_requests_total{{{search},code="NOT_FOUND"}}'] == 3
    assert samples[f'ruvector_rpc_duration_seconds_count{{{search}}}'] == 10
    assert samples[f'ruvector_rpc_duration_seconds_bucket{{{search},le="+Inf"}}'] == 10
    buckets = [v for k, v in samples.items() if k.startswith(f"ruvector_rpc_duration_seconds_bucket{{{search}")]
    assert buckets == sorted(buckets)      # cumulative
    assert not any("made.Up" in k for k in samples)
    assert samples['ruvector_collection_points{collection="docs"}'] == 5
    assert samples['ruvector_collection_queued_writes{collection="docs"}'] == 0
    assert samples['ruvector_wal_appends_total{collection="docs"}'] == 5
    assert samples['ruvector_wal_bytes_total{collection="docs"}'] > 5 * 8
    assert samples['ruvector_wal_syncs_total{collection="docs"}'] >= 1


def test_metrics_endpoint_serves_only_get_metrics(server):
    base = server.metrics_url.rsplit("/", 1)[0]
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(base + "/other", timeout=10)
    assert info.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(urllib.request.Request(server.metrics_url, data=b"x" * 100_000, method="POST"), timeout=10)
    assert info.value.code == 405
    assert "ruvector_rpc_requests_total" in urllib.request.urlopen(server.metrics_url, timeout=10).read().decode()


def test_metrics_listen_is_validated(tmp_path):
    import os
    import subprocess
    result = subprocess.run([os.environ["RUVECTOR_SERVER_BINARY"], "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path),
                             "--metrics-listen", "nonsense"], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "--metrics-listen must be HOST:PORT" in result.stderr


@pytest.mark.parametrize("policy", ["always", "batch", "never"])
def test_wal_sync_policy_decides_the_syncs(tmp_path, policy):
    """--wal-sync: always and batch fdatasync before a write is acknowledged, never leaves it to the OS."""
    server = _with_metrics(tmp_path / "data", "--wal-sync", policy)
    try:
        stub = vector_pb2_grpc.VectorServiceStub(grpc.insecure_channel(server.address))
        stub.CreateCollection(vector_pb2.CreateCollectionRequest(name="docs", dimension=2, metric=vector_pb2.METRIC_L2))
        for i in range(5):
            stub.Upsert(vector_pb2.UpsertRequest(collection="docs", points=[vector_pb2.PointStruct(
                id=common_pb2.PointId(num=i), vector=common_pb2.Vector(values=[i, i]))]))
        samples = _scrape(server.metrics_url)
        assert samples['ruvector_wal_appends_total{collection="docs"}'] == 5
        # One client, one write at a time: each durable write waited for its own sync.
        assert samples['ruvector_wal_syncs_total{collection="docs"}'] == (0 if policy == "never" else 5)
    finally:
        assert server.stop() == 0
