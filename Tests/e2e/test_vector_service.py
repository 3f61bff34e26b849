"""VectorService end to end through the real binary: collections, upsert, search with
filters, get, count, scroll, delete, the error statuses, and data that survives a restart."""
import math
import random

import grpc
import pytest
from ruvector.v1 import common_pb2, vector_pb2, vector_pb2_grpc

from conftest import RunningServer


def _point(i, dim=4):
    rng = random.Random(i)
    payload = common_pb2.Struct(fields={
        "lang": common_pb2.Value(string_value="swift" if i % 3 == 0 else "c"),
        "year": common_pb2.Value(int_value=2000 + i % 30),
        "tags": common_pb2.Value(list_value=common_pb2.ListValue(values=[common_pb2.Value(string_value=f"t{i % 4}")])),
    })
    return vector_pb2.PointStruct(id=common_pb2.PointId(num=i),
                                  vector=common_pb2.Vector(values=[rng.uniform(-1, 1) for _ in range(dim)]),
                                  payload=payload)


def _swift_filter():
    return common_pb2.Filter(must=[common_pb2.Condition(field=common_pb2.FieldCondition(
        key="lang", match=common_pb2.Match(keyword="swift")))])


@pytest.fixture
def server(tmp_path):
    running = RunningServer([], tmp_path / "data")
    yield running
    running.stop()


def _stub(server):
    return vector_pb2_grpc.VectorServiceStub(grpc.insecure_channel(server.address))


def _create(stub, name="docs", dim=4, metric=vector_pb2.METRIC_COSINE):
    return stub.CreateCollection(vector_pb2.CreateCollectionRequest(name=name, dimension=dim, metric=metric))


def _expect(code, call):
    with pytest.raises(grpc.RpcError) as info:
        call()
    assert info.value.code() == code, info.value.details()
    assert info.value.details()
    return info.value.details()


def test_collections_points_and_search(server):
    stub = _stub(server)
    info = _create(stub)
    assert info.name == "docs" and info.dimension == 4 and info.metric == vector_pb2.METRIC_COSINE
    points = [_point(i) for i in range(1, 301)]
    result = stub.Upsert(vector_pb2.UpsertRequest(collection="docs", points=points))
    assert result.points_affected == 300 and result.applied
    assert stub.GetCollection(vector_pb2.GetCollectionRequest(name="docs")).points_count == 300
    assert [c.name for c in stub.ListCollections(vector_pb2.ListCollectionsRequest()).collections] == ["docs"]

    # A stored vector finds itself first with cosine similarity ~1.
    query = points[41].vector
    hits = stub.Search(vector_pb2.SearchRequest(collection="docs", vector=query, k=5)).hits
    assert hits[0].id.num == 42 and math.isclose(hits[0].score, 1.0, abs_tol=1e-4)
    assert [h.score for h in hits] == sorted([h.score for h in hits], reverse=True)

    # Filtered search returns only matching payloads.
    request = vector_pb2.SearchRequest(collection="docs", vector=query, k=10, filter=_swift_filter())
    getattr(request, "with").with_payload = True
    filtered = stub.Search(request).hits
    assert len(filtered) == 10 and all(h.payload.fields["lang"].string_value == "swift" for h in filtered)

    # Get, count with a filter, scroll through everything.
    got = stub.Get(vector_pb2.GetRequest(collection="docs", ids=[common_pb2.PointId(num=7), common_pb2.PointId(num=999)]))
    assert [p.id.num for p in got.points] == [7]
    assert got.points[0].payload.fields["year"].int_value == 2007
    assert stub.Count(vector_pb2.CountRequest(collection="docs", filter=_swift_filter())).count == 100
    seen, offset = [], None
    while True:
        page = stub.Scroll(vector_pb2.ScrollRequest(collection="docs", limit=64, offset=offset))
        seen += [p.id.num for p in page.points]
        if not page.HasField("next_offset"):
            break
        offset = page.next_offset
    assert sorted(seen) == list(range(1, 301))

    # Deletes by id and by filter.
    assert stub.Delete(vector_pb2.DeleteRequest(collection="docs", ids=vector_pb2.PointIdList(
        ids=[common_pb2.PointId(num=1), common_pb2.PointId(num=2)]))).points_affected == 2
    assert stub.Delete(vector_pb2.DeleteRequest(collection="docs", filter=_swift_filter())).points_affected == 100
    assert stub.Count(vector_pb2.CountRequest(collection="docs")).count == 198


def test_errors_say_what_to_fix(server):
    stub = _stub(server)
    _create(stub)
    _expect(grpc.StatusCode.ALREADY_EXISTS, lambda: _create(stub))
    _expect(grpc.StatusCode.INVALID_ARGUMENT, lambda: _create(stub, name="bad", metric=vector_pb2.METRIC_UNSPECIFIED))
    _expect(grpc.StatusCode.INVALID_ARGUMENT, lambda: _create(stub, name="bad name!"))
    _expect(grpc.StatusCode.INVALID_ARGUMENT, lambda: _create(stub, name="huge", dim=70000))
    _expect(grpc.StatusCode.NOT_FOUND, lambda: stub.Search(vector_pb2.SearchRequest(
        collection="nope", vector=common_pb2.Vector(values=[1, 0, 0, 0]), k=1)))
    message = _expect(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.Upsert(vector_pb2.UpsertRequest(
        collection="docs", points=[_point(1, dim=3)])))
    assert "expects 4" in message
    _expect(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.Upsert(vector_pb2.UpsertRequest(
        collection="docs", points=[vector_pb2.PointStruct(id=common_pb2.PointId(uuid="550e8400-e29b-41d4-a716-446655440000"),
                                                          vector=common_pb2.Vector(values=[1, 0, 0, 0]))])))
    _expect(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.Search(vector_pb2.SearchRequest(
        collection="docs", vector=common_pb2.Vector(values=[1, 0, 0, 0]), k=0)))
    _expect(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.Search(vector_pb2.SearchRequest(
        collection="docs", vector=common_pb2.Vector(values=[1, 0, 0, 0]), k=10001)))
    # A bad batch writes nothing.
    assert stub.Count(vector_pb2.CountRequest(collection="docs")).count == 0
    message = _expect(grpc.StatusCode.UNIMPLEMENTED, lambda: list(stub.SearchStream(iter([vector_pb2.SearchRequest()]))))
    assert "not available yet" in message


def test_data_survives_a_restart(tmp_path):
    data = tmp_path / "data"
    server = RunningServer([], data)
    stub = _stub(server)
    _create(stub, dim=8, metric=vector_pb2.METRIC_L2)
    stub.Upsert(vector_pb2.UpsertRequest(collection="docs", points=[_point(i, dim=8) for i in range(1, 501)]))
    stub.Delete(vector_pb2.DeleteRequest(collection="docs", ids=vector_pb2.PointIdList(ids=[common_pb2.PointId(num=5)])))
    queries = [_point(i, dim=8).vector for i in range(1000, 1010)]
    before = [[(h.id.num, h.score) for h in stub.Search(vector_pb2.SearchRequest(collection="docs", vector=q, k=10)).hits]
              for q in queries]
    assert server.stop() == 0

    server = RunningServer([], data)
    try:
        stub = _stub(server)
        assert stub.Count(vector_pb2.CountRequest(collection="docs")).count == 499
        after = [[(h.id.num, h.score) for h in stub.Search(vector_pb2.SearchRequest(collection="docs", vector=q, k=10)).hits]
                 for q in queries]
        assert after == before
        assert any("collection recovered" in line for line in server.stderr_lines)
    finally:
        server.stop()
