"""Learned re-ranking end to end through the Python client and the real server: feedback in,
Train streaming progress, a model that lifts held-out ranking through ordinary
`search(..., learned_rerank=...)` calls, the gate that refuses a model trained on noise, the
same ranking after a restart and on another server after export and import, cancellation,
and refusals (too little feedback, a second run at once, hostile model bytes).

The task: points in clusters that mix 4 hidden classes; a point's class shows only as a small
offset in one of the last 4 dimensions, so a query's nearest neighbours are mostly of other
classes. Relevance = same class. Deterministic for its seeds (server training is too)."""
import contextlib
import time
from collections.abc import Iterator

import numpy as np
import pytest

import ruvector
from conftest import RunningServer

DIM = 16
POINTS = 1500
TRAIN_QUERIES = 1200
HOLDOUT_QUERIES = 300
SHOWN = 50
SMALL_MODEL = dict(hidden_size=32, heads=4, batch_size=16, learning_rate=3e-3, neighbours_per_node=8, schedule="constant")


def hidden_class_task(seed: int = 21) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(points, their classes, queries, the queries' classes)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(12, DIM)) * 2

    def draw(count: int) -> tuple[np.ndarray, np.ndarray]:
        cluster = rng.integers(0, len(centres), size=count)
        classes = rng.integers(0, 4, size=count)
        vectors = centres[cluster] + rng.normal(size=(count, DIM)) * 0.6
        vectors[np.arange(count), DIM - 4 + classes] += 1.2
        return vectors.astype(np.float32), classes

    points, classes = draw(POINTS)
    queries, query_classes = draw(TRAIN_QUERIES + HOLDOUT_QUERIES)
    return points, classes, queries, query_classes


def ndcg_at_10(ids: list[int], relevant: np.ndarray) -> float:
    """nDCG@10 of a ranked id list, binary relevance, ideal over the corpus (capped at 10)."""
    gains = [1.0 / np.log2(rank + 2) for rank, i in enumerate(ids[:10]) if relevant[i]]
    ideal = sum(1.0 / np.log2(rank + 2) for rank in range(min(10, int(relevant.sum()))))
    return float(sum(gains) / ideal) if ideal else 0.0


def bootstrap_lower(differences: np.ndarray, seed: int = 3) -> float:
    """Lower end of the paired percentile bootstrap 95% interval of the mean."""
    rng = np.random.default_rng(seed)
    means = [rng.choice(differences, size=len(differences)).mean() for _ in range(2000)]
    return float(np.percentile(means, 2.5))


def load(db: ruvector.Client, name: str, points: np.ndarray) -> None:
    db.create_collection(name, dimension=DIM, metric="l2")
    db.upsert(name, ids=list(range(len(points))), vectors=points)


def record_graded_feedback(db: ruvector.Client, name: str, points_classes: np.ndarray, queries: np.ndarray,
                           query_classes: np.ndarray, rng: np.random.Generator | None = None,
                           count: int = TRAIN_QUERIES) -> None:
    """For the first `count` training queries: the top 50 as shown, every shown result judged
    (1 = same class, 0 = not); with `rng`, the judgements are coin flips instead (pure noise)."""
    for q in range(count):
        shown = [h.id for h in db.search(name, queries[q], k=SHOWN)]
        if rng is None:
            grades = {i: int(points_classes[i] == query_classes[q]) for i in shown}
        else:
            grades = {i: int(rng.random() < 0.25) for i in shown}
        db.learn.feedback(name, query=queries[q], shown=shown, judgements=grades)


def holdout_rankings(db: ruvector.Client, name: str, queries: np.ndarray, **search) -> list[list[int]]:
    return [[h.id for h in db.search(name, queries[q], k=10, **search)]
            for q in range(TRAIN_QUERIES, TRAIN_QUERIES + HOLDOUT_QUERIES)]


@contextlib.contextmanager
def loaded_server(tmp_path, seed: int) -> Iterator[tuple]:
    """A fresh server holding the task of `seed` as collection "docs", configured for graded
    feedback with the small model; yields (client, points, classes, queries, query classes)."""
    server = RunningServer([], tmp_path / "data")
    try:
        points, classes, queries, query_classes = hidden_class_task(seed=seed)
        with ruvector.Client(server.address, timeout=120) as db:
            load(db, "docs", points)
            db.learn.configure("docs", position_bias=-1, **SMALL_MODEL)
            yield db, points, classes, queries, query_classes
    finally:
        server.stop()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One server with a collection trained on graded feedback of the hidden-class task."""
    data_dir = tmp_path_factory.mktemp("learn") / "data"
    server = RunningServer([], data_dir)
    points, classes, queries, query_classes = hidden_class_task()
    with ruvector.Client(server.address, timeout=120) as db:
        load(db, "docs", points)
        plain = holdout_rankings(db, "docs", queries)
        untrained = holdout_rankings(db, "docs", queries, learned_rerank=100)
        db.learn.configure("docs", position_bias=-1, **SMALL_MODEL)   # explicit grades, not clicks
        record_graded_feedback(db, "docs", classes, queries, query_classes)
        started = time.monotonic()
        progress = list(db.learn.train("docs", epochs=30, seed=7, progress_bar=True))
        seconds = time.monotonic() - started
        status = db.learn.status("docs")
        learned = holdout_rankings(db, "docs", queries, learned_rerank=100)
    state = dict(server=server, data_dir=data_dir, points=points, classes=classes, queries=queries,
                 query_classes=query_classes, plain=plain, untrained=untrained, learned=learned,
                 progress=progress, status=status, seconds=seconds)
    yield state
    # The restart test replaces the server: stop whichever one is running now.
    state["server"].stop()


def test_an_untrained_collection_keeps_the_hnsw_order_exactly(trained):
    assert trained["untrained"] == trained["plain"]


def test_training_streams_progress_and_activates_a_better_model(trained):
    progress, status = trained["progress"], trained["status"]
    epochs = [p for p in progress if p.eval_ndcg_at_10 > 0 and not p.done]
    assert epochs and progress[-1].done and not any(p.done for p in progress[:-1])
    assert max(p.learning_rate for p in progress) > 0
    assert [p.epoch for p in epochs] == sorted(p.epoch for p in epochs)
    assert status.version == 1 and status.activated and status.note == ""
    assert status.training_examples > 0 and status.parameters > 0 and status.trained_unix_micros > 0
    assert status.model_ndcg_at_10 > status.baseline_ndcg_at_10
    print(f"trained in {trained['seconds']:.1f} s: hold-out nDCG@10 {status.baseline_ndcg_at_10:.3f} -> "
          f"{status.model_ndcg_at_10:.3f}, recall@10 {status.baseline_recall_at_10:.3f} -> {status.model_recall_at_10:.3f}")


def test_learned_rerank_lifts_held_out_ndcg_through_ordinary_searches(trained):
    classes, query_classes = trained["classes"], trained["query_classes"]
    relevant = [classes == query_classes[TRAIN_QUERIES + n] for n in range(HOLDOUT_QUERIES)]
    plain = np.array([ndcg_at_10(ids, rel) for ids, rel in zip(trained["plain"], relevant)])
    learned = np.array([ndcg_at_10(ids, rel) for ids, rel in zip(trained["learned"], relevant)])
    lift = learned.mean() - plain.mean()
    lower = bootstrap_lower(learned - plain)
    print(f"held-out nDCG@10 {plain.mean():.4f} -> {learned.mean():.4f}, lift {lift:+.4f}, 95% lower bound {lower:+.4f}")
    assert lift >= 0.05 and lower > 0


def test_responses_name_the_model_and_scores_stay_similarities(trained):
    with ruvector.Client(trained["server"].address, timeout=60) as db:
        query = trained["queries"][TRAIN_QUERIES]
        plain = db.search("docs", query, k=100)
        ranked = db.search("docs", query, k=10, learned_rerank=100)
        assert ranked.model_version == 1 and plain.model_version == 0
        by_id = {h.id: h.score for h in plain}
        assert all(abs(by_id[h.id] - h.score) < 1e-5 for h in ranked)
        # SearchBatch and SearchStream re-rank the same way.
        queries = trained["queries"][TRAIN_QUERIES:TRAIN_QUERIES + 5]
        for answers in (db.search_batch("docs", queries, k=10, learned_rerank=100),
                        list(db.search_stream("docs", list(queries), k=10, learned_rerank=100))):
            assert [[h.id for h in hits] for hits in answers] == trained["learned"][:5]
            assert all(hits.model_version == 1 for hits in answers)
        # A score threshold applies to the similarity, before re-ranking.
        cut = plain[20].score
        kept = db.search("docs", query, k=10, learned_rerank=100, score_threshold=cut)
        assert all(h.score >= cut for h in kept) and len(kept) == 10
        # Depth 1 re-ranks nothing: the HNSW order.
        assert [h.id for h in db.search("docs", query, k=10, learned_rerank=1)] == [h.id for h in plain][:10]
        # offset pages through the re-ranked list.
        deep = db.search("docs", query, k=20, learned_rerank=100)
        assert [h.id for h in db.search("docs", query, k=10, offset=10, learned_rerank=100)] == [h.id for h in deep][10:]


def test_the_model_survives_a_restart_and_ranks_identically(trained):
    trained["server"].stop()
    server = RunningServer([], trained["data_dir"])
    trained["server"] = server
    with ruvector.Client(server.address, timeout=60) as db:
        assert holdout_rankings(db, "docs", trained["queries"], learned_rerank=100) == trained["learned"]
        status = db.learn.status("docs")
        assert status.version == 1 and status.model_ndcg_at_10 == trained["status"].model_ndcg_at_10


def test_export_and_import_move_the_model_to_another_server(trained, tmp_path):
    with ruvector.Client(trained["server"].address, timeout=60) as db:
        model = db.learn.export_model("docs")
    other = RunningServer([], tmp_path / "other")
    try:
        with ruvector.Client(other.address, timeout=60) as db:
            load(db, "docs", trained["points"])
            with pytest.raises(ruvector.InvalidArgument, match="not a model"):
                db.learn.import_model("docs", model[:-9] + bytes([model[-9] ^ 1]) + model[-8:])
            db.create_collection("wide", dimension=DIM * 2, metric="l2")
            with pytest.raises(ruvector.InvalidArgument, match="dimension"):
                db.learn.import_model("wide", model)
            status = db.learn.import_model("docs", model, chunk_bytes=4096)
            assert status.version == 1 and status.activated and status.parameters == trained["status"].parameters
            assert holdout_rankings(db, "docs", trained["queries"], learned_rerank=100) == trained["learned"]
            assert db.learn.export_model("docs") == model
    finally:
        other.stop()


def test_a_model_trained_on_noise_is_not_activated(tmp_path):
    # 400 records: a hold-out of about 40 lists, so the gate goes on to cross-fit (5 more
    # trainings), and that must refuse noise too.
    with loaded_server(tmp_path, seed=4) as (db, _, classes, queries, query_classes):
        record_graded_feedback(db, "docs", classes, queries, query_classes, rng=np.random.default_rng(8), count=400)
        plain = holdout_rankings(db, "docs", queries)
        list(db.learn.train("docs", epochs=2, seed=7))
        status = db.learn.status("docs")
        assert status.latest_version == 1 and status.version == 0 and not status.activated
        assert "not activated" in status.note and "cross-fitted over 5 folds" in status.note, status.note
        ranked = db.search("docs", queries[TRAIN_QUERIES], k=10, learned_rerank=100)
        assert ranked.model_version == 0
        assert holdout_rankings(db, "docs", queries, learned_rerank=100) == plain


def test_training_refusals_and_cancellation(tmp_path):
    with loaded_server(tmp_path, seed=5) as (db, _, classes, queries, query_classes):
        with pytest.raises(ruvector.FailedPrecondition, match="no feedback"):
            list(db.learn.train("docs"))
        db.learn.feedback("docs", query=queries[0], clicks=[1])
        with pytest.raises(ruvector.FailedPrecondition, match="at least"):
            list(db.learn.train("docs"))
        with pytest.raises(ruvector.FailedPrecondition, match="no active model"):
            db.learn.export_model("docs")
        with pytest.raises(ruvector.NotFound):
            list(db.learn.train("nowhere"))
        record_graded_feedback(db, "docs", classes, queries, query_classes)

        # A long run: the first progress message arrives, a second run is refused meanwhile,
        # and closing the stream cancels the run without storing anything.
        run = db.learn.train("docs", epochs=1000, seed=1)
        first = next(run)
        assert first.step > 0
        with pytest.raises(ruvector.FailedPrecondition, match="already training"):
            list(db.learn.train("docs", epochs=1))
        run.close()
        # The cancelled run ends soon; then a deadline ends the next one like a cancel.
        deadline = time.monotonic() + 30
        while True:
            try:
                list(db.learn.train("docs", epochs=1000, seed=2, timeout=1.5))
                raise AssertionError("a 1000-epoch run finished within its 1.5 s deadline")
            except ruvector.DeadlineExceeded:
                break
            except ruvector.FailedPrecondition as error:
                assert "already training" in str(error) and time.monotonic() < deadline
                time.sleep(0.2)
        assert db.learn.status("docs").latest_version == 0      # neither stopped run stored a model


def test_continuous_mode_retrains_after_every_n_records(tmp_path):
    with loaded_server(tmp_path, seed=6) as (db, _, classes, queries, query_classes):
        settings = dict(SMALL_MODEL, hidden_size=8, heads=2)
        assert db.learn.configure("docs", position_bias=-1, retrain_every=60, **settings).config["retrain_every"] == 60
        for q in range(59):
            shown = [h.id for h in db.search("docs", queries[q], k=SHOWN)]
            db.learn.feedback("docs", query=queries[q], shown=shown,
                              judgements={i: int(classes[i] == query_classes[q]) for i in shown})
        assert db.learn.status("docs").latest_version == 0
        shown = [h.id for h in db.search("docs", queries[59], k=SHOWN)]
        db.learn.feedback("docs", query=queries[59], shown=shown, judgements={shown[3]: 1})
        deadline = time.monotonic() + 300
        while db.learn.status("docs").latest_version == 0:
            assert time.monotonic() < deadline, "no run started after retrain_every records"
            time.sleep(0.5)
        status = db.learn.status("docs")
        assert status.latest_version == 1 and status.training_examples > 0
