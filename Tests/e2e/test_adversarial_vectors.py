"""Attacks on VectorService that used to kill or starve the server (issue 16), each run
against a fresh server with small limits, inside `Guard` (alive, healthy, a canary client's
writes kept succeeding, its data intact, memory back near the baseline)."""
import threading
import time

import grpc
import numpy as np
import pytest
from ruvector.v1 import common_pb2, vector_pb2, vector_pb2_grpc

from adversarial import Guard, assert_healthy, cpu_while_idle, rss_bytes
from conftest import RunningServer

DIM = 128


def _stub(server, max_bytes=256 << 20):
    channel = grpc.insecure_channel(server.address, options=[
        ("grpc.max_receive_message_length", max_bytes), ("grpc.max_send_message_length", max_bytes)])
    return vector_pb2_grpc.VectorServiceStub(channel), channel


def _fill(stub, name, count, dim=DIM, payload_bytes=200, seed=1):
    # A sparse graph (M 4, ef_construction 16) builds fast in a debug server; these tests need
    # many points, not a good graph.
    stub.CreateCollection(vector_pb2.CreateCollectionRequest(name=name, dimension=dim, metric=vector_pb2.METRIC_L2,
                                                             hnsw=vector_pb2.HnswConfig(m=4, ef_construction=16)))
    rng = np.random.default_rng(seed)
    note = "x" * payload_bytes
    for start in range(0, count, 2000):
        points = [vector_pb2.PointStruct(
            id=common_pb2.PointId(num=i), vector=common_pb2.Vector(values=rng.normal(size=dim).astype(np.float32).tolist()),
            payload=common_pb2.Struct(fields={"note": common_pb2.Value(string_value=note),
                                              "n": common_pb2.Value(int_value=i)}))
            for i in range(start, min(count, start + 2000))]
        stub.Upsert(vector_pb2.UpsertRequest(collection=name, points=points))
    return rng


def _search(name, rng, k, exact=False, vectors=True, dim=DIM, ef=0):
    request = vector_pb2.SearchRequest(collection=name, vector=common_pb2.Vector(values=rng.normal(size=dim).astype(np.float32).tolist()),
                                       k=k, params=vector_pb2.SearchParams(exact=exact, ef=ef))
    getattr(request, "with").with_payload = vectors
    getattr(request, "with").with_vectors = vectors
    return request


@pytest.fixture
def small_server(tmp_path):
    """A server whose calls may hold 256 MiB each and 1.5 GiB together."""
    running = RunningServer(["--memory-limit", "1536MiB", "--call-memory-limit", "256MiB",
                             "--max-send-message-bytes", str(1 << 30)], tmp_path / "data")
    yield running
    running.stop()


def test_concurrent_huge_search_batches_are_refused_before_they_are_built(small_server):
    """Was: 4 concurrent SearchBatch calls (1000 queries x k=10000 with vectors and payloads)
    pushed RSS to 19 GB, and 14.7 GB stayed after they failed."""
    stub, channel = _stub(small_server, max_bytes=1 << 30)
    rng = _fill(stub, "docs", 12_000)
    batch = vector_pb2.SearchBatchRequest(searches=[_search("docs", rng, 10_000) for _ in range(1000)])
    with Guard(small_server, rss_slack_bytes=200 << 20) as guard:
        outcomes = []

        def attack():
            try:
                stub.SearchBatch(batch, timeout=120)
                outcomes.append("answered")
            except grpc.RpcError as error:
                outcomes.append((error.code(), error.details()))
        threads = [threading.Thread(target=attack) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=150)
        assert len(outcomes) == 4
        for outcome in outcomes:
            assert outcome != "answered"
            code, details = outcome
            assert code == grpc.StatusCode.RESOURCE_EXHAUSTED, details
            assert "--call-memory-limit" in details or "--memory-limit" in details, details
    # Each call stopped at its own 256 MiB: the four together never came near a gigabyte.
    assert guard.peak_rss - guard.baseline_rss < 1536 << 20, f"peak RSS {guard.peak_rss >> 20} MiB"
    channel.close()


def test_a_batch_past_the_response_limit_is_refused_while_it_is_built(server):
    """With the default 64 MiB response limit, a batch whose answer would pass it fails with
    RESOURCE_EXHAUSTED naming the limit (and the server never builds the whole answer)."""
    stub, channel = _stub(server)
    rng = _fill(stub, "docs", 3000)
    batch = vector_pb2.SearchBatchRequest(searches=[_search("docs", rng, 3000) for _ in range(200)])
    with Guard(server):
        with pytest.raises(grpc.RpcError) as info:
            stub.SearchBatch(batch, timeout=60)
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "response limit of 64 MiB" in info.value.details()
        assert "SearchStream" in info.value.details()
    channel.close()


def _big_filter(conditions):
    return common_pb2.Filter(should=[common_pb2.Condition(field=common_pb2.FieldCondition(
        key=f"k{i}", match=common_pb2.Match(integer=i))) for i in range(conditions)])


def test_a_filter_of_a_hundred_thousand_conditions_is_refused_at_once(server):
    """Was: a Count with a 100,000-condition filter burned 180 s of CPU, and went on after
    DEADLINE_EXCEEDED."""
    stub, channel = _stub(server)
    _fill(stub, "docs", 2000)
    with Guard(server):
        started = time.monotonic()
        with pytest.raises(grpc.RpcError) as info:
            stub.Count(vector_pb2.CountRequest(collection="docs", filter=_big_filter(100_000)), timeout=30)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "at most 1024 conditions" in info.value.details()
        assert len(info.value.details()) < 300
        assert time.monotonic() - started < 5
        listed = common_pb2.Filter(must=[common_pb2.Condition(field=common_pb2.FieldCondition(
            key="n", match=common_pb2.Match(any_integers=common_pb2.RepeatedIntegers(values=list(range(20_000))))))])
        with pytest.raises(grpc.RpcError) as info:
            stub.Count(vector_pb2.CountRequest(collection="docs", filter=listed), timeout=30)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "at most 10000 values" in info.value.details()
    channel.close()


def test_work_stops_when_the_deadline_passes(tmp_path):
    """A filtered count and a batch of exact searches that take many seconds end with
    DEADLINE_EXCEEDED, and the server's CPU goes quiet right after (the work stopped)."""
    server = RunningServer([], tmp_path / "data")
    try:
        stub, channel = _stub(server)
        rng = _fill(stub, "docs", 20_000, payload_bytes=20)
        heavy_filter = common_pb2.Filter(must_not=[common_pb2.Condition(filter=_big_filter(1000))])
        batch = vector_pb2.SearchBatchRequest(searches=[_search("docs", rng, 10, exact=True, vectors=False) for _ in range(1000)])
        with Guard(server):
            for call in (lambda: stub.Count(vector_pb2.CountRequest(collection="docs", filter=heavy_filter), timeout=0.5),
                         lambda: stub.SearchBatch(batch, timeout=0.5)):
                with pytest.raises(grpc.RpcError) as info:
                    call()
                assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
                time.sleep(0.2)
                assert cpu_while_idle(server, 1.0) < 0.2, "the server kept working after the deadline"
        channel.close()
    finally:
        server.stop()


def _slow_filter():
    """1000 conditions of 10 listed values each, none matching: every point tests them all."""
    return common_pb2.Filter(must_not=[common_pb2.Condition(field=common_pb2.FieldCondition(
        key=f"k{i}", match=common_pb2.Match(any_integers=common_pb2.RepeatedIntegers(values=list(range(10))))))
        for i in range(1000)])


def test_a_cancelled_stream_stops_the_search_in_progress(server):
    """A SearchStream cancelled while an exact, heavily filtered search runs: the search itself
    stops (before, it ran to its end, seconds later)."""
    stub, channel = _stub(server)
    rng = _fill(stub, "docs", 20_000, payload_bytes=20)
    with Guard(server):
        slow = _search("docs", rng, 10, exact=True, vectors=False)
        slow.filter.CopyFrom(_slow_filter())
        answers = stub.SearchStream(iter([slow] * 3))
        time.sleep(0.5)
        answers.cancel()
        time.sleep(0.3)
        assert cpu_while_idle(server, 1.0) < 0.2, "the server kept searching after the stream was cancelled"
        # The same search, run to its end, outlasts the cancel and the quiet window measured above.
        started = time.monotonic()
        single = stub.Search(slow, timeout=120)
        assert time.monotonic() - started > 1.5, "the search is too fast to tell whether it was stopped"
        assert len(single.hits) == 10
    channel.close()


def test_heavy_searches_do_not_starve_writes_or_health(tmp_path):
    """Was: twelve heavy requests filled the one shared blocking pool, and upserts, snapshots
    and collection creation timed out for 90 s. Searches now have their own threads and queue:
    writes and health go on, and calls past the queue are refused at once."""
    server = RunningServer(["--work-queue-limit", "16", "--connection-queue-limit", "16"], tmp_path / "data")
    try:
        stub, channel = _stub(server)
        rng = _fill(stub, "docs", 20_000, payload_bytes=20)
        batch = vector_pb2.SearchBatchRequest(searches=[_search("docs", rng, 10, exact=True, vectors=False) for _ in range(100)])
        with Guard(server, max_canary_latency=3.0) as guard:
            outcomes = []

            def attack():
                try:
                    stub.SearchBatch(batch, timeout=60)
                    outcomes.append("answered")
                except grpc.RpcError as error:
                    outcomes.append(error.code())
            threads = [threading.Thread(target=attack) for _ in range(40)]
            for t in threads:
                t.start()
            time.sleep(1.0)
            # Meanwhile: health answers, a collection can be created and snapshotted.
            assert_healthy(server, timeout=2)
            started = time.monotonic()
            stub.CreateCollection(vector_pb2.CreateCollectionRequest(name="during", dimension=4, metric=vector_pb2.METRIC_L2), timeout=5)
            stub.CreateSnapshot(vector_pb2.CreateSnapshotRequest(collection="during"), timeout=5)
            assert time.monotonic() - started < 3
            for t in threads:
                t.join(timeout=120)
            # 2 run, 16 wait: the rest were refused at once.
            assert outcomes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) >= 40 - 2 - 16 - 2, outcomes
            assert "answered" in outcomes
        assert len(guard.canary.latencies) >= 10
        channel.close()
    finally:
        server.stop()


def test_the_server_refuses_writes_at_its_memory_limit_instead_of_dying(tmp_path):
    """Upserts past --memory-limit are refused with RESOURCE_EXHAUSTED naming the limit;
    the server stays up and reads go on. (Points carry 16 KB payloads, so memory grows fast
    while the index work stays small.)"""
    server = RunningServer(["--memory-limit", "160MiB", "--call-memory-limit", "32MiB"], tmp_path / "data")
    try:
        stub, channel = _stub(server)
        dim = 16
        stub.CreateCollection(vector_pb2.CreateCollectionRequest(name="big", dimension=dim, metric=vector_pb2.METRIC_L2,
                                                                 hnsw=vector_pb2.HnswConfig(m=4, ef_construction=16)))
        rng = np.random.default_rng(3)
        note = common_pb2.Value(string_value="y" * 16_000)
        written, refusal = 0, None
        for start in range(0, 100_000, 200):
            points = [vector_pb2.PointStruct(id=common_pb2.PointId(num=i), payload=common_pb2.Struct(fields={"note": note}),
                                             vector=common_pb2.Vector(values=rng.normal(size=dim).astype(np.float32).tolist()))
                      for i in range(start, start + 200)]
            try:
                stub.Upsert(vector_pb2.UpsertRequest(collection="big", points=points), timeout=60)
                written += 200
            except grpc.RpcError as error:
                refusal = error
                break
            time.sleep(0.05)     # lets the server sample its memory as it grows
        assert refusal is not None, f"wrote {written} points of 16 KB without reaching the limit"
        assert refusal.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "--memory-limit" in refusal.details()
        assert rss_bytes(server) < 320 << 20
        assert_healthy(server)
        count = stub.Count(vector_pb2.CountRequest(collection="big")).count
        assert count == written
        hits = stub.Search(_search("big", rng, 5, vectors=False, dim=dim)).hits
        assert len(hits) == 5
        channel.close()
    finally:
        server.stop()
