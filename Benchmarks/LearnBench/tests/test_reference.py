"""Self-checks of the PyTorch reference re-ranker (the server's LearnEngine can reuse the goldens).

    .venv-learnbench/bin/python -m pytest -q Benchmarks/LearnBench/tests
"""
from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import clicks  # noqa: E402
import datasets  # noqa: E402
import experiments  # noqa: E402
import reference  # noqa: E402


@pytest.fixture(scope="module")
def bench():
    torch.set_num_threads(1)
    data = datasets.hidden_class(dimension=16, points=600, queries=200, clusters=6, seed=2)
    return experiments.Bench(data, depth=40, seed=1)


def small_setup(epochs: int = 2) -> experiments.Setup:
    return experiments.Setup(depth=40, model=reference.ModelConfig(hidden=16, heads=4),
                             train=reference.TrainConfig(epochs=epochs, warmup_steps=4), seed=1)


def test_untrained_model_keeps_hnsw_order(bench):
    learner = bench.learner(small_setup())
    queries = bench.data.holdout_queries
    ranked = learner.rank_with(learner.model, bench.data.queries[queries], bench.candidates.ids[queries],
                               bench.candidates.distances[queries])
    assert np.array_equal(ranked, bench.candidates.ids[queries])


def test_same_seed_gives_bit_identical_weights(bench):
    weights = []
    for _ in range(2):
        learner = bench.learner(small_setup())
        for record in bench.feedback(clicks.ClickModel(), seed=4):
            learner.record(record)
        learner.train(small_setup().train)
        weights.append(torch.cat([p.detach().flatten() for p in learner.last_trained_state.values()
                                  if p.dtype.is_floating_point]))
    assert torch.equal(weights[0], weights[1])


def test_gradients_match_finite_differences():
    torch.manual_seed(0)
    model = reference.GNNReranker(6, reference.ModelConfig(hidden=8, heads=2, dropout=0.0)).double()
    with torch.no_grad():
        model.score_weight.normal_()  # away from the zero start, so every parameter has a gradient
    corpus = torch.randn(30, 6, dtype=torch.float64)
    neighbours = torch.randint(-1, 30, (30, 5))
    queries = torch.randn(2, 6, dtype=torch.float64)
    ids = torch.randint(0, 30, (2, 7))
    distances = ((corpus[ids] - queries[:, None]) ** 2).sum(-1)
    gains = torch.rand(2, 7, dtype=torch.float64)
    parameters = list(model.parameters())

    inputs = tuple(p.detach().clone().requires_grad_(True) for p in parameters)
    assert torch.autograd.gradcheck(lambda *v: _functional(model, v, queries, ids, distances, corpus, neighbours,
                                                           gains), inputs, eps=1e-6, atol=1e-7, rtol=1e-6)


def _functional(model, values, queries, ids, distances, corpus, neighbours, gains):
    names = [name for name, _ in model.named_parameters()]
    scores = torch.func.functional_call(model, dict(zip(names, values)), (queries, ids, distances, corpus, neighbours))
    return reference.listwise_loss(scores, gains, 0.5)


def test_schedule_golden_values():
    # Warm-up from peak/warmup at step 0, peak at the last warm-up step, cosine to 0 at the end.
    peak, warmup, total = 1e-3, 10, 110
    assert reference.learning_rate_at(0, total, peak, warmup) == pytest.approx(1e-4)
    assert reference.learning_rate_at(9, total, peak, warmup) == pytest.approx(1e-3)
    assert reference.learning_rate_at(10, total, peak, warmup) == pytest.approx(1e-3)
    assert reference.learning_rate_at(60, total, peak, warmup) == pytest.approx(5e-4)
    assert reference.learning_rate_at(110, total, peak, warmup) == pytest.approx(0.0, abs=1e-12)


def test_reservoir_is_uniform():
    stats = pytest.importorskip("scipy.stats")
    counts = np.zeros(100)
    for seed in range(400):
        reservoir = reference.Reservoir(10, seed)
        for item in range(100):
            reservoir.offer(item)
        counts[reservoir.items] += 1
    assert counts.sum() == 4000
    assert stats.chisquare(counts).pvalue > 0.001


def test_inverse_propensity_gains():
    gains = reference.feedback_gains(np.array([1, 0, 1, 0]), position_bias_eta=1.0)
    assert np.array_equal(gains, [1.0, 0.0, 3.0, 0.0])
    assert np.array_equal(reference.feedback_gains(np.array([2, 0]), 0.0), [3.0, 0.0])


def test_ewc_penalty_pulls_towards_the_anchor():
    model = reference.GNNReranker(4, reference.ModelConfig(hidden=4, heads=1))
    ewc = reference.EWC()
    assert float(ewc.penalty(model, 1.0).detach()) == 0.0
    ewc.consolidate(model, {n: torch.ones_like(p) for n, p in model.named_parameters()})
    assert float(ewc.penalty(model, 1.0).detach()) == 0.0
    with torch.no_grad():
        model.score_weight += 2.0
    assert float(ewc.penalty(model, 0.5).detach()) == pytest.approx(0.5 * 0.5 * 4 * 4.0)


def test_validation_split_keeps_a_query_on_one_side():
    import learner

    vector = np.zeros(2, dtype=np.float32)
    records = [clicks.Feedback(q, vector, np.arange(3), {0: 1}) for q in [5, 6, 5, 7, 6, 5, 8, 9, 9, 10]]
    train, validation = learner.split_by_query(records, 0.3, np.random.default_rng(1))
    assert len(train) + len(validation) == len(records)
    assert not {r.query for r in train} & {r.query for r in validation}
    # One record per query: the split is the plain permutation of the records.
    single = [clicks.Feedback(q, vector, np.arange(3), {0: 1}) for q in range(10)]
    train, validation = learner.split_by_query(single, 0.3, np.random.default_rng(1))
    order = np.random.default_rng(1).permutation(10)
    assert [r.query for r in validation] == list(order[:3]) and [r.query for r in train] == list(order[3:])
