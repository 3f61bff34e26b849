"""LearnService's data side through the Python client against the real server: feedback recorded
durably and counted, kept across a restart and deleted with its collection, bad feedback refused
with the right status before anything is written, model settings validated and echoed, status
saying no model exists, and training, export and import refused with the right status when they
cannot run. Searches asking for learned re-ranking keep the plain HNSW order (version 0) until a
model is active (training itself: test_learn_training.py)."""
import numpy as np
import pytest

import ruvector
from conftest import RunningServer

DIM = 8


def _fill(db: ruvector.Client, name: str = "docs", count: int = 60) -> np.ndarray:
    """A collection of `count` seeded points, ids 0..count-1; returns the vectors."""
    db.create_collection(name, dimension=DIM, metric="l2")
    vectors = np.random.default_rng(5).normal(size=(count, DIM)).astype(np.float32)
    db.upsert(name, ids=list(range(count)), vectors=vectors)
    return vectors


@pytest.fixture
def db(server):
    with ruvector.Client(server.address, timeout=30) as client:
        yield client


def test_feedback_is_counted_and_survives_a_restart(tmp_path):
    server = RunningServer([], tmp_path / "data")
    try:
        with ruvector.Client(server.address, timeout=30) as db:
            vectors = _fill(db)
            hits = db.search("docs", vectors[3], k=10)
            shown = [h.id for h in hits]
            assert db.learn.feedback("docs", query=vectors[3], shown=shown, clicks=[shown[2]]) == 1
            assert db.learn.feedback("docs", query_id=4, shown=shown, judgements={shown[0]: 0, shown[5]: 10}) == 2
            assert db.learn.feedback("docs", query=vectors[7], shown=shown) == 3     # shown, nothing relevant
            status = db.learn.status("docs")
            assert status.feedback_buffered == 3
        assert server.stop() == 0
        server = RunningServer([], tmp_path / "data")
        with ruvector.Client(server.address, timeout=30) as db:
            assert db.learn.status("docs").feedback_buffered == 3
            assert db.learn.feedback("docs", query_id=1, clicks=[2]) == 4
    finally:
        server.stop()


def test_deleting_a_collection_deletes_its_learning_state(db, server):
    _fill(db)
    db.learn.feedback("docs", query_id=1, clicks=[2])
    db.learn.configure("docs", hidden_size=64)
    assert (server.data_dir / "learn" / "docs").is_dir()
    db.delete_collection("docs")
    assert not (server.data_dir / "learn" / "docs").exists()
    _fill(db)
    status = db.learn.status("docs")
    assert status.feedback_buffered == 0 and status.config["hidden_size"] == 128


@pytest.mark.parametrize("kwargs, error, words", [
    ({"query": [0.0] * (DIM - 1), "clicks": [1]}, ruvector.InvalidArgument, "dimensions"),
    ({"query": [float("nan")] * DIM, "clicks": [1]}, ruvector.InvalidArgument, "NaN"),
    ({"query_id": 1, "judgements": {2: 11}}, ruvector.InvalidArgument, "grades are 0..10"),
    ({"query_id": 1, "clicks": [2, 999]}, ruvector.NotFound, "judged id 999"),
    ({"query_id": 1, "shown": [3, 4, 777, 888], "clicks": [3]}, ruvector.NotFound, "shown id 777"),
    ({"query_id": 555, "clicks": [2]}, ruvector.NotFound, "query_id 555"),
    ({"query_id": 1, "shown": [3, 3]}, ruvector.InvalidArgument, "shown twice"),
    ({"query_id": 1}, ruvector.InvalidArgument, "judgements or the shown"),
    ({"query_id": 1, "clicks": list(range(1001))}, ruvector.InvalidArgument, "at most 1000"),
])
def test_bad_feedback_is_refused_and_nothing_is_written(db, kwargs, error, words):
    _fill(db)
    with pytest.raises(error) as info:
        db.learn.feedback("docs", **kwargs)
    assert words in str(info.value), str(info.value)
    assert db.learn.status("docs").feedback_buffered == 0


def test_feedback_needs_an_existing_collection(db):
    with pytest.raises(ruvector.NotFound, match="does not exist"):
        db.learn.feedback("nowhere", query=[0.0] * DIM, clicks=[1])
    with pytest.raises(ruvector.InvalidArgument):
        db.learn.status("bad name!")


def test_settings_are_validated_echoed_and_kept(db):
    _fill(db)
    status = db.learn.status("docs")
    assert status.version == 0 and status.latest_version == 0 and not status.activated
    assert "no model trained yet" in status.note
    assert status.model_ndcg_at_10 == 0 and status.baseline_mrr == 0
    assert status.config["hidden_size"] == 128 and status.config["heads"] == 4 and status.config["batch_size"] == 32
    assert status.config["loss"] == "listwise" and status.config["schedule"] == "warmup_cosine"
    assert abs(status.config["ewc_lambda"] - 0.4) < 1e-6
    configured = db.learn.configure("docs", hidden_size=256, heads=8, loss="infonce", retrain_every=50)
    assert configured.config["hidden_size"] == 256 and configured.config["loss"] == "infonce"
    assert configured.config["retrain_every"] == 50 and configured.config["replay_size"] == 10_000
    assert db.learn.status("docs").config["heads"] == 8
    with pytest.raises(ruvector.InvalidArgument, match="heads"):
        db.learn.configure("docs", hidden_size=100, heads=3)
    with pytest.raises(ruvector.InvalidArgument, match="dropout"):
        db.learn.configure("docs", dropout=1.5)
    assert db.learn.status("docs").config["hidden_size"] == 256


def test_training_export_and_import_refuse_what_cannot_run(db):
    _fill(db)
    db.learn.feedback("docs", query_id=1, clicks=[2])
    with pytest.raises(ruvector.InvalidArgument, match="epochs"):
        list(db.learn.train("docs", epochs=5000))
    with pytest.raises(ruvector.FailedPrecondition, match="at least"):
        list(db.learn.train("docs", epochs=3))
    with pytest.raises(ruvector.FailedPrecondition, match="no active model"):
        db.learn.export_model("docs")
    with pytest.raises(ruvector.InvalidArgument, match="not a model"):
        db.learn.import_model("docs", b"\x00" * 5000, chunk_bytes=1024)
    with pytest.raises(ruvector.NotFound):
        db.learn.import_model("nowhere", b"abc")
    status = db.learn.status("docs")
    assert status.version == 0 and status.latest_version == 0 and status.feedback_buffered == 1


def test_learned_rerank_without_a_model_is_the_plain_order(db):
    vectors = _fill(db)
    db.learn.feedback("docs", query_id=1, clicks=[2])
    plain = db.search("docs", vectors[9], k=10)
    for depth in (0, 20, 1000):
        ranked = db.search("docs", vectors[9], k=10, learned_rerank=depth)
        assert [h.id for h in ranked] == [h.id for h in plain]
        assert ranked.model_version == 0
    with pytest.raises(ruvector.InvalidArgument, match="learned_rerank.depth"):
        db.search("docs", vectors[9], k=10, learned_rerank=1001)
    assert plain.model_version == 0


async def _async_round(address: str) -> tuple[int, int]:
    async with ruvector.AsyncClient(address, timeout=30) as db:
        count = await db.learn.feedback("docs", query_id=1, shown=[1, 2, 3], clicks=[3])
        return count, (await db.learn.status("docs")).feedback_buffered


def test_the_async_client_records_feedback(db, server):
    import asyncio

    _fill(db)
    assert asyncio.run(_async_round(server.address)) == (1, 1)


def test_hybrid_search_accepts_learned_rerank_and_keeps_the_order(db):
    vectors = np.random.default_rng(9).normal(size=(40, DIM)).astype(np.float32)
    db.graph.execute("UNWIND $rows AS row CREATE (:Doc {n: row.n, v: row.v})",
                     {"rows": [{"n": i, "v": v.tolist()} for i, v in enumerate(vectors)]})
    db.graph.create_vector_index("docs_v", "Doc", "v", dimension=DIM, metric="l2")
    plain = db.graph.hybrid_search("docs_v", vectors[4], k=8)
    ranked = db.graph.hybrid_search("docs_v", vectors[4], k=8, learned_rerank=0)
    assert [h.node.properties["n"] for h in ranked] == [h.node.properties["n"] for h in plain]
    with pytest.raises(ruvector.InvalidArgument, match="learned_rerank.depth"):
        db.graph.hybrid_search("docs_v", vectors[4], k=8, learned_rerank=5000)


def test_the_progress_bar_draws_each_message_and_ends_the_line():
    import io

    from ruvector.learn import ProgressBar, TrainProgress

    out = io.StringIO()
    bar = ProgressBar(4, stream=out, width=8)
    bar.update(TrainProgress(1, 10, 0.5, 1e-3, 0.0, 0.0, 0.0, False))
    assert out.getvalue().startswith("\repoch 1/4 [##......] step 10 loss 0.5000 lr 1.00e-03") and "\n" not in out.getvalue()
    bar.update(TrainProgress(2, 20, 0.4, 9e-4, 0.61, 0.5, 0.7, False))
    bar.update(TrainProgress(3, 30, 0.3, 8e-4, 0.0, 0.0, 0.0, False))
    assert "epoch 3/4 [######..]" in out.getvalue() and out.getvalue().endswith(" ") and "nDCG@10 0.6100" in out.getvalue().split("\r")[-1]
    bar.update(TrainProgress(0, 0, 0.0, 0.0, 0.62, 0.51, 0.71, True))
    assert out.getvalue().endswith("\n") and "done: held-out nDCG@10 0.6200" in out.getvalue()
