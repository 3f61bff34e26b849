"""A collection's learning state, as the server will hold it: the replay buffer of feedback, the
active model and its version, EWC's consolidated Fisher, and the training run that may replace the
active model.

A training run splits the buffered feedback into train and validation (by query, seeded), trains
for at most `epochs`, keeps the epoch with the best validation nDCG@10 (early stopping, `patience`
epochs without improvement end the run) and activates that model only when its validation nDCG@10
beats the plain HNSW order of the same records with a paired bootstrap 95% interval above 0.
Otherwise the active model (version 0 = plain HNSW order) stays.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import numpy as np
import torch

from clicks import Feedback
from metrics import Interval, dcg_of_gains, paired_bootstrap
from reference import (EWC, GNNReranker, ModelConfig, Reservoir, TrainConfig, feedback_gains,
                       learning_rate_at, listwise_loss)


@dataclass(frozen=True)
class EpochReport:
    """What Train streams at the end of each epoch."""
    epoch: int
    step: int
    loss: float
    learning_rate: float
    validation_ndcg: float


@dataclass(frozen=True)
class TrainResult:
    """A finished run: its epochs, the chosen epoch, the validation comparison and the verdict."""
    epochs: list[EpochReport]
    best_epoch: int
    baseline_validation_ndcg: float
    model_validation_ndcg: float
    validation_lift: Interval
    activated: bool
    version: int
    train_records: int
    validation_records: int
    examples_per_second: float


def split_by_query(records: list[Feedback], validation_fraction: float,
                   rng: np.random.Generator) -> tuple[list[Feedback], list[Feedback]]:
    """(train, validation) records, with every record of one query on the same side: a query
    asked again must not be trained on and validated on at once (the server can tell a query by
    its vector's bytes). Queries are drawn in order of first appearance, so with one record per
    query this is a plain permutation of the records."""
    groups: dict[int, list[int]] = {}
    for position, record in enumerate(records):
        groups.setdefault(record.query, []).append(position)
    members = list(groups.values())
    order = rng.permutation(len(members))
    validation_count = max(1, int(round(len(members) * validation_fraction)))
    validation = [records[i] for g in order[:validation_count] for i in members[g]]
    train = [records[i] for g in order[validation_count:] for i in members[g]]
    return train, validation


class Learner:
    """Feedback in, a re-ranking model out; one per collection."""

    def __init__(self, corpus: np.ndarray, neighbours: np.ndarray, model_config: ModelConfig = ModelConfig(),
                 replay_buffer_size: int = 10_000, seed: int = 1):
        self.corpus = torch.from_numpy(np.ascontiguousarray(corpus, dtype=np.float32))
        self.neighbours = torch.from_numpy(np.ascontiguousarray(neighbours, dtype=np.int64))
        torch.manual_seed(seed)
        self.model = GNNReranker(corpus.shape[1], model_config)
        self.active_state = copy.deepcopy(self.model.state_dict())
        #: The best epoch's weights of the last run, activated or not (for the ungated comparison).
        self.last_trained_state = self.active_state
        self.version = 0
        self.replay = Reservoir(replay_buffer_size, seed)
        self.ewc = EWC()

    def record(self, feedback: Feedback) -> None:
        """RecordFeedback: the record joins the replay buffer."""
        self.replay.offer(feedback)

    def parameter_count(self) -> int:
        """Trainable parameters (GetModelStatus.parameters)."""
        return sum(p.numel() for p in self.model.parameters())

    # Ranking

    def rank(self, queries: np.ndarray, candidate_ids: np.ndarray, distances: np.ndarray,
             chunk: int = 64) -> np.ndarray:
        """Candidates re-ordered by the active model (HNSW order itself while the version is 0)."""
        if self.version == 0:
            return candidate_ids.copy()
        self.model.load_state_dict(self.active_state)
        return self.rank_with(self.model, queries, candidate_ids, distances, chunk)

    def rank_with(self, model: GNNReranker, queries: np.ndarray, candidate_ids: np.ndarray,
                  distances: np.ndarray, chunk: int = 64) -> np.ndarray:
        """Candidates re-ordered by `model`'s scores, best first; ties keep HNSW order."""
        model.eval()
        ordered = np.empty_like(candidate_ids)
        with torch.no_grad():
            for start in range(0, len(queries), chunk):
                rows = slice(start, start + chunk)
                scores = model(torch.from_numpy(np.ascontiguousarray(queries[rows], dtype=np.float32)),
                               torch.from_numpy(candidate_ids[rows]),
                               torch.from_numpy(np.ascontiguousarray(distances[rows], dtype=np.float32)),
                               self.corpus, self.neighbours).numpy()
                order = np.argsort(-scores, axis=1, kind="stable")
                ordered[rows] = np.take_along_axis(candidate_ids[rows], order, axis=1)
        return ordered

    # Training

    def train(self, config: TrainConfig, progress=None) -> TrainResult:
        """Train on the replay buffer; `progress(EpochReport)` is called at every epoch's end."""
        torch.manual_seed(config.seed)
        rng = np.random.default_rng(config.seed)
        train, validation = split_by_query(list(self.replay.items), config.validation_fraction, rng)
        batches_per_epoch = -(-len(train) // config.batch_size)
        total_steps = batches_per_epoch * config.epochs
        self.model.load_state_dict(self.active_state)
        optimizer = torch.optim.Adam(self.model.parameters(), lr=config.learning_rate, betas=config.betas,
                                     weight_decay=config.weight_decay)

        baseline = self._validation_ndcgs(validation, config, model=None)
        best_scores = self._validation_ndcgs(validation, config)
        best_state, best_epoch, stale = copy.deepcopy(self.model.state_dict()), 0, 0
        reports, step, started, examples = [], 0, time.perf_counter(), 0
        for epoch in range(1, config.epochs + 1):
            self.model.train()
            losses = []
            for batch_rows in np.array_split(rng.permutation(len(train)), batches_per_epoch):
                rate = learning_rate_at(step, total_steps, config.learning_rate, config.warmup_steps)
                for group in optimizer.param_groups:
                    group["lr"] = rate
                batch = [train[i] for i in batch_rows]
                loss = self._loss(batch, config) + self.ewc.penalty(self.model, config.ewc_lambda)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(float(loss.detach()))
                step += 1
                examples += len(batch)
            scores = self._validation_ndcgs(validation, config)
            reports.append(EpochReport(epoch, step, float(np.mean(losses)), rate, float(scores.mean())))
            if progress:
                progress(reports[-1])
            if scores.mean() > best_scores.mean():
                best_scores, best_state, best_epoch, stale = scores, copy.deepcopy(self.model.state_dict()), epoch, 0
            else:
                stale += 1
                if stale >= config.patience_epochs:
                    break
        elapsed = time.perf_counter() - started

        self.last_trained_state = best_state
        lift = paired_bootstrap(best_scores, baseline, seed=config.seed)
        activated = best_epoch > 0 and lift.low > 0
        if activated:
            self.model.load_state_dict(best_state)
            self.active_state = best_state
            self.version += 1
            self.consolidate(train, config)
        self.model.load_state_dict(self.active_state)
        return TrainResult(reports, best_epoch, float(baseline.mean()), float(best_scores.mean()), lift, activated,
                           self.version, len(train), len(validation), examples / elapsed if elapsed else 0.0)

    def consolidate(self, records: list[Feedback], config: TrainConfig) -> None:
        """EWC: adds the Fisher diagonal of `records` at the active weights and anchors there
        (done after every activated run)."""
        self.model.load_state_dict(self.active_state)
        self.ewc.consolidate(self.model, self._fisher(records, config))

    def _tensors(self, batch: list[Feedback]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Queries, shown ids and their squared distances, recomputed from the vectors as the server
        must (feedback carries ids, not distances)."""
        queries = torch.from_numpy(np.stack([r.vector for r in batch]).astype(np.float32))
        shown = torch.from_numpy(np.stack([r.shown for r in batch]).astype(np.int64))
        distances = ((self.corpus[shown] - queries.unsqueeze(1)) ** 2).sum(-1)
        return queries, shown, distances

    def _loss(self, batch: list[Feedback], config: TrainConfig) -> torch.Tensor:
        queries, shown, distances = self._tensors(batch)
        gains = np.stack([feedback_gains(r.shown_grades(), config.position_bias_eta, config.propensity_clip)
                          for r in batch])
        scores = self.model(queries, shown, distances, self.corpus, self.neighbours)
        return listwise_loss(scores, torch.from_numpy(gains).to(scores.dtype), config.temperature)

    def _validation_ndcgs(self, validation: list[Feedback], config: TrainConfig,
                          model: str | None = "current") -> np.ndarray:
        """Per-record DCG@10 of the shown lists re-ordered by the model, with inverse-propensity
        weighted judgements as gains, over the mean ideal DCG of the set (so the mean reads like an
        nDCG). Not normalised per record: that would cancel the weight of a record's single click
        and reward the order that was shown, whatever the relevance (the logged order wins).
        `model=None` scores the shown (HNSW) order itself."""
        queries, shown, distances = self._tensors(validation)
        ordered = shown.numpy() if model is None else self.rank_with(self.model, queries.numpy(), shown.numpy(),
                                                                      distances.numpy())
        # Unclipped here: clipping trades bias for variance in the gradient, but in the gate the
        # bias (deep clicks undervalued) would favour the shown order against any real lift.
        gains = [feedback_gains(r.shown_grades(), config.position_bias_eta, np.inf) for r in validation]
        ideal = np.mean([dcg_of_gains(np.sort(g)[::-1], 10) for g in gains])
        scores = []
        for record, record_gains, ids in zip(validation, gains, ordered):
            gain_of = dict(zip(record.shown.tolist(), record_gains))
            scores.append(dcg_of_gains(np.array([gain_of[int(i)] for i in ids]), 10) / ideal)
        return np.array(scores)

    def _fisher(self, train: list[Feedback], config: TrainConfig, limit: int = 256) -> dict[str, torch.Tensor]:
        """Diagonal empirical Fisher: the mean of each record's squared loss gradient (no dropout)."""
        self.model.eval()
        fisher = {n: torch.zeros_like(p) for n, p in self.model.named_parameters()}
        sample = train[:limit]
        for record in sample:
            self.model.zero_grad()
            self._loss([record], config).backward()
            for name, parameter in self.model.named_parameters():
                fisher[name] += parameter.grad.detach() ** 2 / len(sample)
        self.model.zero_grad()
        return fisher
