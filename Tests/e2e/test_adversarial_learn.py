"""Attacks on LearnService, each inside `Guard` (the server alive and healthy, a canary client's
writes going on, memory back near its baseline): oversized feedback, hostile ImportModel
streams, and a flood of feedback bounded by the work queues."""
import threading
import time

import grpc
import numpy as np
from ruvector.v1 import common_pb2, learn_pb2, learn_pb2_grpc, vector_pb2, vector_pb2_grpc

from adversarial import Guard
from conftest import RunningServer

DIM = 16


def _setup(server, points: int = 200):
    channel = grpc.insecure_channel(server.address, options=[("grpc.max_send_message_length", 256 << 20)])
    vectors = vector_pb2_grpc.VectorServiceStub(channel)
    vectors.CreateCollection(vector_pb2.CreateCollectionRequest(name="docs", dimension=DIM, metric=vector_pb2.METRIC_L2))
    rng = np.random.default_rng(3)
    vectors.Upsert(vector_pb2.UpsertRequest(collection="docs", points=[
        vector_pb2.PointStruct(id=common_pb2.PointId(num=i), vector=common_pb2.Vector(values=rng.normal(size=DIM).tolist()))
        for i in range(points)]))
    return learn_pb2_grpc.LearnServiceStub(channel), channel


def _feedback(query_id: int, clicked: int) -> learn_pb2.RecordFeedbackRequest:
    return learn_pb2.RecordFeedbackRequest(collection="docs", query_id=common_pb2.PointId(num=query_id),
                                           shown=[common_pb2.PointId(num=i) for i in range(20)],
                                           judgements=[learn_pb2.Judgement(id=common_pb2.PointId(num=clicked), grade=1)])


def _status(learn) -> learn_pb2.ModelStatus:
    return learn.GetModelStatus(learn_pb2.ModelStatusRequest(collection="docs"), timeout=10)


def test_oversized_feedback_is_refused_and_leaves_nothing(server):
    learn, channel = _setup(server)
    with Guard(server, rss_slack_bytes=128 << 20):
        too_many = learn_pb2.RecordFeedbackRequest(
            collection="docs", query_id=common_pb2.PointId(num=1),
            judgements=[learn_pb2.Judgement(id=common_pb2.PointId(num=i % 200), grade=1) for i in range(50_000)])
        try:
            learn.RecordFeedback(too_many, timeout=30)
            raise AssertionError("50,000 judgements were accepted")
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "at most 1000" in error.details(), error.details()
        huge_query = learn_pb2.RecordFeedbackRequest(collection="docs", query=common_pb2.Vector(values=[0.5] * 3_000_000),
                                                     judgements=[learn_pb2.Judgement(id=common_pb2.PointId(num=1), grade=1)])
        try:
            learn.RecordFeedback(huge_query, timeout=30)
            raise AssertionError("a query of 3,000,000 dimensions was accepted")
        except grpc.RpcError as error:
            assert error.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED), error.details()
    assert _status(learn).feedback_buffered == 0
    channel.close()


def test_hostile_import_streams_are_refused_at_their_first_message(server):
    learn, channel = _setup(server)
    with Guard(server, rss_slack_bytes=128 << 20):
        def chunks(collection: str, total_bytes: int):
            piece = b"\xff" * (1 << 20)
            yield learn_pb2.ImportModelRequest(collection=collection, chunk=common_pb2.FileChunk(offset=7, data=piece))
            for n in range(1, total_bytes >> 20):
                yield learn_pb2.ImportModelRequest(chunk=common_pb2.FileChunk(offset=n << 20, data=piece))

        for collection, code in (("docs", grpc.StatusCode.INVALID_ARGUMENT), ("nowhere", grpc.StatusCode.NOT_FOUND),
                                 ("../etc", grpc.StatusCode.INVALID_ARGUMENT)):
            started = time.monotonic()
            try:
                learn.ImportModel(chunks(collection, 512 << 20), timeout=60)
                raise AssertionError(f"a hostile import into {collection!r} was accepted")
            except grpc.RpcError as error:
                assert error.code() == code, (collection, error.code(), error.details())
            # Refused at the first message: the 512 MiB behind it are never read.
            assert time.monotonic() - started < 20
    status = _status(learn)
    assert status.version == 0 and status.latest_version == 0
    channel.close()


def test_a_flood_of_feedback_is_bounded_by_the_work_queues(tmp_path):
    """Feedback is a write: 48 threads on one connection hold at most that connection's share
    of the write queue (8 of 32), the rest is refused at once, and another client's point
    writes go on."""
    server = RunningServer(["--work-queue-limit", "32", "--connection-queue-limit", "8"], tmp_path / "data")
    try:
        learn, channel = _setup(server)
        with Guard(server, max_canary_latency=5.0):
            outcomes: list[grpc.StatusCode] = []
            lock = threading.Lock()

            def attack(thread: int):
                for n in range(25):
                    try:
                        learn.RecordFeedback(_feedback(thread, (thread + n) % 200), timeout=30)
                        code = grpc.StatusCode.OK
                    except grpc.RpcError as error:
                        code = error.code()
                    with lock:
                        outcomes.append(code)
            threads = [threading.Thread(target=attack, args=(t,)) for t in range(48)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=120)
        assert len(outcomes) == 48 * 25
        assert set(outcomes) <= {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}, set(outcomes)
        accepted = outcomes.count(grpc.StatusCode.OK)
        assert accepted > 0
        # Every acknowledged record is held, and nothing refused was written.
        assert _status(learn).feedback_buffered == accepted
        channel.close()
    finally:
        server.stop()


def test_training_is_bounded_in_memory_and_one_run_at_a_time(tmp_path):
    """A run whose examples would pass the per-call memory limit stops with RESOURCE_EXHAUSTED
    and stores nothing; 16 Train calls at once start at most one run, the rest are refused at
    once, and cancelling every call leaves the server healthy with no model stored."""
    server = RunningServer(["--call-memory-limit", "1MiB"], tmp_path / "data")
    try:
        learn, channel = _setup(server, points=2000)
        rng = np.random.default_rng(4)
        for n in range(400):
            learn.RecordFeedback(learn_pb2.RecordFeedbackRequest(
                collection="docs", query=common_pb2.Vector(values=rng.normal(size=DIM).tolist()),
                shown=[common_pb2.PointId(num=int(i)) for i in rng.choice(2000, size=100, replace=False)],
                judgements=[learn_pb2.Judgement(id=common_pb2.PointId(num=n % 2000), grade=1)]), timeout=30)
        with Guard(server, max_canary_latency=5.0):
            try:
                list(learn.Train(learn_pb2.TrainRequest(collection="docs", epochs=1), timeout=120))
                raise AssertionError("a run past the call memory limit was accepted")
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, error.details()
            assert _status(learn).latest_version == 0

            calls = [learn.Train(learn_pb2.TrainRequest(collection="docs", epochs=1000), timeout=120) for _ in range(16)]
            time.sleep(1.0)
            for call in calls:
                call.cancel()
            codes = []
            for call in calls:
                try:
                    list(call)
                    codes.append(grpc.StatusCode.OK)
                except grpc.RpcError as error:
                    codes.append(error.code())
            assert grpc.StatusCode.OK not in codes
            assert set(codes) <= {grpc.StatusCode.CANCELLED, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.RESOURCE_EXHAUSTED}, codes
        assert _status(learn).latest_version == 0
        channel.close()
    finally:
        server.stop()
