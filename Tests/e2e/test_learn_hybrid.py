"""Learned re-ranking of HybridSearch: a vector index of the graph learns through LearnService
under the name "graph:<index>" (feedback on node ids, Train, status, export and import), and
`db.graph.hybrid_search(..., learned_rerank=...)` orders its seeds with the model before they
are expanded, filtered as before, the model version in the answer, the same after a restart.

The task is test_learn_training's hidden-class task, stored as :Doc nodes with a vector
property instead of collection points."""
import grpc
import numpy as np
import pytest

import ruvector
from conftest import RunningServer
from test_learn_training import DIM, HOLDOUT_QUERIES, SHOWN, SMALL_MODEL, TRAIN_QUERIES, bootstrap_lower, hidden_class_task, ndcg_at_10

INDEX = "emb"
LEARNER = "graph:" + INDEX


def load_graph(db: ruvector.Client, points: np.ndarray) -> dict[int, int]:
    """Stores the points as (:Doc {i, v}) nodes, each linked to the next, indexes `v`; returns
    node id -> point number."""
    rows = [{"i": i, "v": [float(x) for x in p]} for i, p in enumerate(points)]
    db.graph.execute("UNWIND $rows AS r CREATE (:Doc {i: r.i, v: r.v})", {"rows": rows})
    db.graph.execute("MATCH (a:Doc), (b:Doc) WHERE b.i = a.i + 1 AND a.i < 20 CREATE (a)-[:NEXT]->(b)")
    db.graph.create_vector_index(INDEX, "Doc", "v", DIM, metric="l2")
    return {row["id"]: row["i"] for row in db.graph.execute("MATCH (d:Doc) RETURN id(d) AS id, d.i AS i").rows}


def holdout(db: ruvector.Client, queries: np.ndarray, count: int = HOLDOUT_QUERIES, **search) -> tuple[list[list[int]], set[int]]:
    """Point numbers of the top 10 of the first `count` held-out queries, and the model versions answering."""
    rankings, versions = [], set()
    for q in range(TRAIN_QUERIES, TRAIN_QUERIES + count):
        hits = db.graph.hybrid_search(INDEX, queries[q], k=10, **search)
        rankings.append([h.node.properties["i"] for h in hits])
        versions.add(hits.model_version)
    return rankings, versions


def held_out_ndcg(rankings: list[list[int]], classes: np.ndarray, query_classes: np.ndarray) -> np.ndarray:
    return np.array([ndcg_at_10(ids, classes == query_classes[TRAIN_QUERIES + n]) for n, ids in enumerate(rankings)])


@pytest.fixture(scope="module")
def learned_graph(tmp_path_factory):
    """A server whose graph index was trained on graded feedback of the hidden-class task."""
    data_dir = tmp_path_factory.mktemp("learn-graph") / "data"
    server = RunningServer([], data_dir)
    points, classes, queries, query_classes = hidden_class_task()
    with ruvector.Client(server.address, timeout=120) as db:
        point_of = load_graph(db, points)
        node_of = {i: node for node, i in point_of.items()}
        plain, _ = holdout(db, queries)
        untrained, untrained_versions = holdout(db, queries, learned_rerank=100)
        db.learn.configure(LEARNER, position_bias=-1, **SMALL_MODEL)
        for q in range(TRAIN_QUERIES):
            shown = [h.node.id for h in db.graph.hybrid_search(INDEX, queries[q], k=SHOWN)]
            grades = {n: int(classes[point_of[n]] == query_classes[q]) for n in shown}
            db.learn.feedback(LEARNER, query=queries[q], shown=shown, judgements=grades)
        progress = list(db.learn.train(LEARNER, epochs=30, seed=7))
        status = db.learn.status(LEARNER)
        learned, learned_versions = holdout(db, queries, learned_rerank=100)
    state = dict(server=server, data_dir=data_dir, classes=classes, queries=queries, query_classes=query_classes,
                 node_of=node_of, plain=plain, untrained=untrained, untrained_versions=untrained_versions,
                 learned=learned, learned_versions=learned_versions, progress=progress, status=status)
    yield state
    state["server"].stop()   # the restart test replaces the server: stop the one running now


def test_an_index_that_never_learned_keeps_the_hnsw_order(learned_graph):
    assert learned_graph["untrained"] == learned_graph["plain"]
    assert learned_graph["untrained_versions"] == {0}


def test_hybrid_search_with_the_learned_model_lifts_held_out_ndcg(learned_graph):
    status = learned_graph["status"]
    assert status.collection == LEARNER and status.version == 1 and status.activated
    assert learned_graph["progress"][-1].done and learned_graph["learned_versions"] == {1}
    classes, query_classes = learned_graph["classes"], learned_graph["query_classes"]
    plain = held_out_ndcg(learned_graph["plain"], classes, query_classes)
    learned = held_out_ndcg(learned_graph["learned"], classes, query_classes)
    lift, lower = learned.mean() - plain.mean(), bootstrap_lower(learned - plain)
    print(f"hybrid search held-out nDCG@10 {plain.mean():.4f} -> {learned.mean():.4f}, lift {lift:+.4f}, 95% lower bound {lower:+.4f}")
    assert lift >= 0.05 and lower > 0


def test_the_filter_and_the_expansion_apply_to_the_reranked_seeds(learned_graph):
    queries = learned_graph["queries"]
    with ruvector.Client(learned_graph["server"].address, timeout=60) as db:
        query = queries[TRAIN_QUERIES]
        hits = db.graph.hybrid_search(INDEX, query, k=10, filter="node.i % 2 = 0", learned_rerank=100)
        assert hits.model_version == 1 and len(hits) == 10
        assert all(h.node.properties["i"] % 2 == 0 for h in hits)
        # Every seed of the plain filtered top 100 may come up; nothing outside it does.
        pool = {h.node.id for h in db.graph.hybrid_search(INDEX, query, k=100, filter="node.i % 2 = 0")}
        assert {h.node.id for h in hits} <= pool
        # Scores stay the vector similarity of each seed (L2: the negated squared distance).
        for h in hits:
            vector = np.array(h.node.properties["v"], dtype=np.float32)
            assert h.score == pytest.approx(-float(((vector - query) ** 2).sum()), rel=1e-4, abs=1e-4)
        # Expansion runs on the re-ranked seeds: node 0's chain neighbour comes back with it.
        first = db.graph.hybrid_search(INDEX, query, k=100, expand_depth=1, learned_rerank=100)
        by_point = {h.node.properties["i"]: h for h in first}
        if 0 in by_point:
            assert [p.nodes[-1].properties["i"] for p in by_point[0].neighbourhood] == [1]
        # A depth below k re-ranks only the first `depth` seeds: the rest keep the HNSW order.
        shallow = db.graph.hybrid_search(INDEX, query, k=30, learned_rerank=5)
        plain = db.graph.hybrid_search(INDEX, query, k=30)
        assert [h.node.id for h in shallow][5:] == [h.node.id for h in plain][5:]
        assert sorted(h.node.id for h in shallow[:5]) == sorted(h.node.id for h in plain[:5])


def test_refusals_name_what_is_wrong(learned_graph):
    queries, node_of = learned_graph["queries"], learned_graph["node_of"]
    with ruvector.Client(learned_graph["server"].address, timeout=60) as db:
        with pytest.raises(ruvector.NotFound, match="no graph vector index"):
            db.learn.feedback("graph:nope", query=queries[0], judgements={node_of[0]: 1})
        with pytest.raises(ruvector.InvalidArgument, match="numeric ids"):
            db.learn.feedback(LEARNER, query=queries[0], judgements={"550e8400-e29b-41d4-a716-446655440000": 1})
        with pytest.raises(ruvector.NotFound, match="graph vector index"):
            db.learn.feedback(LEARNER, query=queries[0], judgements={10**12: 1})
        with pytest.raises(ruvector.InvalidArgument, match="dimensions"):
            db.learn.feedback(LEARNER, query=[1.0, 2.0], judgements={node_of[0]: 1})
        with pytest.raises(ruvector.InvalidArgument, match="learned_rerank.depth"):
            db.graph.hybrid_search(INDEX, queries[0], k=5, learned_rerank=5000)
        # A model of the 16-d index cannot go to a collection of another dimension.
        db.create_collection("other", dimension=8)
        model = db.learn.export_model(LEARNER)
        with pytest.raises(ruvector.InvalidArgument, match="can use"):
            db.learn.import_model("other", model)


def test_the_model_survives_a_restart_and_moves_to_another_server(learned_graph, tmp_path):
    queries, data_dir = learned_graph["queries"], learned_graph["data_dir"]
    server = learned_graph["server"]
    server.stop()
    restarted = RunningServer([], data_dir)
    learned_graph["server"] = restarted
    with ruvector.Client(restarted.address, timeout=60) as db:
        # The first 60 held-out queries rank exactly as before (all 300 cost half a minute more).
        again, versions = holdout(db, queries, 60, learned_rerank=100)
        assert versions == {1} and again == learned_graph["learned"][:60]
        model = db.learn.export_model(LEARNER)
    other = RunningServer([], tmp_path / "other")
    try:
        with ruvector.Client(other.address, timeout=120) as db:
            points, _, _, _ = hidden_class_task()
            load_graph(db, points)
            status = db.learn.import_model(LEARNER, model)
            assert status.activated and status.collection == LEARNER
            moved, versions = holdout(db, queries, 60, learned_rerank=100)
            assert versions == {status.version} and moved == learned_graph["learned"][:60]
    finally:
        other.stop()
