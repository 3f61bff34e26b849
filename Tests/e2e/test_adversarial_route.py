"""Attacks on RouteService, each inside `Guard` (the server alive and healthy, a canary client's
writes going on, memory back near its baseline): oversized and non-finite features, too many
candidates and examples, unknown routers, duplicate names, a second Train while one runs, and
hostile ImportRouter bytes (flipped, truncated). Each gets a clear status and leaves no trace."""
import math
import time

import grpc
import pytest
from ruvector.v1 import common_pb2, route_pb2, route_pb2_grpc

from adversarial import Guard
from conftest import expect_status

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def _stub(server):
    channel = grpc.insecure_channel(server.address, options=[("grpc.max_send_message_length", 64 << 20)])
    return route_pb2_grpc.RouteServiceStub(channel), channel


def _create(stub, name="r", candidates=2, feature_size=4, time_steps=1, **settings):
    request = route_pb2.CreateRouterRequest(
        name=name, candidates=[route_pb2.Candidate(name=f"c{i}", cost=float(i)) for i in range(candidates)],
        feature_size=feature_size, time_steps=time_steps, **settings)
    return stub.CreateRouter(request, timeout=10)


def _route(stub, values, router="r"):
    return stub.Route(route_pb2.RouteRequest(router=router, features=common_pb2.Vector(values=values)), timeout=10)


@pytest.mark.parametrize("request_fields, words", [
    (dict(candidates=257), "candidates"),
    (dict(candidates=1), "candidates"),
    (dict(feature_size=5000), "feature_size"),
    (dict(feature_size=4096, time_steps=64), "time_steps x feature_size"),
    (dict(hidden_size=100000), "hidden_size"),
    (dict(conformal_alpha=float("nan")), "conformal_alpha"),
    (dict(confidence_threshold=1.5), "confidence_threshold"),
    (dict(name="../etc"), "name"),
    (dict(name=""), "name"),
    (dict(outcome_window=99), "outcome_window"),
    (dict(outcome_window=100001), "outcome_window"),
    (dict(outcome_window=2**32 - 1), "outcome_window"),
])
def test_bad_router_definitions_are_refused_and_write_nothing(server, request_fields, words):
    stub, channel = _stub(server)
    with Guard(server, rss_slack_bytes=128 << 20), channel:
        fields = dict(request_fields)
        name = fields.pop("name", "r")
        message = expect_status(INVALID, lambda: _create(stub, name=name, **fields))
        assert words in message, message
        assert not (server.data_dir / "route" / "r").exists()
        assert list(stub.ListRouters(route_pb2.ListRoutersRequest(), timeout=10).routers) == []


def test_duplicate_names_are_refused(server):
    stub, channel = _stub(server)
    with Guard(server, rss_slack_bytes=128 << 20), channel:
        _create(stub)
        expect_status(grpc.StatusCode.ALREADY_EXISTS, lambda: _create(stub))
        duplicated = route_pb2.CreateRouterRequest(name="d", feature_size=2, candidates=[route_pb2.Candidate(name="x")] * 2)
        assert "twice" in expect_status(INVALID, lambda: stub.CreateRouter(duplicated, timeout=10))


def test_oversized_and_non_finite_features_are_refused(server):
    stub, channel = _stub(server)
    with Guard(server, rss_slack_bytes=128 << 20), channel:
        _create(stub)
        assert "4 values" in expect_status(INVALID, lambda: _route(stub, [0.0] * 3))
        assert "4 values" in expect_status(INVALID, lambda: _route(stub, [0.0] * 1_000_000))
        for bad in (math.nan, math.inf, -math.inf):
            assert "not finite" in expect_status(INVALID, lambda: _route(stub, [0.0, bad, 0.0, 0.0]))
        outcome = route_pb2.RecordOutcomeRequest(router="r", candidate="c0", success=True,
                                                 features=common_pb2.Vector(values=[math.nan] * 4))
        expect_status(INVALID, lambda: stub.RecordOutcome(outcome, timeout=10))
        unknown = route_pb2.RecordOutcomeRequest(router="r", candidate="nobody", success=True,
                                                 features=common_pb2.Vector(values=[0.0] * 4))
        assert "no candidate" in expect_status(INVALID, lambda: stub.RecordOutcome(unknown, timeout=10))
        forgotten = route_pb2.RecordOutcomeRequest(router="r", candidate="c0", success=True, request_id="never-routed")
        expect_status(grpc.StatusCode.FAILED_PRECONDITION, lambda: stub.RecordOutcome(forgotten, timeout=10))
        status = stub.GetStatus(route_pb2.RouterStatusRequest(router="r"), timeout=10)
        assert status.outcomes_recorded == 0


def test_too_many_examples_and_bad_embeddings_are_refused(server):
    stub, channel = _stub(server)
    with Guard(server, rss_slack_bytes=256 << 20), channel:
        _create(stub)
        many = route_pb2.SemanticRoute(name="big", examples=[common_pb2.Vector(values=[1.0, 0.0])] * 1001)
        assert "1000" in expect_status(INVALID, lambda: stub.RegisterRoute(route_pb2.RegisterRouteRequest(router="r", route=many), timeout=10))
        zero = route_pb2.SemanticRoute(name="z", examples=[common_pb2.Vector(values=[0.0, 0.0])])
        expect_status(INVALID, lambda: stub.RegisterRoute(route_pb2.RegisterRouteRequest(router="r", route=zero), timeout=10))
        ok = route_pb2.SemanticRoute(name="ok", examples=[common_pb2.Vector(values=[1.0, 0.0])])
        stub.RegisterRoute(route_pb2.RegisterRouteRequest(router="r", route=ok), timeout=10)
        wide = route_pb2.SemanticRoute(name="wide", examples=[common_pb2.Vector(values=[1.0, 0.0, 0.0])])
        assert "dimension" in expect_status(INVALID, lambda: stub.RegisterRoute(route_pb2.RegisterRouteRequest(router="r", route=wide), timeout=10))
        for values in ([math.nan, 1.0], [1.0], [0.0] * 5000):
            expect_status(INVALID, lambda: stub.MatchRoute(route_pb2.MatchRouteRequest(router="r", embedding=common_pb2.Vector(values=values)), timeout=10))
        assert [r.name for r in stub.ListRoutes(route_pb2.ListRoutesRequest(router="r"), timeout=10).routes] == ["ok"]


def test_unknown_routers_are_not_found(server):
    stub, channel = _stub(server)
    with Guard(server, rss_slack_bytes=128 << 20), channel:
        expect_status(grpc.StatusCode.NOT_FOUND, lambda: _route(stub, [0.0] * 4, router="ghost"))
        expect_status(grpc.StatusCode.NOT_FOUND, lambda: stub.GetStatus(route_pb2.RouterStatusRequest(router="ghost"), timeout=10))
        expect_status(grpc.StatusCode.NOT_FOUND, lambda: list(stub.Train(route_pb2.TrainRouterRequest(router="ghost"), timeout=10)))
        expect_status(grpc.StatusCode.NOT_FOUND, lambda: stub.DeleteRouter(route_pb2.DeleteRouterRequest(name="ghost"), timeout=10))
        expect_status(INVALID, lambda: _route(stub, [0.0] * 4, router="../../etc"))


def _fill(stub, count: int, values_per_request: int = 4) -> None:
    for i in range(count):
        values = [float((i * 7 + j) % 5) - 2 for j in range(values_per_request)]
        stub.RecordOutcome(route_pb2.RecordOutcomeRequest(router="r", candidate="c0" if values[0] > 0 else "c1",
                                                          success=True, features=common_pb2.Vector(values=values)),
                           timeout=10)


def _train_once_free(stub) -> route_pb2.TrainRouterProgress:
    """Trains one epoch once the stopped run has let go of the router (FAILED_PRECONDITION until then);
    returns the last message."""
    for _ in range(100):
        try:
            done = list(stub.Train(route_pb2.TrainRouterRequest(router="r", epochs=1), timeout=30))
            assert done[-1].done
            return done[-1]
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, error.details()
            time.sleep(0.05)
    raise AssertionError("the stopped run still holds the router after 5 s")


def test_a_second_train_while_one_runs_is_refused(server):
    stub, channel = _stub(server)
    with Guard(server, rss_slack_bytes=256 << 20), channel:
        # 16 steps x 4 features through 128 hidden units: 1000 epochs take far longer than the test.
        _create(stub, hidden_size=128, time_steps=16)
        expect_status(grpc.StatusCode.FAILED_PRECONDITION, lambda: list(stub.Train(route_pb2.TrainRouterRequest(router="r"), timeout=10)))
        _fill(stub, 200, values_per_request=64)
        running = stub.Train(route_pb2.TrainRouterRequest(router="r", epochs=1000), timeout=60)
        first = next(running)
        assert first.epoch == 1
        message = expect_status(grpc.StatusCode.FAILED_PRECONDITION,
                                lambda: list(stub.Train(route_pb2.TrainRouterRequest(router="r"), timeout=10)))
        assert "already training" in message
        running.cancel()
        # The cancelled run stored nothing; the router trains again once it has stopped.
        assert _train_once_free(stub).model_version == 1


def _import(stub, name: str, data: bytes, trailer_crc: int | None = None):
    from ruvector.crc import crc32c
    chunk = common_pb2.FileChunk(offset=0, data=data,
                                 trailer=common_pb2.FileTrailer(size_bytes=len(data), crc32c=crc32c(data) if trailer_crc is None else trailer_crc))
    return stub.ImportRouter(iter([route_pb2.ImportRouterRequest(router=name, chunk=chunk)]), timeout=10)


def test_hostile_import_bytes_are_refused(server):
    stub, channel = _stub(server)
    with Guard(server, rss_slack_bytes=256 << 20), channel:
        _create(stub)
        ok = route_pb2.SemanticRoute(name="ok", examples=[common_pb2.Vector(values=[1.0, 0.0])])
        stub.RegisterRoute(route_pb2.RegisterRouteRequest(router="r", route=ok), timeout=10)
        chunks = list(stub.ExportRouter(route_pb2.ExportRouterRequest(router="r"), timeout=10))
        data = b"".join(c.data for c in chunks)
        assert _import(stub, "copy", data).definition.name == "copy"
        for i in range(0, len(data), max(1, len(data) // 40)):
            flipped = bytearray(data)
            flipped[i] ^= 0x5A
            expect_status(INVALID, lambda: _import(stub, "flipped", bytes(flipped)))
        for cut in (0, 4, len(data) // 2, len(data) - 1):
            expect_status(INVALID, lambda: _import(stub, "cut", data[:cut]))
        expect_status(grpc.StatusCode.DATA_LOSS, lambda: _import(stub, "crc", data, trailer_crc=1))
        expect_status(grpc.StatusCode.ALREADY_EXISTS, lambda: _import(stub, "copy", data))
        expect_status(INVALID, lambda: _import(stub, "../x", data))
        names = [r.definition.name for r in stub.ListRouters(route_pb2.ListRoutersRequest(), timeout=10).routers]
        assert names == ["copy", "r"]


def test_a_deadline_reaches_the_training_loop_and_stores_nothing(server):
    stub, channel = _stub(server)
    with Guard(server, rss_slack_bytes=256 << 20), channel:
        _create(stub, hidden_size=128, time_steps=16)
        _fill(stub, 200, values_per_request=64)
        started = time.monotonic()
        expect_status(grpc.StatusCode.DEADLINE_EXCEEDED,
                      lambda: list(stub.Train(route_pb2.TrainRouterRequest(router="r", epochs=1000), timeout=1.5)))
        # 1000 epochs of this router take minutes: the run stopped at the deadline.
        assert time.monotonic() - started < 10
        # The run stopped: the next one starts (after the cancelled one let go) and is version 1.
        assert _train_once_free(stub).model_version == 1



def test_the_widest_router_trains_and_routes_within_its_bounds(server):
    """4096 features through 256 hidden units (past RouteLimits.inlineMultiplyAdds: decided on the search
    pool, not the call's task): outcomes, one training epoch and decisions work, the server stays healthy."""
    stub, channel = _stub(server)
    with Guard(server, rss_slack_bytes=512 << 20), channel:
        _create(stub, name="wide", feature_size=4096, hidden_size=256)
        for i in range(40):
            values = [float((i + j) % 7) - 3 for j in range(4096)]
            stub.RecordOutcome(route_pb2.RecordOutcomeRequest(router="wide", request_id=f"w{i}", candidate=f"c{i % 2}",
                                                              success=True, features=common_pb2.Vector(values=values)),
                               timeout=30)
        done = list(stub.Train(route_pb2.TrainRouterRequest(router="wide", epochs=1), timeout=120))
        assert done[-1].done and done[-1].model_version == 1
        decision = _route(stub, [0.5] * 4096, router="wide")
        assert decision.model_version == 1 and len(decision.alternatives) == 2
