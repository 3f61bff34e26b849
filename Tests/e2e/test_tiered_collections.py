"""Tiered compression through the real server and the Python client: vectors move between
tiers as searches return them, searches stay exact where the traffic is, and the tiers show in
GetCollection and the metrics."""
import time

import numpy as np
import pytest

import ruvector
from conftest import RunningServer
from test_metrics import _scrape, _with_metrics


def _clustered(n, dim, seed):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, size=(16, dim))
    return (centers[np.arange(n) % 16] + rng.normal(0, 1, size=(n, dim))).astype(np.float32)


def _recall(db, name, queries, **options):
    found = 0
    for q in queries:
        truth = {h.id for h in db.search(name, q, k=10, exact=True, with_payload=False)}
        found += len(truth & {h.id for h in db.search(name, q, k=10, with_payload=False, **options)})
    return found / (10 * len(queries))


def test_tiers_follow_search_traffic(tmp_path):
    server = _with_metrics(tmp_path / "data")
    vectors = _clustered(3000, 32, seed=3)
    try:
        with ruvector.Client(server.address, timeout=60) as db:
            info = db.create_collection("tiers", dimension=32, metric="l2", quantization="tiered",
                                        hot_threshold=20000, retier_interval=200)
            assert info.quantization == "tiered" and info.tiers is None   # trained at 1024 points
            for start in range(0, 3000, 500):
                db.upsert("tiers", ids=range(start, start + 500), vectors=vectors[start:start + 500])
            info = db.get_collection("tiers")
            t = info.tiers
            # Trained after the write that passed 1024 points: those start warm (f16), later ones hot (f32 copies).
            assert (t.hot, t.warm, t.cool, t.cold, t.archive) == (1500, 1500, 0, 0, 0), t
            assert t.passes == 0
            # Ids 0..29 searched for in turn; a background pass every 200 searches (counted from
            # the start of the previous pass), until three passes have run.
            deadline = time.monotonic() + 60
            while db.get_collection("tiers").tiers.passes < 3 and time.monotonic() < deadline:
                for i in range(30):
                    db.search("tiers", vectors[i], k=10, with_payload=False)
            t = db.get_collection("tiers").tiers
            assert t.passes >= 3, t
            assert t.hot + t.warm + t.cool + t.cold + t.archive == 3000
            # The searched-for vectors are hot; the rest stepped down to cool (those linked to a
            # hot one stay at least cool) or cold.
            assert 30 <= t.hot <= 600 and t.cool + t.cold > 2000 and t.cold > 100, t
            assert t.code_bytes < 3000 * 32 * 4 / 3, t
            # Where the traffic is, results are as good as exact; elsewhere rescoring recovers most.
            assert _recall(db, "tiers", vectors[:30]) >= 0.97
            assert _recall(db, "tiers", vectors[2000:2050] + 0.05, oversampling=8) >= 0.85
            # Scores are exact whatever the tier (rescored on the full vectors).
            for hit in db.search("tiers", vectors[2500], k=5, with_payload=False):
                assert hit.score == pytest.approx(-float(np.sum((vectors[hit.id] - vectors[2500]) ** 2)), rel=1e-4, abs=1e-4)
            samples = _scrape(server.metrics_url)
            assert samples['ruvector_collection_tier_vectors{collection="tiers",tier="hot"}'] == t.hot
            # A snapshot keeps the tiers and their rates (let a pass the recall searches started finish first).
            time.sleep(1)
            before = db.get_collection("tiers").tiers
            db.create_snapshot("tiers")
            hits_before = [[h.id for h in db.search("tiers", q, k=10, with_payload=False)] for q in vectors[:30]]
    finally:
        server.stop()
    server = RunningServer([], tmp_path / "data")
    try:
        with ruvector.Client(server.address, timeout=60) as db:
            info = db.get_collection("tiers")
            assert info.quantization == "tiered" and info.points_count == 3000
            assert info.tiers == before
            assert [[h.id for h in db.search("tiers", q, k=10, with_payload=False)] for q in vectors[:30]] == hits_before
    finally:
        server.stop()


def test_bad_tier_settings_are_refused(server):
    with ruvector.Client(server.address) as db:
        with pytest.raises(ruvector.InvalidArgument, match="hot threshold"):
            db.create_collection("t", dimension=8, quantization="tiered", hot_threshold=2_000_000)
        with pytest.raises(ruvector.InvalidArgument, match="PQ subspaces"):
            db.create_collection("t", dimension=8, quantization="tiered", pq_subvectors=9)
        with pytest.raises(ValueError, match="quantization must be one of"):
            db.create_collection("t", dimension=8, quantization="tiers")
