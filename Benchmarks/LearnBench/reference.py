"""The reference re-ranker in PyTorch: the architecture LearnEngine will have, trained the way the
server should train it, so the server's numbers have a peer to stand beside.

For a query q and its HNSW candidates c_1..c_K (with their layer-0 neighbours N(c_i)):

    h_q = Wq q + bq                                   query encoder, Linear(d -> H)
    h_i = Wn c_i + bn, h_j = Wn x_j + bn              node encoder, Linear(d -> H), shared
    m_i = MultiHeadAttention(query = h_i, keys/values = {h_i} + {h_j : j in N(c_i)})
    s_i = GRUCell(input = m_i, state = h_i)           torch.nn.GRUCell equations
    z_i = Dropout(LayerNorm(s_i))                     dropout only while training
    score_i = hnsw_i + w . (z_i * h_q)                w starts at 0: version 0 = HNSW order

where hnsw_i = -(dist_i - mean(dist)) / std(dist) over the query's candidate list (a per-query,
order-preserving scale, so the learned term meets the HNSW score on the same footing whatever the
data's distances). The loss is a listwise softmax cross-entropy over the shown results with targets
(2^grade - 1), inverse-propensity weighted for clicks, and temperature tau. Adam (lr 1e-3, betas 0.9/0.999), batches
of 32, linear warm-up then cosine decay, EWC against forgetting, a reservoir replay buffer, early
stopping on a validation split of the feedback and activation only when that split improves.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn



@dataclass(frozen=True)
class ModelConfig:
    """Architecture (the ConfigureModel fields): hidden size, attention heads, dropout; and the
    learned term's form: "bilinear" w . (z_i * h_q), or "mlp" out(tanh(head([z_i * h_q, z_i])))
    (the form ruvector-server's engine had before format version 2, kept to compare the two)."""
    hidden: int = 128
    heads: int = 4
    dropout: float = 0.1
    head: str = "bilinear"
    #: Most layer-0 links per candidate (0: all of them).
    links: int = 0
    #: Whether a candidate attends to itself besides its links (ruvector-server's engine does not).
    attend_self: bool = True


@dataclass(frozen=True)
class TrainConfig:
    """Training settings (the Train request's fields and the server's defaults)."""
    epochs: int = 12
    batch_size: int = 32
    learning_rate: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    warmup_steps: int = 100
    temperature: float = 1.0
    position_bias_eta: float = 1.0
    propensity_clip: float = 10.0
    weight_decay: float = 1e-4
    ewc_lambda: float = 0.0
    replay_buffer_size: int = 10_000
    validation_fraction: float = 0.1
    patience_epochs: int = 5
    seed: int = 1


class GNNReranker(nn.Module):
    """Scores a query's HNSW candidates: HNSW score plus a learned term that starts at zero."""

    def __init__(self, dimension: int, config: ModelConfig):
        super().__init__()
        if config.hidden % config.heads:
            raise ValueError(f"hidden {config.hidden} is not a multiple of heads {config.heads}")
        self.config = config
        self.query_encoder = nn.Linear(dimension, config.hidden)
        self.node_encoder = nn.Linear(dimension, config.hidden)
        self.attention_q = nn.Linear(config.hidden, config.hidden)
        self.attention_k = nn.Linear(config.hidden, config.hidden)
        self.attention_v = nn.Linear(config.hidden, config.hidden)
        self.attention_out = nn.Linear(config.hidden, config.hidden)
        self.gru = nn.GRUCell(config.hidden, config.hidden)
        self.norm = nn.LayerNorm(config.hidden)
        self.dropout = nn.Dropout(config.dropout)
        # Zero: an untrained model adds nothing to the HNSW score (ReZero / zero-initialised heads).
        self.score_weight = nn.Parameter(torch.zeros(config.hidden))
        if config.head == "mlp":
            self.mlp_head = nn.Linear(2 * config.hidden, config.hidden)
        elif config.head != "bilinear":
            raise ValueError(f"head {config.head!r} is neither 'bilinear' nor 'mlp'")

    def forward(self, queries: torch.Tensor, candidate_ids: torch.Tensor, distances: torch.Tensor,
                corpus: torch.Tensor, neighbours: torch.Tensor) -> torch.Tensor:
        """Scores (B, K) of candidates `candidate_ids` (B, K) with squared distances `distances`
        (B, K), given the corpus (N, d) and its layer-0 links `neighbours` (N, M0, -1 padded)."""
        batch, depth = candidate_ids.shape
        links = neighbours[candidate_ids]                                   # (B, K, M0)
        if self.config.links:
            links = links[..., :self.config.links]
        node_ids = torch.cat([candidate_ids.unsqueeze(-1), links.clamp(min=0)], dim=-1)  # self first
        valid = torch.cat([torch.full_like(links[..., :1], self.config.attend_self, dtype=torch.bool), links >= 0], dim=-1)
        # Encode each distinct node once per call (a batch shares most neighbours); the encoder and
        # the key/value maps are linear, so they commute with the gather.
        unique, inverse = torch.unique(node_ids, return_inverse=True)
        encoded = self.node_encoder(corpus[unique])                         # (U, H)
        state = encoded[inverse[:, :, 0]]                                   # (B, K, H)
        message = self._attend(state, self._by_head(self.attention_k(encoded)),
                               self._by_head(self.attention_v(encoded)), inverse, valid)
        updated = self.gru(message.reshape(-1, self.config.hidden), state.reshape(-1, self.config.hidden))
        node = self.dropout(self.norm(updated)).reshape(batch, depth, self.config.hidden)
        query = self.query_encoder(queries)                                 # (B, H)
        product = node * query.unsqueeze(1)                                 # (B, K, H)
        if self.config.head == "mlp":
            product = torch.tanh(self.mlp_head(torch.cat([product, node], dim=-1)))
        learned = product @ self.score_weight                               # (B, K)
        return hnsw_scores(distances) + learned

    def _by_head(self, projected: torch.Tensor) -> torch.Tensor:
        """(U, H) -> (heads, U, head size): gathering from this layout yields tensors that the
        batched matmul reads in place (no copy of the large gathered keys and values)."""
        heads = self.config.heads
        return projected.reshape(projected.shape[0], heads, -1).transpose(0, 1).contiguous()

    def _attend(self, state: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, inverse: torch.Tensor,
                valid: torch.Tensor) -> torch.Tensor:
        """Multi-head attention of each candidate's state (B, K, H) over itself and its neighbours:
        `keys` and `values` are (heads, U, head size) per distinct node, `inverse` (B, K, 1 + M0)
        picks each candidate's nodes and `valid` masks the padding."""
        batch, depth, width = inverse.shape
        heads, head_size = keys.shape[0], keys.shape[2]
        rows = batch * depth
        slots = inverse.reshape(rows, width)
        q = self.attention_q(state).reshape(rows, heads, 1, head_size).transpose(0, 1)  # (heads, rows, 1, hs)
        logits = torch.matmul(q, keys[:, slots].transpose(-1, -2)) / math.sqrt(head_size)  # (heads, rows, 1, width)
        logits = logits.masked_fill(~valid.reshape(1, rows, 1, width), float("-inf"))
        # A row with nothing to attend to (no links, self left out) gets a zero context.
        weights = torch.softmax(logits, dim=-1).nan_to_num(0.0)
        mixed = torch.matmul(weights, values[:, slots])                     # (heads, rows, 1, hs)
        return self.attention_out(mixed.squeeze(2).transpose(0, 1).reshape(batch, depth, heads * head_size))


def hnsw_scores(distances: torch.Tensor) -> torch.Tensor:
    """-(d - mean) / std per row: larger is nearer; order-preserving, so it keeps HNSW order."""
    mean = distances.mean(dim=-1, keepdim=True)
    spread = distances.std(dim=-1, keepdim=True).clamp(min=1e-6)
    return -(distances - mean) / spread


def listwise_loss(scores: torch.Tensor, gains: torch.Tensor, temperature: float) -> torch.Tensor:
    """Listwise softmax cross-entropy: -sum_i gain_i * log softmax(scores / temperature)_i, averaged
    over the lists. The gains are not normalised per list: with inverse-propensity gains a
    normalisation would cancel the weight of a list's single click (the common case) and bring the
    position bias back (Ai et al. 2018 use the same unnormalised form)."""
    return -(gains * torch.log_softmax(scores / temperature, dim=-1)).sum(-1).mean()


def feedback_gains(grades: np.ndarray, position_bias_eta: float, propensity_clip: float = 10.0) -> np.ndarray:
    """Gains of a shown list's grades (shown order): 2^grade - 1, and when the grades are clicks
    under a position-based model with examination (1/rank)^eta, divided by that propensity
    (inverse propensity scoring, Joachims et al. 2017), so a click deep in the list counts for
    what it says about relevance rather than for where it was shown. The weight is clipped at
    `propensity_clip` (Joachims et al. clip too): a lone click at rank 50 would otherwise outweigh
    fifty at rank 1, and most such deep clicks are the click model's noise. eta = 0: no correction."""
    ranks = np.arange(1, grades.shape[-1] + 1, dtype=np.float64)
    return (2.0 ** grades.astype(np.float64) - 1.0) * np.minimum(ranks ** position_bias_eta, propensity_clip)


def learning_rate_at(step: int, total_steps: int, peak: float, warmup_steps: int) -> float:
    """Linear warm-up to `peak` over `warmup_steps` (from peak / warmup_steps at step 0), then cosine
    decay to 0 at `total_steps` (steps are 0-based; the rate used by step `step`)."""
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return peak * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


class Reservoir:
    """Replay buffer with reservoir sampling (Vitter's Algorithm R): after n offers every record
    is held with probability capacity / n, whatever the order they came in."""

    def __init__(self, capacity: int, seed: int):
        self.capacity = capacity
        self.items: list = []
        self.offered = 0
        self._rng = np.random.default_rng(seed)

    def offer(self, item) -> None:
        """Adds an item, evicting a random held one once full."""
        self.offered += 1
        if len(self.items) < self.capacity:
            self.items.append(item)
            return
        slot = int(self._rng.integers(0, self.offered))
        if slot < self.capacity:
            self.items[slot] = item


@dataclass
class EWC:
    """Elastic weight consolidation (Kirkpatrick et al. 2017), online form: after each completed
    run the diagonal empirical Fisher of that run's data is added to the running sum and the
    anchor moves to the new weights; training then pays lambda/2 * sum F (theta - anchor)^2."""
    fisher: dict[str, torch.Tensor] = field(default_factory=dict)
    anchor: dict[str, torch.Tensor] = field(default_factory=dict)

    def penalty(self, model: nn.Module, strength: float) -> torch.Tensor:
        """lambda/2 * sum F (theta - anchor)^2 (0 before the first consolidation or at lambda 0)."""
        if not self.fisher or strength == 0:
            return torch.zeros(())
        total = sum((self.fisher[n] * (p - self.anchor[n]) ** 2).sum() for n, p in model.named_parameters())
        return 0.5 * strength * total

    def consolidate(self, model: nn.Module, fisher: dict[str, torch.Tensor]) -> None:
        """Adds a run's Fisher diagonal and anchors at the model's current weights."""
        for name, value in fisher.items():
            self.fisher[name] = self.fisher.get(name, torch.zeros_like(value)) + value
        self.anchor = {n: p.detach().clone() for n, p in model.named_parameters()}
