"""GraphService end to end through the real binary: Cypher results streamed in batches with
graph values, parameters, errors with positions, transactions and their isolation, hyperedges,
deadlines, and a graph that survives a restart."""
import time

import grpc
import pytest
from ruvector.v1 import common_pb2, graph_pb2, graph_pb2_grpc

from conftest import RunningServer, expect_status
from ruvector.convert import to_value


def _stub(server):
    return graph_pb2_grpc.GraphServiceStub(grpc.insecure_channel(server.address))


def _run(stub, query, tx="", batch_rows=0, max_rows=0, timeout=None, **params):
    request = graph_pb2.ExecuteRequest(query=query, transaction_id=tx, batch_rows=batch_rows, max_rows=max_rows,
                                       parameters=[graph_pb2.Parameter(name=k, value=to_value(v)) for k, v in params.items()])
    parts = list(stub.Execute(request, timeout=timeout))
    assert parts[0].HasField("header") and parts[-1].HasField("summary")
    batches = [p.rows for p in parts[1:-1]]
    assert all(p.HasField("rows") for p in parts[1:-1])
    return list(parts[0].header.columns), [row for b in batches for row in b.rows], parts[-1].summary, batches


def _scalar(graph_value):
    value = graph_value.value
    kind = value.WhichOneof("kind")
    if kind == "list_value":
        return [_scalar(graph_pb2.GraphValue(value=v)) for v in value.list_value.values]
    return None if kind in (None, "null_value") else getattr(value, kind)


def test_cypher_results_stream_with_graph_values(server):
    stub = _stub(server)
    columns, rows, summary, _ = _run(stub, "CREATE (a:Paper {title: 'HNSW', year: 2016})-[:CITES {why: 'graphs'}]->"
                                           "(b:Paper {title: 'NSW', year: 2014}) RETURN a, b")
    assert columns == ["a", "b"] and len(rows) == 1
    assert summary.nodes_created == 2 and summary.relationships_created == 1 and summary.labels_added == 2
    assert summary.properties_set == 5 and summary.rows == 1
    a = rows[0].values[0].node
    assert list(a.labels) == ["Paper"] and a.properties.fields["title"].string_value == "HNSW" and a.id > 0

    columns, rows, _, _ = _run(stub, "MATCH p = (a:Paper)-[r:CITES]->(b) RETURN r, p, b.year + 1 AS next, [a.title, b.title] AS t")
    r, p = rows[0].values[0].relationship, rows[0].values[1].path
    assert r.type == "CITES" and r.start_node_id == a.id and r.properties.fields["why"].string_value == "graphs"
    assert [n.properties.fields["title"].string_value for n in p.nodes] == ["HNSW", "NSW"] and len(p.relationships) == 1
    assert _scalar(rows[0].values[2]) == 2015 and _scalar(rows[0].values[3]) == ["HNSW", "NSW"]

    # Parameters, batches, max_rows.
    _run(stub, "UNWIND range(1, $n) AS i CREATE (:Item {i: i, tag: $tag})", n=1000, tag="x")
    columns, rows, summary, batches = _run(stub, "MATCH (i:Item) WHERE i.i > $min RETURN i.i AS i ORDER BY i", batch_rows=100, min=10)
    assert [_scalar(r.values[0]) for r in rows] == list(range(11, 1001)) and summary.rows == 990
    assert [len(b.rows) for b in batches] == [100] * 9 + [90]
    _, rows, summary, _ = _run(stub, "MATCH (i:Item) RETURN i.i", max_rows=7)
    assert len(rows) == 7 and summary.rows == 7
    _, rows, _, _ = _run(stub, "MATCH (i:Item) WITH collect(i) AS all RETURN all[0..2] AS some")
    assert len(rows[0].values[0].list.values) == 2 and rows[0].values[0].list.values[0].node.labels == ["Item"]


def test_temporal_values_carry_their_fields_and_text(server):
    stub = _stub(server)
    _, rows, _, _ = _run(stub, "RETURN datetime('2015-07-21T21:40:32.142000001+02:00[Europe/Stockholm]') AS dt, "
                               "[date('1984-10-11'), duration('P1Y2M3DT-4.5S')] AS l, {t: localtime('12:00')} AS m")
    dt = rows[0].values[0].temporal
    assert dt.type == graph_pb2.TEMPORAL_TYPE_DATE_TIME and dt.text == "2015-07-21T21:40:32.142000001+02:00[Europe/Stockholm]"
    assert dt.epoch_day == 16637 and dt.nano_of_day == (21 * 3600 + 40 * 60 + 32) * 10**9 + 142000001
    assert dt.offset_seconds == 7200 and dt.zone == "Europe/Stockholm"
    date, duration = (v.temporal for v in rows[0].values[1].list.values)
    assert date.type == graph_pb2.TEMPORAL_TYPE_DATE and date.epoch_day == 5397 and date.text == "1984-10-11"
    assert (duration.months, duration.days, duration.seconds, duration.nanos) == (14, 3, -5, 500000000)
    # Inside a map a temporal value is a GraphMap entry of its own kind.
    entries = rows[0].values[2].map.entries
    assert [e.key for e in entries] == ["t"] and entries[0].value.temporal.type == graph_pb2.TEMPORAL_TYPE_LOCAL_TIME
    assert entries[0].value.temporal.text == "12:00"
    # A node's temporal properties: their text in `properties`, exactly in `typed_properties`.
    _, rows, _, _ = _run(stub, "CREATE (n:Dated {on: date('1984-10-11'), xs: [date('1984-10-12')], k: 1}) RETURN n")
    node = rows[0].values[0].node
    assert node.properties.fields["on"].string_value == "1984-10-11" and node.properties.fields["k"].int_value == 1
    typed = {e.key: e.value for e in node.typed_properties.entries}
    assert sorted(typed) == ["on", "xs"] and typed["on"].temporal.epoch_day == 5397
    assert [v.temporal.epoch_day for v in typed["xs"].list.values] == [5398]
    _run(stub, "MATCH (n:Dated) DELETE n")
    # The text reads back: sent as a string parameter, it compares equal.
    _, rows, _, _ = _run(stub, "RETURN datetime($t) = datetime('2015-07-21T21:40:32.142000001+02:00[Europe/Stockholm]') AS same",
                         t=dt.text)
    assert _scalar(rows[0].values[0]) is True
    with pytest.raises(grpc.RpcError) as error:
        _run(stub, "RETURN date('2015-02-29')")
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "ArgumentError" in error.value.details()
    # A temporal parameter comes by its fields, checked: out of range, unknown type or zone, or
    # set beside a value, it is refused before the query runs.
    good = graph_pb2.Temporal(type=graph_pb2.TEMPORAL_TYPE_DURATION, months=14, seconds=-5, nanos=500000000)
    request = graph_pb2.ExecuteRequest(query="RETURN $d + duration('PT4.5S') AS d", parameters=[graph_pb2.Parameter(name="d", temporal=good)])
    assert list(stub.Execute(request))[1].rows.rows[0].values[0].temporal.text == "P1Y2M"
    for bad in [graph_pb2.Parameter(name="t", temporal=graph_pb2.Temporal(type=graph_pb2.TEMPORAL_TYPE_LOCAL_TIME, nano_of_day=-1)),
                graph_pb2.Parameter(name="t", temporal=graph_pb2.Temporal(type=graph_pb2.TEMPORAL_TYPE_DATE, epoch_day=2**62)),
                graph_pb2.Parameter(name="t", temporal=graph_pb2.Temporal(type=graph_pb2.TEMPORAL_TYPE_DATE_TIME, zone="../../etc/passwd")),
                graph_pb2.Parameter(name="t", temporal=graph_pb2.Temporal(type=graph_pb2.TEMPORAL_TYPE_UNSPECIFIED)),
                graph_pb2.Parameter(name="t", temporal=graph_pb2.Temporal(type=graph_pb2.TEMPORAL_TYPE_DURATION, nanos=-1)),
                graph_pb2.Parameter(name="t", value=common_pb2.Value(int_value=1), temporal=good)]:
        with pytest.raises(grpc.RpcError) as error:
            list(stub.Execute(graph_pb2.ExecuteRequest(query="RETURN $t", parameters=[bad])))
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT, bad


def test_errors(server):
    stub = _stub(server)
    details = expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: _run(stub, "MATCH (n RETURN n"))
    assert "line 1" in details and "column" in details
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: _run(stub, "RETURN $missing"))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: _run(stub, ""))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: list(stub.Execute(graph_pb2.ExecuteRequest(
        query="RETURN $a", parameters=[graph_pb2.Parameter(name="a"), graph_pb2.Parameter(name="a")]))))
    _run(stub, "CREATE (:A)-[:R]->(:B)")
    assert "DETACH" in expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: _run(stub, "MATCH (a:A) DELETE a"))
    # A query past its deadline stops and keeps nothing.
    _run(stub, "UNWIND range(1, 90) AS i CREATE (:N {i: i})")     # 90^3 rows: under the row limit, seconds of work
    expect_status(grpc.StatusCode.DEADLINE_EXCEEDED,
            lambda: _run(stub, "MATCH (a:N), (b:N), (c:N) CREATE (:Triple)", timeout=0.3))
    _, rows, _, _ = _run(stub, "MATCH (t:Triple) RETURN count(t)")
    assert _scalar(rows[0].values[0]) == 0


def test_transactions(server):
    stub = _stub(server)
    _run(stub, "CREATE (:Account {name: 'a', balance: 100})")
    tx = stub.BeginTransaction(graph_pb2.BeginTransactionRequest(isolation=graph_pb2.ISOLATION_LEVEL_REPEATABLE_READ))
    assert tx.isolation == graph_pb2.ISOLATION_LEVEL_REPEATABLE_READ and tx.transaction_id
    _run(stub, "MATCH (x:Account) SET x.balance = x.balance - 30", tx=tx.transaction_id)
    _, rows, _, _ = _run(stub, "MATCH (x:Account) RETURN x.balance")
    assert _scalar(rows[0].values[0]) == 100                     # not visible before commit
    _, rows, _, _ = _run(stub, "MATCH (x:Account) RETURN x.balance", tx=tx.transaction_id)
    assert _scalar(rows[0].values[0]) == 70                      # its own write
    assert stub.Commit(graph_pb2.TransactionRef(transaction_id=tx.transaction_id)).sequence > 0
    _, rows, _, _ = _run(stub, "MATCH (x:Account) RETURN x.balance")
    assert _scalar(rows[0].values[0]) == 70
    expect_status(grpc.StatusCode.FAILED_PRECONDITION, lambda: _run(stub, "RETURN 1", tx=tx.transaction_id))
    expect_status(grpc.StatusCode.FAILED_PRECONDITION, lambda: stub.Commit(graph_pb2.TransactionRef(transaction_id=tx.transaction_id)))

    # Rollback discards; read uncommitted runs as read committed (reported as such).
    rb = stub.BeginTransaction(graph_pb2.BeginTransactionRequest(isolation=graph_pb2.ISOLATION_LEVEL_READ_UNCOMMITTED))
    assert rb.isolation == graph_pb2.ISOLATION_LEVEL_READ_COMMITTED
    _run(stub, "CREATE (:Ghost)", tx=rb.transaction_id)
    stub.Rollback(graph_pb2.TransactionRef(transaction_id=rb.transaction_id))
    _, rows, _, _ = _run(stub, "MATCH (g:Ghost) RETURN count(g)")
    assert _scalar(rows[0].values[0]) == 0

    # Serializable: the second of two writers that both read the balance aborts.
    t1, t2 = (stub.BeginTransaction(graph_pb2.BeginTransactionRequest(isolation=graph_pb2.ISOLATION_LEVEL_SERIALIZABLE))
              for _ in range(2))
    for t in (t1, t2):
        _run(stub, "MATCH (x:Account) SET x.balance = x.balance + 1", tx=t.transaction_id)
    stub.Commit(graph_pb2.TransactionRef(transaction_id=t1.transaction_id))
    assert "retry" in expect_status(grpc.StatusCode.ABORTED, lambda: stub.Commit(graph_pb2.TransactionRef(transaction_id=t2.transaction_id)))
    _, rows, _, _ = _run(stub, "MATCH (x:Account) RETURN x.balance")
    assert _scalar(rows[0].values[0]) == 71

    # Idle timeout, and bad requests.
    idle = stub.BeginTransaction(graph_pb2.BeginTransactionRequest(idle_timeout_millis=50))
    import time
    time.sleep(0.2)
    expect_status(grpc.StatusCode.FAILED_PRECONDITION, lambda: _run(stub, "RETURN 1", tx=idle.transaction_id))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.BeginTransaction(
        graph_pb2.BeginTransactionRequest(idle_timeout_millis=4_000_000)))


def test_hyperedges_and_restart(tmp_path):
    data = tmp_path / "data"
    server = RunningServer([], data)
    stub = _stub(server)
    _, rows, _, _ = _run(stub, "UNWIND range(1, 4) AS i CREATE (n:Test {i: i}) RETURN id(n) AS id ORDER BY id")
    ids = [_scalar(r.values[0]) for r in rows]
    created = stub.CreateHyperedge(graph_pb2.CreateHyperedgeRequest(
        type="COVERS", node_ids=ids[:3], properties=common_pb2.Struct(fields={"suite": common_pb2.Value(string_value="unit")})))
    assert created.type == "COVERS" and list(created.node_ids) == ids[:3] and created.id > 0
    stub.CreateHyperedge(graph_pb2.CreateHyperedgeRequest(type="OTHER", node_ids=ids[1:]))
    assert [h.id for h in stub.QueryHyperedges(graph_pb2.QueryHyperedgesRequest(node_id=ids[0])).hyperedges] == [created.id]
    assert len(stub.QueryHyperedges(graph_pb2.QueryHyperedgesRequest(node_id=ids[1])).hyperedges) == 2
    assert len(stub.QueryHyperedges(graph_pb2.QueryHyperedgesRequest(type="OTHER")).hyperedges) == 1
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.CreateHyperedge(graph_pb2.CreateHyperedgeRequest(type="X", node_ids=ids[:2])))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.CreateHyperedge(
        graph_pb2.CreateHyperedgeRequest(type="X", node_ids=[ids[0], ids[1], 999999])))
    _run(stub, "MATCH (a:Test {i: 1}), (b:Test {i: 2}) CREATE (a)-[:DEPENDS_ON]->(b)")
    before = _run(stub, "MATCH (a)-[r]->(b) RETURN a.i, type(r), b.i")[1]
    assert server.stop() == 0

    server = RunningServer([], data)
    try:
        stub = _stub(server)
        assert _run(stub, "MATCH (a)-[r]->(b) RETURN a.i, type(r), b.i")[1] == before
        assert [h.id for h in stub.QueryHyperedges(graph_pb2.QueryHyperedgesRequest(node_id=ids[0])).hyperedges] == [created.id]
        assert any("graph recovered" in line for line in server.stderr_lines)
    finally:
        server.stop()


def _create_index(stub, name="emb", label="Doc", prop="v", dimension=3, metric=1, **kind):
    kind = kind or {"vector_index": graph_pb2.VectorIndexConfig(dimension=dimension, metric=metric)}
    return stub.CreateIndex(graph_pb2.CreateIndexRequest(name=name, label=label, property=prop, **kind))


def _hybrid(stub, vector, index="emb", k=3, **fields):
    return stub.HybridSearch(graph_pb2.HybridSearchRequest(index=index, vector=common_pb2.Vector(values=vector), k=k, **fields))


def test_vector_index_and_hybrid_search_errors_and_restart(tmp_path):
    data = tmp_path / "data"
    server = RunningServer([], data)
    stub = _stub(server)
    _run(stub, "UNWIND range(1, 30) AS i CREATE (:Doc {i: i, v: [toFloat(i), 0.0, 1.0]})")
    _run(stub, "CREATE (:Doc {i: 0, v: 'not a vector'}), (:Other {v: [1.0, 0.0, 1.0]})")
    _run(stub, "MATCH (a:Doc), (b:Doc) WHERE b.i = a.i + 1 CREATE (a)-[:NEXT]->(b)")
    info = _create_index(stub)          # metric 1 = L2
    assert (info.name, info.label, info.property, info.vector, info.entries) == ("emb", "Doc", "v", True, 30)
    assert [i.name for i in stub.ListIndexes(graph_pb2.ListIndexesRequest()).indexes] == ["emb"]

    hits = _hybrid(stub, [10.2, 0, 1], k=3, filter="node.i <> $skip", expand_depth=1,
                   parameters=[graph_pb2.Parameter(name="skip", value=to_value(11))]).hits
    assert [h.node.properties.fields["i"].int_value for h in hits] == [10, 9, 12]
    assert hits[0].score == pytest.approx(-0.04, abs=1e-4)        # L2: the negated squared distance
    assert sorted(p.nodes[-1].properties.fields["i"].int_value for p in hits[0].neighbourhood) == [9, 11]
    assert all(len(p.relationships) == 1 and p.relationships[0].type == "NEXT" for p in hits[0].neighbourhood)
    _, rows, _, _ = _run(stub, "CALL db.index.vector.queryNodes('emb', 2, [30.0, 0.0, 1.0]) YIELD node, score "
                               "RETURN node.i AS i, score")
    assert [_scalar(r.values[0]) for r in rows] == [30, 29]

    # Errors, each with the status a client can act on.
    expect_status(grpc.StatusCode.ALREADY_EXISTS, lambda: _create_index(stub))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: stub.CreateIndex(graph_pb2.CreateIndexRequest(name="k", label="Doc", property="i")))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: _create_index(stub, name=""))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: _create_index(stub, name="z", dimension=0))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: _create_index(stub, name="z", metric=99))
    assert "holds 3" in expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: _hybrid(stub, [1.0, 2.0]))
    expect_status(grpc.StatusCode.NOT_FOUND, lambda: _hybrid(stub, [1.0, 2.0, 3.0], index="nope"))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: _hybrid(stub, [1.0, 2.0, 3.0], k=0))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: _hybrid(stub, [1.0, 2.0, 3.0], expand_depth=4))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: _hybrid(stub, [float("nan"), 2.0, 3.0]))
    assert "line 1" in expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: _hybrid(stub, [1.0, 2.0, 3.0], filter="node.i >"))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: _hybrid(stub, [1.0, 2.0, 3.0], filter="m.i > 1"))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: _hybrid(stub, [1.0, 2.0, 3.0], filter="node.i > $p"))
    _run(stub, "MATCH (d:Doc {i: 30}) DETACH DELETE d")
    # A property index beside it: equality lookups, same answers, ALREADY_EXISTS for a taken name or pair.
    info = _create_index(stub, name="by_i", prop="i", property_index=graph_pb2.PropertyIndexConfig())
    assert (info.name, info.vector, info.entries) == ("by_i", False, 30)      # the 29 vectors + i: 0
    expect_status(grpc.StatusCode.ALREADY_EXISTS, lambda: _create_index(stub, name="by_i", prop="t", property_index=graph_pb2.PropertyIndexConfig()))
    expect_status(grpc.StatusCode.ALREADY_EXISTS, lambda: _create_index(stub, name="emb", prop="t", property_index=graph_pb2.PropertyIndexConfig()))
    expect_status(grpc.StatusCode.INVALID_ARGUMENT, lambda: _create_index(stub, name="x", prop="", property_index=graph_pb2.PropertyIndexConfig()))
    _, rows, _, _ = _run(stub, "MATCH (d:Doc) WHERE d.i = $i RETURN d.i", i=17)
    assert [_scalar(r.values[0]) for r in rows] == [17]
    assert server.stop() == 0

    server = RunningServer([], data)
    try:
        stub = _stub(server)
        assert [(i.name, i.vector, i.entries) for i in stub.ListIndexes(graph_pb2.ListIndexesRequest()).indexes] == [
            ("by_i", False, 30), ("emb", True, 29)]
        _, rows, _, _ = _run(stub, "MATCH (d:Doc {i: 5}) RETURN d.i")
        assert [_scalar(r.values[0]) for r in rows] == [5]
        hits = _hybrid(stub, [40.0, 0, 1], k=1).hits
        assert hits[0].node.properties.fields["i"].int_value == 29
    finally:
        server.stop()


def test_large_results_stream_and_stop_early(server):
    stub = _stub(server)
    _run(stub, "UNWIND range(1, 1200) AS i CREATE (:Big {i: i})")
    # 1.44M rows: more than a query may build (1,000,000), so only streaming can answer it,
    # and max_rows stops the walk early.
    started = time.monotonic()
    _, rows, summary, batches = _run(stub, "MATCH (a:Big), (b:Big) RETURN a.i * 10000 + b.i AS k", max_rows=5000, batch_rows=1000)
    assert len(rows) == 5000 and summary.rows == 5000 and [len(b.rows) for b in batches] == [1000] * 5
    assert time.monotonic() - started < 20
    # The stream arrives in batches without the server holding it, up to the server's row
    # limit for max_rows = 0 (1,000,000; built, this result would be refused instead).
    count = 0
    for part in stub.Execute(graph_pb2.ExecuteRequest(query="MATCH (a:Big), (b:Big) RETURN a.i AS a, b.i AS b", batch_rows=4096)):
        if part.HasField("rows"):
            count += len(part.rows.rows)
        elif part.HasField("summary"):
            assert part.summary.rows == 1_000_000
    assert count == 1_000_000
    # A client that cancels mid-stream stops the query; the server goes on serving.
    call = stub.Execute(graph_pb2.ExecuteRequest(query="MATCH (a:Big), (b:Big), (c:Big) RETURN a.i, b.i, c.i"))
    assert next(call).HasField("header")
    call.cancel()
    for _ in range(12):        # more than the blocking pool's threads would be, were they leaked
        call = stub.Execute(graph_pb2.ExecuteRequest(query="MATCH (a:Big), (b:Big), (c:Big) RETURN a.i"))
        next(call)
        call.cancel()
    _, rows, _, _ = _run(stub, "MATCH (a:Big {i: 7}) RETURN a.i", timeout=10)
    assert _scalar(rows[0].values[0]) == 7
    # A write's rows still come back (after its commit).
    _, rows, summary, _ = _run(stub, "MATCH (a:Big) WHERE a.i <= 3 SET a.seen = true RETURN a.i ORDER BY a.i")
    assert [_scalar(r.values[0]) for r in rows] == [1, 2, 3] and summary.properties_set == 3


def test_explain_and_profile_through_the_client(server):
    import ruvector
    with ruvector.Client(server.address) as db:
        db.graph.execute("UNWIND range(1, 50) AS i CREATE (:Person {name: 'p' + toString(i), age: i % 5})")
        db.graph.execute("MATCH (a:Person), (b:Person) WHERE a.age = 1 AND b.age = 2 CREATE (a)-[:KNOWS]->(b)")
        db.graph.create_index("person_age", "Person", "age")
        query = "MATCH (a:Person)-[:KNOWS]->(b:Person) WHERE a.age = $age RETURN count(*) AS c"

        explained = db.graph.execute("EXPLAIN " + query, {"age": 1})
        assert explained.rows == [] and explained.columns == []
        plan = explained.plan
        assert plan.mode == "EXPLAIN" and plan.planned and plan.reason == ""
        assert [op.name for op in plan.operators] == ["ProduceResults", "EagerAggregation", "Expand(All)", "Filter", "NodeIndexSeek"]
        assert "by :Person(age)" in plan.operators[-1].details and "+NodeIndexSeek" in str(plan)

        profiled = db.graph.execute("PROFILE " + query, {"age": 1})
        assert profiled.rows == [{"c": 100}] and profiled.plan.mode == "PROFILE" and profiled.plan.cached
        rows = {op.name: op.rows for op in profiled.plan.operators}
        assert rows["ProduceResults"] == 1 and rows["Expand(All)"] == 100 and rows["NodeIndexSeek"] == 10
        assert sum(op.time_ns for op in profiled.plan.operators) > 0

        plain = db.graph.execute(query, {"age": 1})
        assert plain.rows == [{"c": 100}] and plain.plan is None and "plan" not in plain.summary

        # Writes are planned: each update an operator, with its rows.
        written = db.graph.execute("PROFILE MATCH (n:Nobody) SET n.x = 1 RETURN n").plan
        assert written.planned and not written.reason
        assert [op.name for op in written.operators] == ["ProduceResults", "Projection", "SetProperty", "NodeByLabelScan"]
        made = db.graph.execute("PROFILE UNWIND range(1, 3) AS i CREATE (:Made {i: i})").plan
        assert made.planned and [(op.name, op.rows) for op in made.operators] == [
            ("ProduceResults", 0), ("EmptyResult", 0), ("Create", 3), ("Unwind", 3)]

        # EXPLAIN of a write runs nothing (and needs no write access); PROFILE of one runs it.
        assert db.graph.execute("EXPLAIN CREATE (:Ghost)").plan.operators[2].name == "Create"
        assert db.graph.execute("MATCH (g:Ghost) RETURN count(g) AS c").rows == [{"c": 0}]
        assert db.graph.execute("PROFILE CREATE (:Ghost)").summary["nodes_created"] == 1
        with pytest.raises(ruvector.InvalidArgument):
            db.graph.execute("EXPLAIN MATCH (n) RETURN m")
