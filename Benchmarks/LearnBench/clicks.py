"""Simulated feedback: a position-based click model on the shown top results.

The position-based model (PBM; Craswell et al. 2008, as used by Joachims et al. 2017 for unbiased
learning to rank) says a user examines the result at rank r (1-based) with probability
(1 / r) ** eta and, having examined it, clicks with a probability that depends only on its grade.
A feedback record is what RecordFeedback will take: the query vector, the shown ids in order and the
judgements id -> grade (a click is grade 1; shown and not clicked is grade 0).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from datasets import DataSet


@dataclass(frozen=True)
class ClickModel:
    """Examination falls with rank as (1/r)^eta; a click follows examination with
    `click_if_relevant` for a relevant result and `click_if_irrelevant` (the noise floor) otherwise.
    `pure_noise` makes every shown result equally likely to be clicked, at `noise_click`, whatever
    its relevance (the no-harm experiment): examined as usual, clicked at `noise_click` once
    examined, or regardless of rank too when `noise_ignores_rank`."""
    shown: int = 50
    eta: float = 1.0
    click_if_relevant: float = 1.0
    click_if_irrelevant: float = 0.1
    pure_noise: bool = False
    noise_click: float = 0.3
    noise_ignores_rank: bool = False

    def click_probabilities(self, grades: np.ndarray) -> np.ndarray:
        """Probability of a click on each shown result, given its grade, in shown order."""
        examine = (1.0 / np.arange(1, len(grades) + 1)) ** self.eta
        if self.pure_noise:
            return np.full(len(grades), self.noise_click) * (1.0 if self.noise_ignores_rank else examine)
        attractive = np.where(grades > 0, self.click_if_relevant, self.click_if_irrelevant)
        return examine * attractive


@dataclass(frozen=True)
class Feedback:
    """One RecordFeedback call: the query, what was shown (ids in rank order) and the judgements."""
    query: int
    vector: np.ndarray
    shown: np.ndarray
    judgements: dict[int, int] = field(default_factory=dict)

    def shown_grades(self) -> np.ndarray:
        """The judged grade of every shown id, in shown order (0 where not clicked)."""
        return np.array([self.judgements.get(int(i), 0) for i in self.shown], dtype=np.int64)


def simulate(data: DataSet, queries: np.ndarray, shown_ids: np.ndarray, model: ClickModel, seed: int,
             sessions: int = 1) -> list[Feedback]:
    """Clicks for `queries` (query numbers) on their shown lists (`shown_ids[q]`, rank order),
    `sessions` impressions per query (each its own record: a popular query is asked again).

    Impressions without a click are dropped, since they tell a listwise loss nothing (the server
    will take them and ignore them the same way)."""
    rng = np.random.default_rng(seed)
    records = []
    for _ in range(sessions):
        for query in queries:
            shown = shown_ids[query][:model.shown]
            clicked = rng.random(len(shown)) < model.click_probabilities(data.grades(int(query), shown))
            if clicked.any():
                judgements = {int(i): 1 for i in shown[clicked]}
                records.append(Feedback(int(query), data.queries[query], shown, judgements))
    return records
