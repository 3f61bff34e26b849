"""Self-checks of the harness (not part of CI: the benchmark venv holds PyTorch).

    .venv-learnbench/bin/python -m pytest -q Benchmarks/LearnBench/tests
"""
from __future__ import annotations

import math
import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import clicks  # noqa: E402
import datasets  # noqa: E402
import metrics  # noqa: E402


def test_ndcg_by_hand():
    # Grades 0,1,0 with 1 relevant in the corpus: DCG = 1/log2(3), ideal = 1.
    assert metrics.ndcg(np.array([0, 1, 0]), np.array([1]), 10) == pytest.approx(1 / math.log2(3))
    # Graded: gains 2^g - 1 = 3, 1 at ranks 2 and 1 against the ideal 3 then 1.
    got = metrics.ndcg(np.array([1, 2]), np.array([2, 1]), 10)
    assert got == pytest.approx((1 + 3 / math.log2(3)) / (3 + 1 / math.log2(3)))
    assert metrics.ndcg(np.array([0, 0]), np.array([0]), 10) == 0.0


def test_recall_and_mrr():
    assert metrics.recall(np.array([1, 0, 1] + [0] * 7), relevant_total=4, k=10) == 0.5
    assert metrics.recall(np.array([1] * 10), relevant_total=500, k=10) == 1.0  # capped
    assert metrics.reciprocal_rank(np.array([0, 0, 1, 1])) == pytest.approx(1 / 3)
    assert metrics.reciprocal_rank(np.array([0, 0])) == 0.0


def test_bootstrap_is_seeded_and_brackets_the_mean():
    rng = np.random.default_rng(0)
    control = rng.random(300)
    treatment = control + 0.05 + rng.normal(0, 0.1, 300)
    first = metrics.paired_bootstrap(treatment, control, seed=3)
    assert first == metrics.paired_bootstrap(treatment, control, seed=3)
    assert first.low < first.mean < first.high and first.excludes_zero()
    same = metrics.paired_bootstrap(control, control, seed=3)
    assert (same.low, same.high) == (0.0, 0.0) and not same.excludes_zero()


def test_hidden_class_cuts_across_clusters_and_is_deterministic():
    data = datasets.hidden_class(dimension=16, points=800, queries=100, clusters=8, seed=5)
    again = datasets.hidden_class(dimension=16, points=800, queries=100, clusters=8, seed=5)
    assert np.array_equal(data.corpus, again.corpus) and np.array_equal(data.point_labels, again.point_labels)
    assert set(data.train_queries).isdisjoint(data.holdout_queries)
    assert len(data.train_queries) + len(data.holdout_queries) == 100
    # Every class appears with a similar share: the class is not the cluster.
    shares = np.bincount(data.point_labels, minlength=8) / len(data.point_labels)
    assert shares.min() > 0.05


def test_forgetting_tasks_share_the_corpus():
    task_a, task_b = datasets.forgetting_tasks(dimension=16, points=400, queries=60, clusters=8)
    assert np.array_equal(task_a.corpus, task_b.corpus)
    assert not np.array_equal(task_a.point_labels, task_b.point_labels)


def test_click_model_is_seeded_and_position_biased():
    data = datasets.hidden_class(dimension=16, points=800, queries=400, clusters=8, seed=5)
    shown = np.tile(np.arange(50), (400, 1))
    model = clicks.ClickModel()
    first = clicks.simulate(data, data.train_queries, shown, model, seed=9)
    assert [r.judgements for r in first] == [r.judgements for r in clicks.simulate(data, data.train_queries, shown,
                                                                                   model, seed=9)]
    ranks = np.concatenate([np.flatnonzero(r.shown_grades()) for r in first])
    assert np.mean(ranks < 10) > 0.6  # examination falls with rank
    noise = clicks.ClickModel(pure_noise=True, noise_ignores_rank=True).click_probabilities(np.ones(50))
    assert np.all(noise == noise[0])


def test_layer0_neighbours_are_real_links():
    pytest.importorskip("hnswlib")
    import hnsw

    data = datasets.hidden_class(dimension=16, points=600, queries=10, clusters=6, seed=2)
    baseline = hnsw.HNSWBaseline(data.corpus, seed=1)
    links = baseline.layer0_neighbours()
    assert links.shape == (600, 2 * hnsw.SERVER_M)
    held = links[links >= 0]
    assert held.size > 600 * 8 and held.max() < 600
    assert all(i not in row for i, row in enumerate(links))
    # Links join near points: the mean linked distance is well below the mean distance.
    linked = np.mean([np.linalg.norm(data.corpus[row[row >= 0]] - data.corpus[i], axis=1).mean()
                      for i, row in enumerate(links)])
    overall = np.linalg.norm(data.corpus[:100, None] - data.corpus[None, :100], axis=-1).mean()
    assert linked < 0.9 * overall
