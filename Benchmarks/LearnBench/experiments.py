"""The measurements: lift on held-out queries, no harm under pure-noise feedback, forgetting with
and without EWC, each with the reference re-ranker (PyTorch) against plain HNSW order."""
from __future__ import annotations

import copy
from dataclasses import dataclass, replace

import numpy as np

from clicks import ClickModel, simulate
from datasets import DataSet
from evaluation import HoldoutScores, holdout_scores
from hnsw import Candidates, HNSWBaseline
from learner import Learner, TrainResult
from reference import ModelConfig, Reservoir, TrainConfig


@dataclass(frozen=True)
class Setup:
    """Everything an experiment needs besides its data: depth, clicks, model and training."""
    depth: int = 100
    clicks: ClickModel = ClickModel()
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()
    seed: int = 1
    #: Seed of the model's initial weights (None: `seed`), to tell initialisation luck from the rest.
    init_seed: int | None = None


@dataclass(frozen=True)
class LiftResult:
    """One data set's run: feedback volume, the training verdict and the hold-out scores.
    `ungated` is what the trained model would have scored had it been activated regardless."""
    data: DataSet
    feedback_records: int
    training: TrainResult
    holdout: HoldoutScores
    ungated: HoldoutScores


class Bench:
    """A data set indexed once by hnswlib: candidates for every query, and the layer-0 graph."""

    def __init__(self, data: DataSet, depth: int, seed: int):
        self.data = data
        self.index = HNSWBaseline(data.corpus, seed=seed)
        self.candidates: Candidates = self.index.search(data.queries, depth)
        self.neighbours = self.index.layer0_neighbours()

    def learner(self, setup: Setup) -> Learner:
        """A fresh learner (version 0) over this corpus and graph."""
        seed = setup.seed if setup.init_seed is None else setup.init_seed
        return Learner(self.data.corpus, self.neighbours, setup.model, setup.train.replay_buffer_size, seed)

    def feedback(self, clicks: ClickModel, seed: int):
        """Simulated clicks of the train queries on their shown HNSW top results."""
        return simulate(self.data, self.data.train_queries, self.candidates.ids, clicks, seed,
                        self.data.feedback_sessions)

    def holdout(self, ranked: np.ndarray, seed: int) -> HoldoutScores:
        """Hold-out scores of `ranked` (one re-ordered candidate row per hold-out query)."""
        return holdout_scores(self.data, self.candidates.ids[self.data.holdout_queries], list(ranked), seed)

    def rank_holdout(self, learner: Learner, force_model: bool = False) -> np.ndarray:
        """Hold-out candidates ordered by the learner's active model, or by its last trained
        weights when `force_model` (the ungated comparison)."""
        queries = self.data.holdout_queries
        arguments = (self.data.queries[queries], self.candidates.ids[queries], self.candidates.distances[queries])
        return learner.rank_with(learner.model, *arguments) if force_model else learner.rank(*arguments)


def lift(bench: Bench, setup: Setup, progress=None) -> LiftResult:
    """Records the train queries' simulated clicks, trains once, scores the hold-out queries."""
    learner = bench.learner(setup)
    records = bench.feedback(setup.clicks, setup.seed)
    for record in records:
        learner.record(record)
    result = learner.train(setup.train, progress=progress)
    holdout = bench.holdout(bench.rank_holdout(learner), setup.seed)
    learner.model.load_state_dict(learner.last_trained_state)
    ungated = bench.holdout(bench.rank_holdout(learner, force_model=True), setup.seed)
    learner.model.load_state_dict(learner.active_state)
    return LiftResult(bench.data, len(records), result, holdout, ungated)


def noise(bench: Bench, setup: Setup, progress=None) -> LiftResult:
    """The same run with clicks that ignore relevance and rank (pure noise)."""
    return lift(bench, replace(setup, clicks=replace(setup.clicks, pure_noise=True)), progress)


@dataclass(frozen=True)
class ForgettingResult:
    """Task A's hold-out nDCG@10 after training on A, then after training on B (with the given
    EWC strength), and task B's under A's model and after B; baselines are plain HNSW order. Scored with each run's
    trained weights whether or not the gate activated them: this measures what EWC keeps in the
    weights, the gate is measured by the lift and noise runs."""
    ewc_lambda: float
    a_baseline: float
    a_after_a: float
    a_after_b: float
    b_baseline: float
    b_under_a: float
    b_after_b: float
    a_activated: bool
    b_activated: bool


def forgetting(bench_a: Bench, bench_b: Bench, setup: Setup, strengths: list[float],
               progress=None) -> list[ForgettingResult]:
    """Train on task A's feedback once; then, from that same state for each EWC strength, train on
    task B's feedback alone (the replay buffer turned over, so only EWC stands against forgetting
    A) and score both tasks' hold-out queries. B's training starts from A's trained weights and,
    when A's run was activated, pays EWC's penalty around them."""
    learner = bench_a.learner(setup)
    for record in bench_a.feedback(setup.clicks, setup.seed):
        learner.record(record)
    a_run = learner.train(setup.train, progress=progress)
    if not a_run.activated:
        # The experiment is about the weights: keep A's trained ones and their Fisher regardless.
        learner.active_state = learner.last_trained_state
        learner.consolidate(list(learner.replay.items), setup.train)
    learner.model.load_state_dict(learner.active_state)
    a_after_a = bench_a.holdout(bench_a.rank_holdout(learner, force_model=True), setup.seed)
    b_under_a = bench_b.holdout(bench_b.rank_holdout(learner, force_model=True), setup.seed)
    results = []
    for strength in strengths:
        branch = copy.deepcopy(learner)
        branch.replay = Reservoir(setup.train.replay_buffer_size, setup.seed + 1)
        for record in bench_b.feedback(setup.clicks, setup.seed + 1):
            branch.record(record)
        b_run = branch.train(replace(setup.train, ewc_lambda=strength, seed=setup.train.seed + 1), progress=progress)
        branch.model.load_state_dict(branch.last_trained_state)
        a_after_b = bench_a.holdout(bench_a.rank_holdout(branch, force_model=True), setup.seed)
        b_after_b = bench_b.holdout(bench_b.rank_holdout(branch, force_model=True), setup.seed)
        results.append(ForgettingResult(strength, float(a_after_a.baseline.ndcg.mean()),
                                        float(a_after_a.model.ndcg.mean()), float(a_after_b.model.ndcg.mean()),
                                        float(b_after_b.baseline.ndcg.mean()), float(b_under_a.model.ndcg.mean()),
                                        float(b_after_b.model.ndcg.mean()),
                                        a_run.activated, b_run.activated))
    return results
