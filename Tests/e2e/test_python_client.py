"""The Python client package (clients/python, `import ruvector`) against the real server:
every method, lists and numpy inputs, the filter mini-language checked against a Python
evaluation of the same payloads, error classes, TLS, and data surviving a restart."""
import math
import random
import time

import numpy as np
import pytest

import ruvector
from conftest import TEST_CERTS, TLS_HOST_OVERRIDE, RunningServer


@pytest.fixture
def db(server):
    with ruvector.Client(server.address, timeout=30) as client:
        yield client


LANGS = ["swift", "c", "rust", "python"]


def _payload(i):
    return {"lang": LANGS[i % 4], "year": 2000 + i % 25, "score": (i % 7) / 7, "draft": i % 5 == 0,
            "tags": [f"t{i % 3}", f"u{i % 2}"],
            **({"extra": i} if i % 11 == 0 else {"extra": None} if i % 13 == 0 else {})}


def _dataset(n=600, dim=8, seed=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, dim)).astype(np.float32), [_payload(i) for i in range(n)]


def _matches(payload, spec):
    """A Python evaluation of the filter mini-language, the oracle for the server's filters."""
    if not {"must", "should", "must_not"} & spec.keys():
        return all(payload.get(k) == v for k, v in spec.items())
    ok = all(_condition(payload, c) for c in spec.get("must", []))
    if spec.get("should"):
        held = sum(1 for c in spec["should"] if _condition(payload, c))
        ok = ok and held >= max(1, spec.get("min_should", 0))
    return ok and not any(_condition(payload, c) for c in spec.get("must_not", []))


def _condition(payload, c):
    if {"must", "should", "must_not"} & c.keys():
        return _matches(payload, c)
    if "has_id" in c:
        return payload["_id"] in c["has_id"]
    value = payload.get(c["key"])
    values = value if isinstance(value, list) else [value]
    if "match" in c:
        m = c["match"]
        if isinstance(m, dict) and "any" in m:
            return any(v in m["any"] for v in values)
        if isinstance(m, dict) and "except" in m:
            return value is not None and not any(v in m["except"] for v in values)
        return any(v == m and type(v) is type(m) for v in values)
    if "range" in c:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return False
        r = c["range"]
        return (("gt" not in r or value > r["gt"]) and ("gte" not in r or value >= r["gte"])
                and ("lt" not in r or value < r["lt"]) and ("lte" not in r or value <= r["lte"]))
    if "exists" in c:
        return (c["key"] in payload and payload[c["key"]] is not None) == c["exists"]
    if c.get("is_null"):
        return c["key"] in payload and payload[c["key"]] is None
    if c.get("is_empty"):
        return payload.get(c["key"]) in (None, [])
    raise AssertionError(c)


FILTERS = [
    {"lang": "swift"},
    {"must": [{"key": "lang", "match": "rust"}, {"key": "draft", "match": False}]},
    {"must": [{"key": "year", "range": {"gte": 2010, "lt": 2015}}]},
    {"should": [{"key": "lang", "match": "c"}, {"key": "year", "match": 2003}]},
    {"must_not": [{"key": "lang", "match": {"any": ["swift", "c"]}}]},
    {"must": [{"key": "tags", "match": "t1"}], "must_not": [{"key": "draft", "match": True}]},
    {"must": [{"key": "score", "range": {"gt": 0.5}}, {"should": [{"key": "lang", "match": "python"},
                                                                  {"key": "year", "range": {"lte": 2002}}]}]},
    {"must": [{"key": "extra", "exists": True}]},
    {"must": [{"key": "lang", "match": {"except": ["rust"]}}]},
    {"must": [{"key": "extra", "is_null": True}]},
    {"must": [{"key": "extra", "is_empty": True}], "must_not": [{"key": "lang", "match": "c"}]},
    {"should": [{"key": "lang", "match": "swift"}, {"key": "draft", "match": True}, {"key": "year", "range": {"lt": 2010}}],
     "min_should": 2},
    {"must": [{"has_id": list(range(0, 600, 7))}], "must_not": [{"key": "lang", "match": "swift"}]},
]


def test_collections_upsert_search_and_filters(db):
    vectors, payloads = _dataset()
    info = db.create_collection("docs", dimension=8, metric="l2", m=12, ef_construction=100)
    assert (info.name, info.dimension, info.metric, info.m, info.points_count) == ("docs", 8, "l2", 12, 0)
    # numpy arrays for half, plain lists for the other half.
    result = db.upsert("docs", ids=np.arange(300), vectors=vectors[:300], payloads=payloads[:300])
    assert result.points_affected == 300 and result.sequence >= 1
    db.upsert("docs", ids=list(range(300, 600)), vectors=vectors[300:].tolist(), payloads=payloads[300:])
    info = db.get_collection("docs")
    assert info.points_count == 600 and info.quantization is None and info.tiers is None
    # Memory and disk are measured (600 x 8 floats at least, and a logged write each), the creation time is recent.
    assert info.memory_bytes >= 600 * 8 * 4 and info.disk_bytes >= 600 * 8 * 4
    assert abs(info.created_unix_micros / 1e6 - time.time()) < 600
    assert [c.name for c in db.list_collections()] == ["docs"]

    query = np.random.default_rng(9).normal(size=8).astype(np.float32)
    truth = np.argsort(((vectors - query) ** 2).sum(axis=1))
    exact = db.search("docs", query, k=10, exact=True)
    assert [h.id for h in exact] == truth[:10].tolist()
    assert math.isclose(exact[0].score, -float(((vectors[truth[0]] - query) ** 2).sum()), rel_tol=1e-4)
    approx = db.search("docs", query.tolist(), k=10, ef=64)
    assert len({h.id for h in approx} & set(truth[:10].tolist())) >= 8
    assert approx[0].payload == payloads[approx[0].id]
    with_vectors = db.search("docs", query, k=1, with_vectors=True, with_payload=False)
    assert with_vectors[0].payload is None and np.allclose(with_vectors[0].vector, vectors[with_vectors[0].id])
    threshold = exact[4].score
    assert [h.id for h in db.search("docs", query, k=10, exact=True, score_threshold=threshold)] == truth[:5].tolist()
    assert [h.id for h in db.search("docs", query, k=3, exact=True, offset=2)] == truth[2:5].tolist()

    for spec in FILTERS:
        expected = [i for i in range(600) if _matches({**payloads[i], "_id": i}, spec)]
        assert expected, spec
        assert db.count("docs", filter=spec) == len(expected), spec
        hits = db.search("docs", query, k=5, filter=spec, exact=True)
        ranked = [i for i in truth.tolist() if i in set(expected)][:5]
        assert [h.id for h in hits] == ranked, spec

    batch = db.search_batch("docs", vectors[:5], k=1, exact=True)
    assert [b[0].id for b in batch] == [0, 1, 2, 3, 4]


def test_get_scroll_delete_count(db):
    vectors, payloads = _dataset(n=250)
    db.create_collection("docs", dimension=8)
    db.upsert("docs", ids=range(250), vectors=vectors, payloads=payloads)
    records = db.get("docs", [3, 7, 999], with_vectors=True)
    assert [r.id for r in records] == [3, 7] and records[0].payload == payloads[3]
    normalized = vectors[3] / np.linalg.norm(vectors[3])      # cosine collections store unit vectors
    assert np.allclose(records[0].vector, normalized, atol=1e-5)
    assert [r.id for r in db.scroll("docs", page_size=32)] == list(range(250))
    swift = [r.id for r in db.scroll("docs", filter={"lang": "swift"}, page_size=7, with_payload=False)]
    assert swift == [i for i in range(250) if payloads[i]["lang"] == "swift"]
    assert db.delete("docs", ids=[0, 1, 2, 1000]) == 3
    assert db.delete("docs", filter={"must": [{"key": "lang", "match": "c"}]}) == len(
        [i for i in range(3, 250) if payloads[i]["lang"] == "c"])
    assert db.count("docs") == 247 - len([i for i in range(3, 250) if payloads[i]["lang"] == "c"])
    assert db.count("docs", filter={"lang": "c"}) == 0
    remaining = db.count("docs")
    assert db.delete_collection("docs") == remaining
    with pytest.raises(ruvector.NotFound):
        db.count("docs")


def test_writes_acknowledged_before_indexing(db):
    """wait=False: acknowledged once logged, indexed shortly after in order; a delete waits for them."""
    vectors, payloads = _dataset(n=3000, dim=16, seed=8)
    db.create_collection("fast", dimension=16, metric="l2")
    result = db.import_stream("fast", ((i, vectors[i], payloads[i]) for i in range(2000)), batch_size=250, wait=False)
    assert result.points_affected == 2000 and not result.applied
    single = db.upsert("fast", ids=list(range(2000, 3000)), vectors=vectors[2000:], payloads=payloads[2000:], wait=False)
    assert single.points_affected == 1000 and not single.applied and single.sequence > result.sequence
    assert db.delete("fast", ids=list(range(2990, 3000))) == 10     # applied after every queued write
    db.wait_indexed("fast", timeout=60)
    assert not db.get_collection("fast").indexing
    assert db.count("fast") == 2990
    assert [h.id for h in db.search("fast", vectors[1234], k=1)] == [1234]
    assert db.upsert("fast", ids=[5], vectors=[vectors[5]]).applied


def test_import_stream_and_search_stream(db, capsys):
    vectors, payloads = _dataset(n=2000, dim=8, seed=5)
    db.create_collection("docs", dimension=8, metric="cosine")
    points = ((i, vectors[i], payloads[i]) for i in range(1000))
    result = db.import_stream("docs", points, batch_size=128, progress=True, total=1000)
    assert result.points_affected == 1000
    assert "1000/1000 points" in capsys.readouterr().err
    more = [ruvector.Point(id=i, vector=vectors[i].tolist(), payload=payloads[i]) for i in range(1000, 1500)]
    more += [{"id": i, "vector": vectors[i]} for i in range(1500, 2000)]
    assert db.import_stream("docs", more, batch_size=300).points_affected == 1000
    assert db.count("docs") == 2000

    results = list(db.search_stream("docs", (vectors[i] for i in range(0, 2000, 40)), k=3))
    assert len(results) == 50
    assert [r[0].id for r in results] == list(range(0, 2000, 40))
    assert all(math.isclose(r[0].score, 1.0, abs_tol=1e-4) for r in results)
    # A failing query raises its own error when its turn comes; the ones before it were yielded.
    stream = db.search_stream("docs", [vectors[0], vectors[1][:3], vectors[2]], k=1)
    assert next(stream)[0].id == 0
    with pytest.raises(ruvector.InvalidArgument, match="expects 8"):
        next(stream)
    # A failing import reports what was written.
    bad = [(5000 + i, vectors[i]) for i in range(10)] + [(6000, [1.0, 2.0])]
    with pytest.raises(ruvector.InvalidArgument, match="points of the earlier messages were written"):
        db.import_stream("docs", bad, batch_size=10)
    assert db.count("docs") == 2010


def test_snapshots_download_and_restore(db, tmp_path):
    vectors, payloads = _dataset(n=400)
    db.create_collection("docs", dimension=8, metric="l2")
    db.upsert("docs", ids=range(400), vectors=vectors, payloads=payloads)
    snapshot = db.create_snapshot("docs")
    assert snapshot.collection == "docs" and snapshot.size_bytes > 0
    assert [s.name for s in db.list_snapshots("docs")] == [snapshot.name]
    path = tmp_path / "docs.rvsnap"
    assert db.download_snapshot("docs", snapshot.name, path, chunk_bytes=4096) == snapshot.size_bytes
    assert ruvector.crc32c(path.read_bytes()) == snapshot.crc32c
    query = vectors[17]
    before = db.search("docs", query, k=10)

    db.delete("docs", ids=list(range(100)))
    info = db.restore_snapshot("copy", path, chunk_bytes=5000)
    assert info.name == "copy" and info.points_count == 400
    assert db.search("copy", query, k=10) == before
    assert db.restore_snapshot("docs", name=snapshot.name).points_count == 400
    assert db.search("docs", query, k=10) == before

    damaged = tmp_path / "damaged.rvsnap"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    damaged.write_bytes(bytes(data))
    with pytest.raises(ruvector.InvalidArgument, match="damaged"):
        db.restore_snapshot("other", damaged)
    with pytest.raises(ruvector.NotFound):
        db.download_snapshot("docs", "snapshot-00000000000000999999.rvsnap", tmp_path / "x")
    assert not (tmp_path / "x").exists() and not (tmp_path / "x.part").exists()


def test_errors_map_to_classes(db):
    db.create_collection("docs", dimension=4)
    with pytest.raises(ruvector.AlreadyExists):
        db.create_collection("docs", dimension=4)
    with pytest.raises(ruvector.NotFound, match="does not exist"):
        db.search("missing", [0, 0, 0, 1])
    with pytest.raises(ruvector.InvalidArgument, match="expects 4"):
        db.upsert("docs", ids=[1], vectors=[[1, 2, 3]])
    with pytest.raises(ruvector.InvalidArgument):
        db.search("docs", [0, 0, 0, 1], k=0)
    with pytest.raises(ruvector.RuVectorError) as info:
        db.get_collection("nope")
    assert info.value.code.name == "NOT_FOUND" and "nope" in info.value.message
    # Mistakes caught before anything is sent.
    with pytest.raises(ValueError, match="metric"):
        db.create_collection("x", dimension=4, metric="hamming")
    with pytest.raises(ValueError, match="unknown filter keys"):
        db.count("docs", filter={"must": [], "sometimes": []})
    with pytest.raises(ValueError, match="needs match, range, exists"):
        db.count("docs", filter={"must": [{"key": "lang"}]})
    with pytest.raises(ValueError, match="same length"):
        db.upsert("docs", ids=[1, 2], vectors=[[0, 0, 0, 1]])
    with pytest.raises(TypeError, match="payload values"):
        db.upsert("docs", ids=[1], vectors=[[0, 0, 0, 1]], payloads=[{"x": object()}])
    with pytest.raises(ruvector.Unavailable):
        ruvector.Client("127.0.0.1:1", timeout=2).list_collections()


def test_less_common_statuses_map_to_their_classes(tmp_path):
    """Upload over the server's limit, a snapshot of a newer format, an expired deadline."""
    config = tmp_path / "config.json"
    config.write_text('{"vectorLimits": {"maxSnapshotUploadBytes": 5000}}')
    server = RunningServer(["--config", str(config)], tmp_path / "data")
    vectors, payloads = _dataset(n=50)
    try:
        with ruvector.Client(server.address, timeout=30) as db:
            db.create_collection("docs", dimension=8)
            db.upsert("docs", ids=range(50), vectors=vectors, payloads=payloads)
            snapshot = db.create_snapshot("docs")
            path = tmp_path / "docs.rvsnap"
            db.download_snapshot("docs", snapshot.name, path)
            assert path.stat().st_size > 5000
            with pytest.raises(ruvector.ResourceExhausted, match="maxSnapshotUploadBytes"):
                db.restore_snapshot("copy", path, chunk_bytes=4096)
            # Small enough to upload, but written by a newer format: the message says to upgrade.
            newer = bytearray(path.read_bytes()[:4096])
            newer[8] = 7
            (tmp_path / "newer.rvsnap").write_bytes(bytes(newer))
            with pytest.raises(ruvector.FailedPrecondition, match="upgrade"):
                db.restore_snapshot("copy", tmp_path / "newer.rvsnap")
            assert [c.name for c in db.list_collections()] == ["docs"]
        with ruvector.Client(server.address, timeout=1e-6) as hurried:
            with pytest.raises(ruvector.DeadlineExceeded):
                hurried.search("docs", vectors[0], k=50, exact=True)
    finally:
        server.stop()


def test_tls_and_restart_keep_data(tmp_path):
    data = tmp_path / "data"
    args = ["--tls-cert", str(TEST_CERTS / "server1.pem"), "--tls-key", str(TEST_CERTS / "server1.key")]
    server = RunningServer(args, data)
    vectors, payloads = _dataset(n=100)
    try:
        with ruvector.Client(server.address, tls=True, root_certificates=(TEST_CERTS / "ca.pem").read_bytes(),
                             server_name_override=TLS_HOST_OVERRIDE) as db:
            db.create_collection("docs", dimension=8)
            db.upsert("docs", ids=range(100), vectors=vectors, payloads=payloads)
            before = db.search("docs", vectors[5], k=5)
    finally:
        server.stop()
    server = RunningServer(args, data)
    try:
        with ruvector.Client(server.address, root_certificates=(TEST_CERTS / "ca.pem").read_bytes(),
                             server_name_override=TLS_HOST_OVERRIDE) as db:
            assert db.count("docs") == 100
            assert db.search("docs", vectors[5], k=5) == before
            assert db.get("docs", [42])[0].payload == payloads[42]
    finally:
        server.stop()


def test_exact_search_is_brute_force_even_when_the_graph_is_weak(db):
    rng = np.random.default_rng(11)
    vectors = rng.normal(size=(3000, 16)).astype(np.float32)
    db.create_collection("weak", dimension=16, metric="l2", m=4, ef_construction=8, ef_search=1)
    db.import_stream("weak", ((i, vectors[i]) for i in range(3000)), batch_size=1000)
    misses = 0
    for q in rng.normal(size=(20, 16)).astype(np.float32):
        truth = np.argsort(((vectors - q) ** 2).sum(axis=1))[:10].tolist()
        assert [h.id for h in db.search("weak", q, k=10, exact=True)] == truth
        misses += len(set(truth) - {h.id for h in db.search("weak", q, k=10, ef=1)})
    assert misses > 0      # the graph walk with ef=1 on a weak graph is approximate; exact is not


def test_graph_through_the_client(db):
    created = db.graph.execute("CREATE (a:Doc {title: $t})-[:CITES {w: 1}]->(b:Doc {title: 'B'}) RETURN a, b",
                               {"t": "A"})
    assert created.columns == ["a", "b"] and created.summary["nodes_created"] == 2
    a = created.rows[0]["a"]
    assert isinstance(a, ruvector.Node) and a.labels == ["Doc"] and a.properties == {"title": "A"}
    rows = db.graph.execute("MATCH p = (x:Doc)-[r:CITES]->(y) RETURN x.title AS x, r, p, [1, 2] AS l").rows
    assert rows[0]["x"] == "A" and rows[0]["r"].type == "CITES" and rows[0]["r"].start == a.id
    assert [n.properties["title"] for n in rows[0]["p"].nodes] == ["A", "B"] and rows[0]["l"] == [1, 2]
    # Temporal values arrive as ruvector.Temporal, exact, and their text goes back as a parameter.
    row = db.graph.execute("RETURN time('21:40:32.5-01:30') AS t, [duration({days: 2, seconds: 1})] AS d").rows[0]
    t = row["t"]
    assert isinstance(t, ruvector.Temporal) and (t.type, str(t)) == ("time", "21:40:32.500-01:30")
    assert t.nano_of_day == (21 * 3600 + 40 * 60 + 32) * 10**9 + 5 * 10**8 and t.offset_seconds == -5400
    assert [(d.type, d.days, d.seconds, d.nanos) for d in row["d"]] == [("duration", 2, 1, 0)]
    assert db.graph.execute("RETURN time($t) = time('21:40:32.5-01:30') AS same", {"t": str(t)}).rows[0]["same"] is True
    # A Temporal goes back as a parameter exactly, nanoseconds and zone included.
    dt = db.graph.execute("RETURN datetime('2017-10-29T02:30:00.000000001+01:00[Europe/Stockholm]') AS dt").rows[0]["dt"]
    back = db.graph.execute("RETURN $dt AS same, $dt + duration('PT1H') AS later", {"dt": dt}).rows[0]
    assert back["same"] == dt and str(back["later"]) == "2017-10-29T03:30:00.000000001+01:00[Europe/Stockholm]"
    with pytest.raises(ruvector.InvalidArgument):
        db.graph.execute("RETURN $d", {"d": ruvector.Temporal("datetime", "", epoch_day=0, zone="Mars/Olympus")})
    # Inside maps and as properties of nodes and relationships, temporal values stay exact too.
    row = db.graph.execute("CREATE (e:Event {at: date('2024-02-29'), days: [date('2024-03-01')], n: 1})-[r:AT {when: localtime('12:00')}]->(e) "
                           "RETURN e, r, {at: e.at, e: e, plain: 1} AS m").rows[0]
    assert row["e"].properties == {"at": row["m"]["at"], "days": row["e"].properties["days"], "n": 1}
    assert isinstance(row["e"].properties["at"], ruvector.Temporal) and str(row["e"].properties["at"]) == "2024-02-29"
    assert [str(d) for d in row["e"].properties["days"]] == ["2024-03-01"] and str(row["r"].properties["when"]) == "12:00"
    assert isinstance(row["m"]["e"], ruvector.Node) and row["m"]["e"].id == row["e"].id and row["m"]["plain"] == 1
    db.graph.execute("MATCH (e:Event) DETACH DELETE e")

    with db.graph.transaction("serializable") as tx:
        tx.execute("MATCH (d:Doc {title: 'A'}) SET d.seen = true")
        assert db.graph.execute("MATCH (d:Doc {seen: true}) RETURN count(d) AS n").rows[0]["n"] == 0
    assert db.graph.execute("MATCH (d:Doc {seen: true}) RETURN count(d) AS n").rows[0]["n"] == 1
    with pytest.raises(RuntimeError):
        with db.graph.transaction() as tx:
            tx.execute("CREATE (:Ghost)")
            raise RuntimeError("the block failed")
    assert db.graph.execute("MATCH (g:Ghost) RETURN count(g) AS n").rows[0]["n"] == 0
    t1, t2 = db.graph.begin("serializable"), db.graph.begin("serializable")
    t1.execute("MATCH (d:Doc {title: 'B'}) SET d.v = 1")
    t2.execute("MATCH (d:Doc {title: 'B'}) SET d.v = 2")
    t1.commit()
    with pytest.raises(ruvector.Aborted):
        t2.commit()
    with pytest.raises(ruvector.InvalidArgument, match="line 1"):
        db.graph.execute("MATCH (n RETURN n")
    ids = [r["id"] for r in db.graph.execute("UNWIND range(1, 3) AS i CREATE (n:M {i: i}) RETURN id(n) AS id").rows]
    edge = db.graph.create_hyperedge("GROUP", ids, {"k": "v"})
    assert db.graph.hyperedges(node_id=ids[0]) == [edge]


def test_hybrid_search_through_the_client(db):
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(200, 8)).astype(np.float32)
    db.graph.execute("UNWIND $rows AS row CREATE (:Paper {n: row.n, year: row.year, embedding: row.v})",
                     {"rows": [{"n": i, "year": 2000 + i % 20, "v": v.tolist()} for i, v in enumerate(vectors)]})
    db.graph.execute("MATCH (a:Paper), (b:Paper) WHERE b.n = a.n * 2 CREATE (a)-[:CITES]->(b)")
    index = db.graph.create_vector_index("papers", "Paper", "embedding", dimension=8, metric="cosine")
    assert index == ruvector.GraphIndex("papers", "Paper", "embedding", 200)
    by_year = db.graph.create_index("by_year", "Paper", "year")
    assert by_year == ruvector.GraphIndex("by_year", "Paper", "year", 200, vector=False)
    assert db.graph.indexes() == [by_year, index]
    assert db.graph.execute("MATCH (p:Paper {year: 2003}) RETURN count(p) AS n").rows == [{"n": 10}]
    with pytest.raises(ruvector.AlreadyExists):
        db.graph.create_vector_index("papers", "Paper", "embedding", dimension=8)
    with pytest.raises(ValueError):
        db.graph.create_vector_index("x", "Paper", "embedding", dimension=8, metric="hamming")

    q = vectors[21] + 0.01
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosine = unit @ (q / np.linalg.norm(q))
    recent = [i for i in np.argsort(-cosine) if 2000 + i % 20 >= 2015][:5]
    hits = db.graph.hybrid_search("papers", q, k=5, filter="node.year >= $year", parameters={"year": 2015}, expand_depth=1)
    assert [h.node.properties["n"] for h in hits] == recent
    assert [h.score for h in hits] == pytest.approx([cosine[i] for i in recent], abs=1e-4)
    seed = hits[0].node
    neighbours = {p.nodes[-1].properties["n"] for p in hits[0].neighbourhood}
    n = seed.properties["n"]
    expected = {m for m in (n * 2, n // 2 if n % 2 == 0 else None) if m is not None and m != n and m < 200}
    assert neighbours == expected
    with pytest.raises(ruvector.NotFound):
        db.graph.hybrid_search("nope", q)
    with pytest.raises(ruvector.InvalidArgument):
        db.graph.hybrid_search("papers", q[:4])


def test_nested_payload_objects(db):
    rng = np.random.default_rng(12)
    vectors = rng.normal(size=(200, 4)).astype(np.float32)
    payloads = [{"author": {"name": f"a{i % 10}", "age": 20 + i % 50, "address": {"city": ["Oslo", "Lima"][i % 2]}},
                 "reviews": [{"stars": (i + j) % 6} for j in range(i % 3)], "a.b": "flat"} for i in range(200)]
    db.create_collection("nested", dimension=4, metric="l2")
    db.upsert("nested", ids=list(range(200)), vectors=vectors, payloads=payloads)
    assert db.get("nested", [7])[0].payload == payloads[7]          # objects come back whole

    def count_where(test):
        return sum(1 for p in payloads if test(p))

    cases = [
        ({"must": [{"key": "author.name", "match": "a3"}]}, lambda p: p["author"]["name"] == "a3"),
        ({"must": [{"key": "author.address.city", "match": "Lima"}, {"key": "author.age", "range": {"gte": 60}}]},
         lambda p: p["author"]["address"]["city"] == "Lima" and p["author"]["age"] >= 60),
        ({"must": [{"key": "reviews.stars", "match": 5}]}, lambda p: any(r["stars"] == 5 for r in p["reviews"])),
        ({"must": [{"key": "reviews.stars", "exists": True}]}, lambda p: len(p["reviews"]) > 0),
        ({"must": [{"key": "reviews", "is_empty": True}]}, lambda p: not p["reviews"]),
        ({"must": [{"key": "a.b", "match": "flat"}]}, lambda p: True),
    ]
    query = rng.normal(size=4).astype(np.float32)
    truth = np.argsort(((vectors - query) ** 2).sum(axis=1)).tolist()
    for spec, test in cases:
        assert db.count("nested", filter=spec) == count_where(test), spec
        expected = [i for i in truth if test(payloads[i])][:5]
        assert [h.id for h in db.search("nested", query, k=5, filter=spec, exact=True)] == expected, spec


def test_uuid_point_ids(tmp_path):
    import uuid

    data = tmp_path / "data"
    server = RunningServer([], data)
    try:
        with ruvector.Client(server.address, timeout=30) as db:
            db.create_collection("u", dimension=3, metric="l2")
            ids = [uuid.UUID(int=(i * 0x9E3779B97F4A7C15) % 2 ** 128) for i in range(1, 41)]
            db.upsert("u", ids=ids[:20], vectors=[[float(i), 0, 0] for i in range(20)], payloads=[{"i": i} for i in range(20)])
            db.upsert("u", ids=[str(u).upper() for u in ids[20:]] + [5, 6], vectors=[[float(i), 1, 0] for i in range(20, 42)])
            assert db.count("u") == 42
            hits = db.search("u", [3.1, 0, 0], k=2, exact=True)
            assert [h.id for h in hits] == [str(ids[3]), str(ids[4])]        # canonical lower-case strings
            assert [r.id for r in db.get("u", [ids[7], str(ids[8]).upper(), 5, uuid.uuid4()])] == [str(ids[7]), str(ids[8]), 5]
            assert db.count("u", filter={"must": [{"has_id": [ids[0], ids[1], 6, str(uuid.uuid4())]}]}) == 3
            assert db.delete("u", ids=[ids[0], str(uuid.uuid4())]) == 1
            with pytest.raises(ValueError, match="UUID"):
                db.get("u", ["not-a-uuid"])
            with pytest.raises(ValueError, match="2\\*\\*63"):
                db.upsert("u", ids=[2 ** 63], vectors=[[0, 0, 0]])
            seen = {p.id for p in db.scroll("u")}
            assert seen == {str(u) for u in ids[1:]} | {5, 6}
    finally:
        assert server.stop() == 0
    # Raw wire checks: a numeric id past 2^63 and a malformed UUID are INVALID_ARGUMENT.
    server = RunningServer([], data)
    try:
        import grpc
        from ruvector.v1 import common_pb2, vector_pb2, vector_pb2_grpc
        stub = vector_pb2_grpc.VectorServiceStub(grpc.insecure_channel(server.address))
        for bad in [common_pb2.PointId(num=2 ** 63), common_pb2.PointId(uuid="550e8400-e29b-41d4-a716")]:
            with pytest.raises(grpc.RpcError) as info:
                stub.Upsert(vector_pb2.UpsertRequest(collection="u", points=[
                    vector_pb2.PointStruct(id=bad, vector=common_pb2.Vector(values=[0, 0, 0]))]))
            assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        with ruvector.Client(server.address, timeout=30) as db:          # the pairs survived the restart
            assert [r.id for r in db.get("u", [ids[9], ids[0]])] == [str(ids[9])]
            assert db.search("u", [30.2, 1, 0], k=1, exact=True)[0].id == str(ids[30])
    finally:
        server.stop()


def test_a_scroll_cursor_from_before_a_restart_is_refused(tmp_path):
    """The server renumbers a collection's points at compactions and reorders, and cannot know
    the order of a collection reopened from a snapshot: a Scroll cursor from before is ABORTED
    with a message saying to start again, never a page of other points; iterating again from the
    start works."""
    import grpc
    from ruvector.v1 import vector_pb2, vector_pb2_grpc

    data = tmp_path / "data"
    vectors, _ = _dataset(n=300)
    server = RunningServer([], data)
    try:
        with ruvector.Client(server.address, timeout=30) as db:
            db.create_collection("docs", dimension=8)
            db.upsert("docs", ids=range(300), vectors=vectors)
            # The reopen then starts from this snapshot, whose order the server cannot know (a
            # reopen that only replays the log rebuilds the same order, and keeps cursors).
            db.create_snapshot("docs")
        stub = vector_pb2_grpc.VectorServiceStub(grpc.insecure_channel(server.address))
        first = stub.Scroll(vector_pb2.ScrollRequest(collection="docs", limit=100))
        assert first.HasField("next_offset")
        second = stub.Scroll(vector_pb2.ScrollRequest(collection="docs", limit=100, offset=first.next_offset))
        assert [p.id.num for p in second.points] == list(range(100, 200))
    finally:
        assert server.stop() == 0
    server = RunningServer([], data)
    try:
        stub = vector_pb2_grpc.VectorServiceStub(grpc.insecure_channel(server.address))
        with pytest.raises(grpc.RpcError) as info:
            stub.Scroll(vector_pb2.ScrollRequest(collection="docs", limit=100, offset=first.next_offset))
        assert info.value.code() == grpc.StatusCode.ABORTED
        assert "scroll again from the start" in info.value.details()
        with ruvector.Client(server.address, timeout=30) as db:
            assert sorted(r.id for r in db.scroll("docs", page_size=64)) == list(range(300))
    finally:
        server.stop()
