"""VectorService end to end through the real binary: collections, upsert, search with
filters, get, count, scroll, delete, the error statuses, and data that survives a restart."""
import math
import random

import grpc
from ruvector.v1 import common_pb2, vector_pb2, vector_pb2_grpc

from conftest import RunningServer, expect_status
from ruvector import crc32c   # the Python client's CRC-32C


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


def _stub(server):
    return vector_pb2_grpc.VectorServiceStub(grpc.insecure_channel(server.address))


def _create(stub, name="docs", dim=4, metric=vector_pb2.METRIC_COSINE):
    return stub.CreateCollection(vector_pb2.CreateCollectionRequest(name=name, dimension=dim, metric=metric))


def test_collections_points_and_search(server):
    stub = _stub(server)
    info = _create(stub)
    assert info.name == "docs" and info.dimension == 4 and info.metric == vector_pb2.METRIC_COSINE
    points = [_point(i) for i in range(1, 301)]
    result = stub.Upsert(vector_pb2.UpsertRequest(collection="docs", points=points))
    assert result.points_affected == 300 and result.applied
    described = stub.GetCollection(vector_pb2.GetCollectionRequest(name="docs"))
    assert described.points_count == 300 and described.index_status == vector_pb2.INDEX_STATUS_READY
    assert described.memory_bytes >= 300 * 4 * 4      # at least the vectors themselves
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
    expect_status(grpc.StatusCode.ALREADY_EXISTS, lambda: _create(stub))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: _create(stub, name="bad", metric=vector_pb2.METRIC_UNSPECIFIED))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: _create(stub, name="bad name!"))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: _create(stub, name="huge", dim=70000))
    expect_status(grpc.StatusCode.NOT_FOUND, lambda: stub.Search(vector_pb2.SearchRequest(
        collection="nope", vector=common_pb2.Vector(values=[1, 0, 0, 0]), k=1)))
    message = expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.Upsert(vector_pb2.UpsertRequest(
        collection="docs", points=[_point(1, dim=3)])))
    assert "expects 4" in message
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.Upsert(vector_pb2.UpsertRequest(
        collection="docs", points=[vector_pb2.PointStruct(id=common_pb2.PointId(uuid="550e8400-e29b-41d4-a716-44665544000z"),
                                                          vector=common_pb2.Vector(values=[1, 0, 0, 0]))])))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.Search(vector_pb2.SearchRequest(
        collection="docs", vector=common_pb2.Vector(values=[1, 0, 0, 0]), k=0)))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.Search(vector_pb2.SearchRequest(
        collection="docs", vector=common_pb2.Vector(values=[1, 0, 0, 0]), k=10001)))
    # Bad filters: the message names what the condition lacks.
    no_key = common_pb2.Filter(must=[common_pb2.Condition(field=common_pb2.FieldCondition(
        match=common_pb2.Match(keyword="swift")))])
    no_test = common_pb2.Filter(must=[common_pb2.Condition(field=common_pb2.FieldCondition(key="lang"))])
    too_few = common_pb2.Filter(min_should=3, should=[c for c in _swift_filter().must])
    assert "needs a key" in expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.Count(
        vector_pb2.CountRequest(collection="docs", filter=no_key)))
    assert "needs match, range or exists" in expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.Search(
        vector_pb2.SearchRequest(collection="docs", vector=common_pb2.Vector(values=[1, 0, 0, 0]), k=1, filter=no_test)))
    assert "min_should is 3" in expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.Delete(
        vector_pb2.DeleteRequest(collection="docs", filter=too_few)))
    # A bad batch writes nothing.
    assert stub.Count(vector_pb2.CountRequest(collection="docs")).count == 0


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


def _search(collection, vector, k, tag=0):
    return vector_pb2.SearchRequest(collection=collection, vector=vector, k=k, tag=tag)


def _brute_force_cosine(points, query, k):
    def cos(a, b):
        return sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))
    scored = sorted(((cos(p.vector.values, query), p.id.num) for p in points), reverse=True)
    return [i for _, i in scored[:k]]


def test_upsert_stream_imports_batches_and_reports_partial_failure(server):
    stub = _stub(server)
    _create(stub)
    batches = [vector_pb2.UpsertRequest(collection="docs", points=[_point(i) for i in range(b * 500 + 1, b * 500 + 501)])
               for b in range(6)]
    result = stub.UpsertStream(iter(batches))
    assert result.points_affected == 3000 and result.applied and result.sequence >= 6
    assert stub.Count(vector_pb2.CountRequest(collection="docs")).count == 3000
    # Exact search over what was imported equals brute force.
    points = [p for b in batches for p in b.points]
    query = _point(99_999).vector.values
    request = _search("docs", common_pb2.Vector(values=query), 10)
    request.params.exact = True
    assert [h.id.num for h in stub.Search(request).hits] == _brute_force_cosine(points, query, 10)

    # A bad message ends the stream; the earlier messages stay and the status says so.
    bad = vector_pb2.UpsertRequest(collection="docs", points=[_point(9001, dim=3)])
    good = vector_pb2.UpsertRequest(collection="docs", points=[_point(i) for i in range(8001, 8011)])
    message = expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.UpsertStream(iter([good, bad, good])))
    assert "10 points of the earlier messages were written" in message and "message 2" in message
    assert stub.Count(vector_pb2.CountRequest(collection="docs")).count == 3010
    # Every message of one stream targets one collection.
    other = vector_pb2.UpsertRequest(collection="other", points=[_point(1)])
    message = expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.UpsertStream(iter([good, other])))
    assert "one collection" in message
    expect_status(grpc.StatusCode.NOT_FOUND, lambda: stub.UpsertStream(iter([other])))
    # An empty stream writes nothing and succeeds.
    assert stub.UpsertStream(iter([])).points_affected == 0


def test_search_stream_answers_each_query_with_its_tag_and_per_query_errors(server):
    stub = _stub(server)
    _create(stub)
    stub.Upsert(vector_pb2.UpsertRequest(collection="docs", points=[_point(i) for i in range(1, 201)]))
    requests = []
    for tag in range(1, 51):
        requests.append(_search("docs", _point(tag).vector, 3, tag=tag))
    requests.insert(10, _search("docs", common_pb2.Vector(values=[1, 2]), 3, tag=1000))        # wrong dimension
    requests.insert(20, _search("missing", _point(1).vector, 3, tag=1001))                      # unknown collection
    responses = list(stub.SearchStream(iter(requests)))
    assert len(responses) == 52
    by_tag = {r.tag: r for r in responses}
    for tag in range(1, 51):
        assert not by_tag[tag].HasField("error")
        assert by_tag[tag].hits[0].id.num == tag      # each stored vector finds itself first
        assert by_tag[tag].hits == stub.Search(_search("docs", _point(tag).vector, 3)).hits
    assert by_tag[1000].error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0] and "expects 4" in by_tag[1000].error.message
    assert by_tag[1001].error.code == grpc.StatusCode.NOT_FOUND.value[0]

    # Ping-pong: a client that waits for each answer before asking the next is answered.
    import queue
    import threading
    outbox = queue.Queue()

    def questions():
        while (item := outbox.get()) is not None:
            yield item
    call = stub.SearchStream(questions())
    for tag in range(1, 6):
        outbox.put(_search("docs", _point(tag).vector, 1, tag=tag))
        answer = next(call)
        assert answer.tag == tag and answer.hits[0].id.num == tag
    outbox.put(None)
    assert list(call) == []


def _download(stub, collection, name, chunk_bytes=0):
    chunks = list(stub.DownloadSnapshot(vector_pb2.DownloadSnapshotRequest(collection=collection, name=name,
                                                                            chunk_bytes=chunk_bytes)))
    data = b"".join(c.data for c in chunks)
    assert [c.offset for c in chunks] == [sum(len(c.data) for c in chunks[:i]) for i in range(len(chunks))]
    assert chunks[-1].HasField("trailer") and not any(c.HasField("trailer") for c in chunks[:-1])
    assert chunks[-1].trailer.size_bytes == len(data)
    return chunks, data


def test_snapshots_create_list_download_restore(server):
    stub = _stub(server)
    _create(stub, dim=4, metric=vector_pb2.METRIC_COSINE)
    stub.Upsert(vector_pb2.UpsertRequest(collection="docs", points=[_point(i) for i in range(1, 2001)]))
    first = stub.CreateSnapshot(vector_pb2.CreateSnapshotRequest(collection="docs"))
    assert first.collection == "docs" and first.size_bytes > 2000 * 16 and first.wal_sequence == 1
    stub.Delete(vector_pb2.DeleteRequest(collection="docs", ids=vector_pb2.PointIdList(ids=[common_pb2.PointId(num=1)])))
    second = stub.CreateSnapshot(vector_pb2.CreateSnapshotRequest(collection="docs"))
    listed = stub.ListSnapshots(vector_pb2.ListSnapshotsRequest(collection="docs")).snapshots
    assert [s.name for s in listed] == [second.name, first.name] and listed[0].crc32c == second.crc32c

    chunks, data = _download(stub, "docs", first.name, chunk_bytes=4096)
    assert len(chunks) == -(-len(data) // 4096) and len(data) == first.size_bytes
    assert chunks[-1].trailer.crc32c == first.crc32c
    queries = [_point(i).vector for i in range(5000, 5010)]

    def results(name):
        return [[(h.id.num, round(h.score, 5)) for h in stub.Search(_search(name, q, 10)).hits] for q in queries]

    # Upload the first snapshot into a new collection: it holds point 1 again, 2000 points.
    upload = [vector_pb2.RestoreSnapshotRequest(collection="copy", chunk=common_pb2.FileChunk(offset=o, data=data[o:o + 10000]))
              for o in range(0, len(data), 10000)]
    upload[-1].chunk.trailer.CopyFrom(chunks[-1].trailer)
    info = stub.RestoreSnapshot(iter(upload))
    assert info.name == "copy" and info.points_count == 2000 and info.dimension == 4
    expected_first = results("copy")
    # Restore "docs" from its own older snapshot by name: it equals the copy.
    assert stub.Count(vector_pb2.CountRequest(collection="docs")).count == 1999
    info = stub.RestoreSnapshot(iter([vector_pb2.RestoreSnapshotRequest(collection="docs", snapshot_name=first.name)]))
    assert info.points_count == 2000 and results("docs") == expected_first
    # Writes after a restore are durable across a restart.
    stub.Upsert(vector_pb2.UpsertRequest(collection="copy", points=[_point(7777)]))
    server.stop()
    restarted = RunningServer([], server.data_dir)
    try:
        stub = _stub(restarted)
        assert stub.Count(vector_pb2.CountRequest(collection="copy")).count == 2001
        assert stub.Count(vector_pb2.CountRequest(collection="docs")).count == 2000
        # (the restarted server's scores equal the live ones)
        assert [[(h.id.num, round(h.score, 5)) for h in stub.Search(_search("docs", q, 10)).hits] for q in queries] == expected_first
    finally:
        restarted.stop()


def test_snapshot_errors(server):
    stub = _stub(server)
    _create(stub)
    stub.Upsert(vector_pb2.UpsertRequest(collection="docs", points=[_point(i) for i in range(1, 101)]))
    snap = stub.CreateSnapshot(vector_pb2.CreateSnapshotRequest(collection="docs"))
    _, data = _download(stub, "docs", snap.name)
    expect_status(grpc.StatusCode.NOT_FOUND, lambda: stub.CreateSnapshot(vector_pb2.CreateSnapshotRequest(collection="nope")))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: list(stub.DownloadSnapshot(
        vector_pb2.DownloadSnapshotRequest(collection="docs", name="../collection.bin"))))
    expect_status(grpc.StatusCode.NOT_FOUND, lambda: list(stub.DownloadSnapshot(
        vector_pb2.DownloadSnapshotRequest(collection="docs", name="snapshot-00000000000000009999.rvsnap"))))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: list(stub.DownloadSnapshot(
        vector_pb2.DownloadSnapshotRequest(collection="docs", name=snap.name, chunk_bytes=100))))

    def upload(payload, trailer_size=None, crc=None, offset_shift=0, collection="x"):
        trailer = common_pb2.FileTrailer(size_bytes=len(payload) if trailer_size is None else trailer_size,
                                         crc32c=snap.crc32c if crc is None else crc)
        return iter([vector_pb2.RestoreSnapshotRequest(collection=collection, chunk=common_pb2.FileChunk(
            offset=offset_shift, data=payload, trailer=trailer))])
    expect_status(grpc.StatusCode.DATA_LOSS, lambda: stub.RestoreSnapshot(upload(data, crc=snap.crc32c ^ 1)))
    expect_status(grpc.StatusCode.DATA_LOSS, lambda: stub.RestoreSnapshot(upload(data, trailer_size=len(data) + 1)))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.RestoreSnapshot(upload(data, offset_shift=5)))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.RestoreSnapshot(upload(data, collection="bad name")))
    # Damaged bytes with a matching CRC (a client computing the CRC over garbage) are refused by validation.
    damaged = bytearray(data)
    damaged[len(damaged) // 2] ^= 0xFF
    assert crc32c(data) == snap.crc32c
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.RestoreSnapshot(upload(bytes(damaged), crc=crc32c(bytes(damaged)))))
    # No trailer, nothing after a name, an empty stream.
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.RestoreSnapshot(iter([vector_pb2.RestoreSnapshotRequest(
        collection="x", chunk=common_pb2.FileChunk(offset=0, data=data))])))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.RestoreSnapshot(iter([])))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.RestoreSnapshot(iter([
        vector_pb2.RestoreSnapshotRequest(collection="docs", snapshot_name=snap.name),
        vector_pb2.RestoreSnapshotRequest(collection="docs", snapshot_name=snap.name)])))
    # Nothing of a failed restore is left: "x" was never created, "docs" is intact.
    assert [c.name for c in stub.ListCollections(vector_pb2.ListCollectionsRequest()).collections] == ["docs"]
    assert stub.Count(vector_pb2.CountRequest(collection="docs")).count == 100


def _nested(depth):
    """A filter whose innermost condition sits `depth` filters below the top one."""
    inner = _swift_filter()
    for _ in range(depth):
        inner = common_pb2.Filter(must=[common_pb2.Condition(filter=inner)])
    return inner


def test_limits_are_configurable(tmp_path):
    config = tmp_path / "config.json"
    config.write_text('{"vectorLimits": {"maxK": 5, "maxPointsPerWrite": 3, "maxDimension": 8, "maxEf": 50, '
                      '"maxPayloadBytes": 100, "maxFilterDepth": 2, "maxSearchesPerBatch": 2, "maxScrollLimit": 4, '
                      '"maxSnapshotUploadBytes": 1000}}')
    server = RunningServer(["--config", str(config)], tmp_path / "data")
    try:
        stub = _stub(server)
        invalid = grpc.StatusCode.INVALID_ARGUMENT
        assert "between 1 and 8" in expect_status(invalid, lambda: _create(stub, dim=9))
        _create(stub)
        assert "at most 3 points" in expect_status(invalid, lambda: stub.Upsert(
            vector_pb2.UpsertRequest(collection="docs", points=[_point(i) for i in range(4)])))
        stub.Upsert(vector_pb2.UpsertRequest(collection="docs", points=[_point(i) for i in range(3)]))
        assert "at most 5" in expect_status(invalid, lambda: stub.Search(_search("docs", _point(1).vector, 6)))
        ids = [common_pb2.PointId(num=i) for i in range(4)]
        assert "at most 3 ids per Get" in expect_status(invalid, lambda: stub.Get(vector_pb2.GetRequest(collection="docs", ids=ids)))
        assert "at most 3 ids per Delete" in expect_status(invalid, lambda: stub.Delete(vector_pb2.DeleteRequest(
            collection="docs", ids=vector_pb2.PointIdList(ids=ids))))
        request = _search("docs", _point(1).vector, 1)
        request.params.ef = 51
        assert "ef must be at most 50" in expect_status(invalid, lambda: stub.Search(request))
        request.params.ef = 50
        assert stub.Search(request).hits
        big = _point(9)
        big.payload.fields["text"].string_value = "x" * 100
        assert "the limit is 100" in expect_status(invalid, lambda: stub.Upsert(vector_pb2.UpsertRequest(collection="docs", points=[big])))
        assert "deeper than 2 levels" in expect_status(invalid, lambda: stub.Count(
            vector_pb2.CountRequest(collection="docs", filter=_nested(2))))
        stub.Count(vector_pb2.CountRequest(collection="docs", filter=_nested(1)))
        searches = [_search("docs", _point(1).vector, 1)] * 3
        assert "at most 2 searches per batch" in expect_status(invalid, lambda: stub.SearchBatch(
            vector_pb2.SearchBatchRequest(searches=searches)))
        assert len(stub.SearchBatch(vector_pb2.SearchBatchRequest(searches=searches[:2])).results) == 2
        assert "at most 4" in expect_status(invalid, lambda: stub.Scroll(vector_pb2.ScrollRequest(collection="docs", limit=5)))
        snapshot = stub.CreateSnapshot(vector_pb2.CreateSnapshotRequest(collection="docs"))
        _, data = _download(stub, "docs", snapshot.name)
        assert len(data) > 1000
        upload = vector_pb2.RestoreSnapshotRequest(collection="copy", chunk=common_pb2.FileChunk(
            offset=0, data=data, trailer=common_pb2.FileTrailer(size_bytes=len(data), crc32c=snapshot.crc32c)))
        assert "maxSnapshotUploadBytes" in expect_status(grpc.StatusCode.RESOURCE_EXHAUSTED,
                                                         lambda: stub.RestoreSnapshot(iter([upload])))
        # Nothing over a limit was written.
        assert stub.Count(vector_pb2.CountRequest(collection="docs")).count == 3
    finally:
        server.stop()
    config.write_text('{"vectorLimits": {"maxKay": 5}}')
    import subprocess, os
    result = subprocess.run([os.environ["RUVECTOR_SERVER_BINARY"], "--config", str(config), "--data-dir", str(tmp_path / "d2"),
                             "--listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "unknown vector limit 'maxKay'" in result.stderr


def test_quantized_collections_search_with_rescoring(server):
    stub = _stub(server)
    rng = random.Random(5)
    dim = 16
    vectors = {i: [rng.gauss(0, 1) for _ in range(dim)] for i in range(1, 2001)}
    kinds = {"scalar": vector_pb2.QuantizationConfig(scalar=vector_pb2.ScalarQuantization()),
             "int4": vector_pb2.QuantizationConfig(scalar=vector_pb2.ScalarQuantization(bits=4)),
             "half": vector_pb2.QuantizationConfig(float16=vector_pb2.Float16Quantization()),
             "pq": vector_pb2.QuantizationConfig(product=vector_pb2.ProductQuantization(subvectors=4, bits=8))}
    points = [vector_pb2.PointStruct(id=common_pb2.PointId(num=i), vector=common_pb2.Vector(values=v)) for i, v in vectors.items()]
    queries = [[rng.gauss(0, 1) for _ in range(dim)] for _ in range(20)]
    for name, quantization in kinds.items():
        stub.CreateCollection(vector_pb2.CreateCollectionRequest(name=name, dimension=dim, metric=vector_pb2.METRIC_L2,
                                                                 quantization=quantization))
        # Past the training threshold (1024 points): the walk uses the codes from here on.
        for start in range(0, len(points), 500):
            stub.Upsert(vector_pb2.UpsertRequest(collection=name, points=points[start:start + 500]))
        found = 0
        for query in queries:
            exact = _search(name, common_pb2.Vector(values=query), 10)
            exact.params.exact = True
            truth = [h.id.num for h in stub.Search(exact).hits]
            quantized = _search(name, common_pb2.Vector(values=query), 10)
            quantized.params.quantization.oversampling = 8
            hits = stub.Search(quantized).hits
            found += len({h.id.num for h in hits} & set(truth))
            # Rescored on the full vectors: the scores are the exact ones.
            for hit in hits:
                expected = -sum((a - b) ** 2 for a, b in zip(vectors[hit.id.num], query))
                assert math.isclose(hit.score, expected, rel_tol=1e-4, abs_tol=1e-4), (name, hit)
            full = _search(name, common_pb2.Vector(values=query), 10)
            full.params.quantization.ignore = True
            assert [h.id.num for h in stub.Search(full).hits][:1] == truth[:1], name
        assert found >= 0.9 * 10 * len(queries), f"{name}: recall {found / (10 * len(queries))}"
        # A stored vector finds itself, at distance exactly 0.
        self_hit = stub.Search(_search(name, points[41].vector, 1)).hits[0]
        assert self_hit.id.num == 42 and self_hit.score == 0, name
    bad = _search("scalar", common_pb2.Vector(values=queries[0]), 10)
    bad.params.quantization.oversampling = 101
    assert "oversampling must be 1..100" in expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.Search(bad))
    assert "bits must be 8 or 4" in expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.CreateCollection(
        vector_pb2.CreateCollectionRequest(name="pq5", dimension=dim, metric=vector_pb2.METRIC_L2, quantization=vector_pb2.QuantizationConfig(
            product=vector_pb2.ProductQuantization(subvectors=4, bits=5)))))
    assert "scalar quantization bits must be 8 or 4, got 2" in expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.CreateCollection(
        vector_pb2.CreateCollectionRequest(name="int2", dimension=dim, metric=vector_pb2.METRIC_L2, quantization=vector_pb2.QuantizationConfig(
            scalar=vector_pb2.ScalarQuantization(bits=2)))))
    assert "training_sample must be at most 1000000" in expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.CreateCollection(
        vector_pb2.CreateCollectionRequest(name="big", dimension=dim, metric=vector_pb2.METRIC_L2, quantization=vector_pb2.QuantizationConfig(
            scalar=vector_pb2.ScalarQuantization(bits=4, training_sample=1_000_001)))))
    assert "tier PQ subspaces 17" in expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.CreateCollection(
        vector_pb2.CreateCollectionRequest(name="tiers", dimension=dim, metric=vector_pb2.METRIC_L2, quantization=vector_pb2.QuantizationConfig(
            tiered=vector_pb2.TieredCompression(subvectors=17)))))
    assert "quantile must be 0" in expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.CreateCollection(
        vector_pb2.CreateCollectionRequest(name="clip", dimension=dim, metric=vector_pb2.METRIC_L2, quantization=vector_pb2.QuantizationConfig(
            scalar=vector_pb2.ScalarQuantization(quantile=0.99)))))
