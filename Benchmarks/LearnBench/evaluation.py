"""Hold-out scoring shared by the reference mode and the server mode (no PyTorch here)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from datasets import DataSet
from metrics import Interval, Scores, paired_bootstrap, score_rankings


@dataclass(frozen=True)
class HoldoutScores:
    """Hold-out metrics of plain HNSW order, the served ranking and the ceiling, plus the
    interval of the served ranking's nDCG@10 lift over HNSW."""
    baseline: Scores
    model: Scores
    ceiling: Scores
    lift: Interval


def holdout_scores(data: DataSet, hnsw_rows: np.ndarray, ranked_rows: list[np.ndarray], seed: int) -> HoldoutScores:
    """Scores of `ranked_rows` (one ranked id row per hold-out query, in `data.holdout_queries`
    order) against the HNSW candidate rows `hnsw_rows` and the ceiling: the candidates sorted by
    true grade (HNSW order among equals), the best any re-ranking of them can do."""
    queries = data.holdout_queries
    ceiling_rows = [ids[np.argsort(-data.grades(int(q), ids), kind="stable")] for q, ids in zip(queries, hnsw_rows)]
    baseline = _scores(data, list(hnsw_rows))
    model = _scores(data, list(ranked_rows))
    return HoldoutScores(baseline, model, _scores(data, ceiling_rows), paired_bootstrap(model.ndcg, baseline.ndcg, seed))


def _scores(data: DataSet, rows: list[np.ndarray]) -> Scores:
    queries = data.holdout_queries
    return score_rankings([np.asarray(row)[:10] for row in rows],
                          lambda i, ids: data.grades(int(queries[i]), ids),
                          lambda i: data.ideal_grades(int(queries[i]), 10),
                          lambda i: data.relevant_count(int(queries[i])))
