"""Ranking metrics per query and the paired bootstrap interval of a difference.

Definitions (the server's GetModelStatus should use the same ones):
- nDCG@k: DCG = sum over ranks r = 1..k of (2^grade - 1) / log2(r + 1), divided by the DCG of the
  ideal ranking of the whole corpus (not only of the candidates), so a perfect re-ranking of a
  candidate set that misses relevant points scores below 1 (that gap is the ceiling).
- recall@k: relevant results in the top k over min(k, relevant points in the corpus) (capped
  recall, as in BEIR), so it reaches 1 when the top k is all relevant.
- MRR: 1 / rank of the first relevant result in the ranked list, 0 when there is none.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def dcg(grades: np.ndarray, k: int) -> float:
    """Discounted cumulative gain of the first k grades (in rank order)."""
    return dcg_of_gains(2.0 ** np.asarray(grades[:k], dtype=np.float64) - 1.0, k)


def dcg_of_gains(gains: np.ndarray, k: int) -> float:
    """sum over ranks r = 1..k of gain_r / log2(r + 1)."""
    top = np.asarray(gains[:k], dtype=np.float64)
    return float((top / np.log2(np.arange(2, len(top) + 2))).sum())


def ndcg(grades: np.ndarray, ideal_grades: np.ndarray, k: int = 10) -> float:
    """nDCG@k of a ranking's grades against the ideal grades (any order); 0 when nothing is relevant."""
    ideal = dcg(np.sort(np.asarray(ideal_grades))[::-1], k)
    return dcg(grades, k) / ideal if ideal > 0 else 0.0


def ndcg_of_gains(gains: np.ndarray, all_gains: np.ndarray, k: int = 10) -> float:
    """nDCG@k from gains directly (for inverse-propensity-weighted clicks), against the best
    order of `all_gains`."""
    ideal = dcg_of_gains(np.sort(np.asarray(all_gains, dtype=np.float64))[::-1], k)
    return dcg_of_gains(gains, k) / ideal if ideal > 0 else 0.0


def recall(grades: np.ndarray, relevant_total: int, k: int = 10) -> float:
    """Capped recall@k: relevant results in the top k over min(k, relevant_total)."""
    if relevant_total == 0:
        return 0.0
    return float(np.count_nonzero(np.asarray(grades[:k]) > 0)) / min(k, relevant_total)


def reciprocal_rank(grades: np.ndarray) -> float:
    """1 / rank of the first relevant result; 0 when none is relevant."""
    hits = np.flatnonzero(np.asarray(grades) > 0)
    return 1.0 / (hits[0] + 1) if len(hits) else 0.0


@dataclass(frozen=True)
class Scores:
    """Per-query metrics of one ranking method over the same queries, in the same order."""
    ndcg: np.ndarray
    recall: np.ndarray
    mrr: np.ndarray

    def means(self) -> dict[str, float]:
        """Mean of each metric."""
        return {"ndcg@10": float(self.ndcg.mean()), "recall@10": float(self.recall.mean()),
                "mrr": float(self.mrr.mean())}


def score_rankings(rankings: list[np.ndarray], grades_of, ideal_of, relevant_of, k: int = 10) -> Scores:
    """Metrics of ranked id lists: `grades_of(i, ids)`, `ideal_of(i)` and `relevant_of(i)` give the
    i-th query's grades, ideal grades and relevant count."""
    ndcgs, recalls, mrrs = [], [], []
    for i, ids in enumerate(rankings):
        grades = grades_of(i, ids)
        ndcgs.append(ndcg(grades, ideal_of(i), k))
        recalls.append(recall(grades, relevant_of(i), k))
        mrrs.append(reciprocal_rank(grades))
    return Scores(np.array(ndcgs), np.array(recalls), np.array(mrrs))


@dataclass(frozen=True)
class Interval:
    """A mean difference and its bootstrap confidence interval."""
    mean: float
    low: float
    high: float

    def excludes_zero(self) -> bool:
        """True when the whole interval is on one side of 0."""
        return self.low > 0 or self.high < 0

    def __str__(self) -> str:
        return f"{self.mean:+.4f} [{self.low:+.4f}, {self.high:+.4f}]"


def paired_bootstrap(treatment: np.ndarray, control: np.ndarray, seed: int, resamples: int = 2000,
                     confidence: float = 0.95) -> Interval:
    """Percentile bootstrap interval of mean(treatment - control), resampling queries with
    replacement (the pairs stay together, so per-query difficulty cancels)."""
    differences = np.asarray(treatment, dtype=np.float64) - np.asarray(control, dtype=np.float64)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(differences), (resamples, len(differences)))
    means = differences[picks].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    return Interval(float(differences.mean()), float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail)))
