"""RouteService through the Python client against the real server: a router is created and routes
with its fallback while untrained, learns a hidden rule from recorded outcomes (training progress
streamed), then routes held-out requests well above chance with calibrated coverage near 1 - alpha;
circuit breakers open after N failures (the decision says the candidate was skipped) and half-open
after the cool-down; routers, models, semantic routes and open breakers survive a restart, and the
outcome log stays within its window; an exported router imported into another server scores
requests the same (with its breakers closed)."""
import threading
import time

import numpy as np
import pytest

import ruvector
from conftest import RunningServer
from ruvector.route import Candidate

STEPS, WIDTH = 8, 4
CANDIDATES = [Candidate("small", cost=1.0, latency_millis=50, quality=0.6),
              Candidate("large", cost=10.0, latency_millis=400, quality=0.9)]


def _task(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Requests of 8 steps x 4 features; the hidden rule: the small candidate succeeds when the mean
    of feature 0 over the steps is positive (label 0), otherwise only the large one does (label 1)."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(count, STEPS, WIDTH)).astype(np.float32)
    labels = (features[:, :, 0].mean(axis=1) <= 0).astype(int)
    return features, labels


def _record_task(db: ruvector.Client, router: str, count: int, seed: int) -> None:
    """Routes every request, then records both candidates' outcomes under its request id."""
    features, labels = _task(count, seed)
    for i in range(count):
        decision = db.route.route(router, features[i], request_id=f"req-{seed}-{i}")
        assert decision.request_id == f"req-{seed}-{i}"
        db.route.record_outcome(router, "small", success=bool(labels[i] == 0), request_id=decision.request_id)
        db.route.record_outcome(router, "large", success=True, request_id=decision.request_id, quality=0.9)


def _accuracy(db: ruvector.Client, router: str, seed: int, count: int = 200) -> float:
    features, labels = _task(count, seed)
    names = [c.name for c in CANDIDATES]
    hits = 0
    for i in range(count):
        decision = db.route.route(router, features[i])
        top = max(decision.scores, key=decision.scores.get)
        hits += names.index(top) == labels[i]
    return hits / count


def test_router_learns_a_hidden_rule_and_survives_restart_and_export(tmp_path):
    server = RunningServer([], tmp_path / "data")
    other = RunningServer([], tmp_path / "other")
    try:
        with ruvector.Client(server.address, timeout=60) as db:
            info = db.route.create_router("llm", CANDIDATES, feature_size=WIDTH, time_steps=STEPS, hidden_size=16)
            assert info.confidence_threshold == pytest.approx(0.7) and info.time_steps == STEPS and info.fallback == "round_robin"
            assert info.conformal_alpha == pytest.approx(0.1) and [c.name for c in info.candidates] == ["small", "large"]
            assert info.model_version == 0
            untrained = db.route.route("llm", _task(1, 1)[0][0])
            assert untrained.reason == "untrained" and untrained.chosen in ("small", "large")
            assert untrained.model_version == 0 and untrained.prediction_set == []

            _record_task(db, "llm", 600, seed=2)
            messages = list(db.route.train("llm", epochs=12, seed=3))
            assert [m.epoch for m in messages[:-1]] == list(range(1, 13))
            assert all(np.isfinite(m.loss) for m in messages[:-1])
            assert messages[-1].done and messages[-1].model_version == 1
            status = db.route.status("llm")
            assert status.model_version == 1 and status.outcomes_recorded == 1200
            assert status.accuracy >= 0.8, status
            # The evaluation split is about 60 requests: coverage is an estimate of 0.9 with a
            # standard error near 0.04.
            assert 40 <= status.evaluation_count <= 80, status
            assert 0.75 <= status.calibrated_coverage <= 1.0, status
            print(f"route e2e: held-out accuracy {status.accuracy:.3f} and coverage {status.calibrated_coverage:.3f} "
                  f"on {status.evaluation_count} requests, calibrated on {status.calibration_count}, model {status.model_bytes} B")
            assert status.calibration_count > 20 and status.model_bytes > 0
            accuracy = _accuracy(db, "llm", seed=99)
            assert accuracy >= 0.85, accuracy

            db.route.register_route("llm", "billing", [[1, 0, 0.1], [0.9, 0.1, 0], [1, 0.2, 0]], threshold=0.9)
            db.route.register_route("llm", "weather", [[0, 1, 0], [0.1, 1, 0], [0, 0.9, 0.1]], threshold=0.9)
            assert [m.name for m in db.route.match_route("llm", [1, 0.05, 0])] == ["billing"]
            assert db.route.match_route("llm", [0, 0, 1]) == []
            probe = _task(20, 7)[0]
            before = [db.route.route("llm", p) for p in probe]
            exported = db.route.export_router("llm")
            # Recording failed the small candidate many times in a row: its breaker opened.
            not_closed = {b.candidate for b in db.route.status("llm").breakers if b.state != "closed"}

        assert server.stop() == 0
        server = RunningServer([], tmp_path / "data")
        with ruvector.Client(server.address, timeout=60) as db:
            status = db.route.status("llm")
            assert status.model_version == 1 and status.outcomes_recorded == 1200
            # Breakers survive the restart (docs/route.md).
            assert {b.candidate for b in status.breakers if b.state != "closed"} == not_closed
            assert [r.name for r in db.route.list_routes("llm")] == ["billing", "weather"]
            after = [db.route.route("llm", p) for p in probe]
            assert [d.scores for d in after] == [d.scores for d in before]
            assert [d.prediction_set for d in after] == [d.prediction_set for d in before]

        with ruvector.Client(other.address, timeout=60) as db:
            info = db.route.import_router("copy", exported)
            assert info.model_version == 1 and info.route_count == 2
            imported = [db.route.route("copy", p) for p in probe]
            assert [d.scores for d in imported] == [d.scores for d in before]
            assert [d.prediction_set for d in imported] == [d.prediction_set for d in after]
            # An export carries no breakers: the imported router starts with every one closed.
            assert all(b.state == "closed" for b in db.route.status("copy").breakers)
            assert all(d.skipped_open == [] and d.reason in ("model", "uncertain", "low_confidence") for d in imported)
            assert [m.name for m in db.route.match_route("copy", [1, 0.05, 0])] == ["billing"]
    finally:
        server.stop()
        other.stop()


def test_breaker_opens_skips_and_half_opens_after_the_cool_down(server):
    with ruvector.Client(server.address, timeout=30) as db:
        db.route.create_router("svc", CANDIDATES, feature_size=2, fallback="cheapest", breaker_failures=3,
                               breaker_cool_down_millis=2000)
        assert db.route.route("svc", [0.1, 0.2]).chosen == "small"
        for _ in range(3):
            db.route.record_outcome("svc", "small", success=False, features=[0.1, 0.2])
        breakers = {b.candidate: b for b in db.route.status("svc").breakers}
        assert breakers["small"].state == "open" and breakers["small"].openings == 1
        assert breakers["large"].state == "closed"
        skipped = db.route.route("svc", [0.1, 0.2])
        assert skipped.chosen == "large" and skipped.skipped_open == ["small"]
        time.sleep(2.1)
        trial = db.route.route("svc", [0.1, 0.2])
        assert trial.chosen == "small" and trial.skipped_open == []
        assert {b.candidate: b.state for b in db.route.status("svc").breakers}["small"] == "half_open"
        # The one trial is out: the next request goes elsewhere until it reports.
        assert db.route.route("svc", [0.1, 0.2]).chosen == "large"
        db.route.record_outcome("svc", "small", success=True, features=[0.1, 0.2])
        assert {b.candidate: b.state for b in db.route.status("svc").breakers}["small"] == "closed"
        assert db.route.route("svc", [0.1, 0.2]).chosen == "small"


def _bounded_status(db: ruvector.Client, router: str, most_records: int) -> ruvector.route.RouterStatus:
    """The router's status once background compaction brought its log within `most_records` (10 s at most)."""
    deadline = time.monotonic() + 10
    status = db.route.status(router)
    while status.outcome_log_records > most_records and time.monotonic() < deadline:
        time.sleep(0.05)
        status = db.route.status(router)
    return status


def test_open_breakers_and_the_outcome_window_survive_a_restart(tmp_path):
    """An open breaker is still open after a restart until its cool-down (on the wall clock) ends; a
    router fed six times its outcome window keeps about the window on disk, before and after the
    restart, and trains on exactly the window's requests."""
    server = RunningServer([], tmp_path / "data")
    try:
        with ruvector.Client(server.address, timeout=60) as db:
            info = db.route.create_router("svc", CANDIDATES, feature_size=2, fallback="cheapest", breaker_failures=2,
                                          breaker_cool_down_millis=6000, outcome_window=100)
            assert info.outcome_window == 100
            latencies = []
            for n in range(600):
                start = time.perf_counter()
                db.route.record_outcome("svc", "large", success=True, features=[n % 7, 1], request_id=f"q{n}")
                latencies.append(time.perf_counter() - start)
            # Compaction ran about 100 times in the background meanwhile (every 6 outcomes past 100).
            print(f"RecordOutcome with a window of 100: p50 {np.median(latencies) * 1e3:.2f} ms, "
                  f"longest {max(latencies) * 1e3:.2f} ms over 600 (each synced to disk)")
            for _ in range(2):
                db.route.record_outcome("svc", "small", success=False, features=[0.1, 0.2])
            # The window (100), a compaction step (6) and a 4 KiB segment of about 60 outcomes.
            before = _bounded_status(db, "svc", 200)
            assert before.outcomes_recorded == 602 and 100 <= before.outcome_log_records <= 200, before
            assert before.outcome_log_bytes < 20_000, before
            opened = {b.candidate: b for b in before.breakers}["small"]
            assert opened.state == "open"

        assert server.stop() == 0
        server = RunningServer([], tmp_path / "data")
        with ruvector.Client(server.address, timeout=60) as db:
            status = _bounded_status(db, "svc", 200)
            assert status.outcomes_recorded == 602 and 100 <= status.outcome_log_records <= 200, status
            breaker = {b.candidate: b for b in status.breakers}["small"]
            assert breaker.state == "open" and breaker.retry_at_unix_micros == opened.retry_at_unix_micros
            remaining = opened.retry_at_unix_micros / 1e6 - time.time()
            if remaining > 0.5:
                skipped = db.route.route("svc", [0.1, 0.2])
                assert skipped.chosen == "large" and skipped.skipped_open == ["small"]
            time.sleep(max(0.0, opened.retry_at_unix_micros / 1e6 - time.time()) + 0.1)
            trial = db.route.route("svc", [0.1, 0.2])
            assert trial.chosen == "small" and trial.skipped_open == []
            # The window is outcomes 503..602: requests q502..q599 (labelled: large succeeded) and
            # the two failures (no label).
            messages = list(db.route.train("svc", epochs=1, seed=1))
            assert messages[-1].done
            trained = db.route.status("svc")
            assert trained.training_examples + trained.calibration_count + trained.evaluation_count == 98, trained
    finally:
        server.stop()


def test_kill_9_while_outcomes_compact_loses_no_acknowledged_outcome_of_the_window(tmp_path):
    """A router with a window of 100 takes outcomes as fast as one client sends them while the
    server is killed (SIGKILL) at seeded random moments, three times: after each restart every
    acknowledged outcome is counted, the log holds the whole window and stays bounded, and the
    last run trains on exactly the window's 100 requests."""
    rng = np.random.default_rng(21)
    server = RunningServer([], tmp_path / "data")
    acknowledged = 0
    try:
        with ruvector.Client(server.address, timeout=30) as db:
            db.route.create_router("svc", CANDIDATES, feature_size=2, outcome_window=100)
        for _ in range(3):
            killer = threading.Timer(float(rng.uniform(0.3, 1.2)), server.process.kill)
            killer.start()
            with ruvector.Client(server.address, timeout=5) as db:
                try:
                    while True:
                        n = acknowledged
                        acknowledged = max(acknowledged, db.route.record_outcome(
                            "svc", "large", success=True, features=[n % 7, 1], request_id=f"q{n}"))
                except ruvector.RuVectorError:
                    pass
            killer.join()
            server.process.wait(timeout=10)
            server = RunningServer([], tmp_path / "data")
            with ruvector.Client(server.address, timeout=30) as db:
                status = _bounded_status(db, "svc", 200)
                assert status.outcomes_recorded >= acknowledged, (status, acknowledged)
                assert min(100, status.outcomes_recorded) <= status.outcome_log_records <= 200, status
                acknowledged = status.outcomes_recorded
        assert acknowledged > 100, acknowledged
        print(f"kill -9 x3 while compacting: {acknowledged} outcomes recorded, log {status.outcome_log_records} outcomes "
              f"/ {status.outcome_log_bytes} B")
        with ruvector.Client(server.address, timeout=60) as db:
            assert list(db.route.train("svc", epochs=1, seed=1))[-1].done
            trained = db.route.status("svc")
            assert trained.training_examples + trained.calibration_count + trained.evaluation_count == 100, trained
    finally:
        server.stop()


def test_routers_are_listed_and_deleted(server):
    with ruvector.Client(server.address, timeout=30) as db:
        db.route.create_router("a", ["x", "y"], feature_size=3)
        db.route.create_router("b", ["x", "y"], feature_size=3)
        assert [r.name for r in db.route.list_routers()] == ["a", "b"]
        db.route.delete_router("a")
        assert [r.name for r in db.route.list_routers()] == ["b"]
        assert not (server.data_dir / "route" / "a").exists()
        with pytest.raises(ruvector.errors.NotFound):
            db.route.status("a")
        db.route.create_router("a", ["x", "y"], feature_size=3)
        assert db.route.get_router("a").outcomes_recorded == 0


def _utterances(rng: np.random.Generator, centers: np.ndarray, per: int, noise: float) -> list[tuple[np.ndarray, int]]:
    """`per` embeddings around each center (Gaussian noise of `noise` per dimension), with its index."""
    return [(centers[c] + rng.normal(scale=noise, size=centers.shape[1]), c) for c in range(len(centers)) for _ in range(per)]


def test_semantic_routes_match_held_out_queries_and_refuse_others_at_the_fitted_threshold(server):
    """Five routes of 20 example embeddings (clusters in 32 dimensions); the threshold is fitted on
    labelled queries (in-route and out-of-route); held-out queries of the routes match their own route,
    held-out queries of five other clusters match none (rates printed)."""
    rng = np.random.default_rng(11)
    centers = rng.normal(size=(10, 32))
    names = [f"route{c}" for c in range(5)]
    with ruvector.Client(server.address, timeout=30) as db:
        db.route.create_router("sem", ["a", "b"], feature_size=1)
        for c, name in enumerate(names):
            examples = [e for e, k in _utterances(rng, centers[:5], 20, 0.9) if k == c]
            db.route.register_route("sem", name, examples)
        labelled = [(e, names[k]) for e, k in _utterances(rng, centers[:5], 10, 0.9)]
        labelled += [(e, None) for e, _ in _utterances(rng, centers[5:], 10, 0.9)]
        threshold, fit_accuracy, fit_false = db.route.fit_route_threshold("sem", labelled)
        assert 0 < threshold <= 1 and fit_accuracy >= 0.95
        assert all(r.threshold == pytest.approx(threshold) for r in db.route.list_routes("sem"))
        held_in = _utterances(rng, centers[:5], 40, 0.9)
        top1 = np.mean([[m.name for m in db.route.match_route("sem", e)] == [names[k]] for e, k in held_in])
        held_out = _utterances(rng, centers[5:], 40, 0.9)
        false_match = np.mean([db.route.match_route("sem", e) != [] for e, _ in held_out])
        print(f"semantic routes: threshold {threshold:.3f}, held-out top-1 {top1:.3f} on {len(held_in)}, "
              f"out-of-route matched {false_match:.3f} on {len(held_out)} (fit: {fit_accuracy:.3f}, {fit_false:.3f})")
        assert top1 >= 0.95 and false_match <= 0.05


async def _async_round(address: str) -> tuple[str, int, str]:
    async with ruvector.AsyncClient(address, timeout=30) as db:
        await db.route.create_router("aio", ["small", "large"], feature_size=2, fallback="cheapest")
        decision = await db.route.route("aio", [0.5, 1.0])
        held = await db.route.record_outcome("aio", decision.chosen, success=True, request_id=decision.request_id, quality=0.8)
        status = await db.route.status("aio")
        return decision.chosen, held, status.breakers[0].state


def test_the_async_client_routes_and_records(server):
    import asyncio

    assert asyncio.run(_async_round(server.address)) == ("small", 1, "closed")
