"""Data sets whose relevance is not plain vector distance, deterministic for a seed.

Every data set is a corpus (the points a collection holds), queries (vectors that are not in the
corpus) and a relevance rule `grades(query_index, point_ids) -> grades` (0 = irrelevant). Queries are
split by query into train and hold-out: the train queries produce simulated feedback, the hold-out
queries are only ever scored against true relevance.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DataSet:
    """A corpus, queries and the hidden relevance between them: `query_labels` and `point_labels`
    carry the hidden class, and a point is relevant (grade 1) to a query of the same class."""
    name: str
    corpus: np.ndarray
    queries: np.ndarray
    point_labels: np.ndarray
    query_labels: np.ndarray
    train_queries: np.ndarray
    holdout_queries: np.ndarray
    description: str
    #: Impressions simulated per train query (the benchmark's feedback volume for this set).
    feedback_sessions: int = 1

    @property
    def dimension(self) -> int:
        """Vector dimension of corpus and queries."""
        return int(self.corpus.shape[1])

    def grades(self, query: int, ids: np.ndarray) -> np.ndarray:
        """Relevance grades of corpus points `ids` for query number `query`: 1 = same hidden class."""
        return (self.point_labels[ids] == self.query_labels[query]).astype(np.int64)

    def relevant_count(self, query: int) -> int:
        """How many corpus points are relevant to the query (for ideal DCG and capped recall)."""
        return int(np.count_nonzero(self.point_labels == self.query_labels[query]))

    def ideal_grades(self, query: int, k: int) -> np.ndarray:
        """The k best grades in the whole corpus, best first (the ideal ranking's grades)."""
        return (np.arange(k) < self.relevant_count(query)).astype(np.int64)


def split_queries(count: int, holdout_fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Splits query numbers 0..count-1 at random into (train, hold-out), each sorted."""
    order = rng.permutation(count)
    holdout = int(round(count * holdout_fraction))
    return np.sort(order[holdout:]), np.sort(order[:holdout])


def _orthonormal(rng: np.random.Generator, dimension: int, count: int) -> np.ndarray:
    """`count` random orthonormal directions in R^dimension, as rows."""
    q, _ = np.linalg.qr(rng.standard_normal((dimension, count)))
    return q.T


def hidden_class(dimension: int = 384, latent_dimension: int = 16, points: int = 5000, queries: int = 3000,
                 clusters: int = 50, hidden_bits: int = 3, centre_scale: float = 0.6, ambient_noise: float = 0.05,
                 holdout_fraction: float = 0.3, seed: int = 7, name: str | None = None,
                 cluster_subset: np.ndarray | None = None, hidden_axes: np.ndarray | None = None,
                 centre_free_axes: np.ndarray | None = None) -> DataSet:
    """Gaussian clusters whose hidden class cuts across them, embedded in `dimension` dims.

    In a latent space of `latent_dimension` dims, points are `centre + N(0, I)`; the cluster centres
    are drawn orthogonal to `hidden_bits` secret directions, and a point's class is the sign
    pattern of its projections on those directions (2^hidden_bits classes, each spread evenly over
    every cluster). The latent points are mapped into `dimension` dims by a random orthonormal map
    plus N(0, ambient_noise^2) in every dimension: like real embeddings, the vectors have far
    fewer degrees of freedom than coordinates (with dimension == latent_dimension there is no map
    and no ambient noise: the isotropic, hardest case). The nearest neighbours of a query are its
    own cluster, where only about 1 in 2^hidden_bits points shares its class: plain distance
    barely sees the class (3 directions out of the latent ones), a learned metric can.

    `cluster_subset` restricts queries to those clusters (the forgetting experiment's tasks),
    `hidden_axes` gives the secret directions instead of drawing them (two tasks, two rules) and
    `centre_free_axes` (default: the hidden axes) are the directions the centres are kept off."""
    rng = np.random.default_rng(seed)
    axes = _orthonormal(rng, latent_dimension, hidden_bits) if hidden_axes is None else hidden_axes
    centres = rng.standard_normal((clusters, latent_dimension)) * centre_scale
    # Centres orthogonal to the hidden axes: the class must not follow the cluster.
    free = axes if centre_free_axes is None else centre_free_axes
    centres -= (centres @ free.T) @ free
    point_cluster = rng.integers(0, clusters, points)
    latent_corpus = centres[point_cluster] + rng.standard_normal((points, latent_dimension))
    allowed = np.arange(clusters) if cluster_subset is None else np.asarray(cluster_subset)
    query_cluster = allowed[rng.integers(0, len(allowed), queries)]
    latent_queries = centres[query_cluster] + rng.standard_normal((queries, latent_dimension))
    train, holdout = split_queries(queries, holdout_fraction, rng)
    embed = _embedding(rng, latent_dimension, dimension, ambient_noise)
    return DataSet(
        name=name or f"hidden-class-{dimension}d",
        corpus=embed(latent_corpus), queries=embed(latent_queries),
        point_labels=_sign_class(latent_corpus, axes), query_labels=_sign_class(latent_queries, axes),
        train_queries=train, holdout_queries=holdout,
        description=(f"{points} points in {clusters} Gaussian clusters, {latent_dimension} latent dims"
                     + (f" mapped to {dimension} (+ noise {ambient_noise})" if dimension != latent_dimension else "")
                     + f", class = signs on {hidden_bits} hidden directions ({2 ** hidden_bits} classes across "
                     f"every cluster); {queries} queries, {len(train)} train / {len(holdout)} hold-out"))


def _embedding(rng: np.random.Generator, latent_dimension: int, dimension: int, ambient_noise: float):
    """A function mapping latent rows to float32 rows of `dimension` (identity when equal)."""
    if dimension == latent_dimension:
        return lambda latent: latent.astype(np.float32)
    basis = _orthonormal(rng, dimension, latent_dimension)                    # (latent, dimension)
    return lambda latent: (latent @ basis + ambient_noise * rng.standard_normal((len(latent), dimension))
                           ).astype(np.float32)


def _sign_class(vectors: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """The class number made of the sign bits of `vectors` projected on `axes`."""
    bits = (vectors.astype(np.float64) @ axes.T) > 0
    return (bits * (1 << np.arange(axes.shape[0]))).sum(axis=1).astype(np.int64)


def digits(queries: int = 800, holdout_fraction: float = 0.35, seed: int = 7, sessions: int = 3) -> DataSet:
    """scikit-learn's bundled `load_digits` (1797 8x8 images, 64 dims, no download): `queries`
    images become queries, the rest the corpus; relevance = same digit. The set is small, so each
    train query is shown `sessions` times (a click log holds repeated queries)."""
    from sklearn.datasets import load_digits  # scikit-learn only for this data set

    bunch = load_digits()
    data = bunch.data.astype(np.float32)
    labels = bunch.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(data))
    query_rows, corpus_rows = order[:queries], order[queries:]
    train, holdout = split_queries(queries, holdout_fraction, rng)
    return DataSet(
        name="digits-64d", corpus=data[corpus_rows], queries=data[query_rows],
        point_labels=labels[corpus_rows], query_labels=labels[query_rows],
        train_queries=train, holdout_queries=holdout,
        description=(f"scikit-learn load_digits: {len(corpus_rows)} corpus images, {queries} query images "
                     f"({len(train)} train x {sessions} sessions / {len(holdout)} hold-out), 64 dims, "
                     f"relevance = same digit"),
        feedback_sessions=sessions)


def forgetting_tasks(dimension: int = 64, latent_dimension: int = 16, points: int = 4000, queries: int = 3000,
                     clusters: int = 40, seed: int = 11) -> tuple[DataSet, DataSet]:
    """Two tasks on one corpus for the forgetting experiment: task A's queries come from the first
    half of the clusters and task B's from the second; each task has its own hidden directions
    (orthogonal to each other), so learning B's rule does nothing for A."""
    rng = np.random.default_rng(seed)
    axes = _orthonormal(rng, latent_dimension, 6)
    half = clusters // 2
    common = dict(dimension=dimension, latent_dimension=latent_dimension, points=points, queries=queries,
                  clusters=clusters, seed=seed, centre_free_axes=axes)
    task_a = hidden_class(**common, hidden_axes=axes[:3], cluster_subset=np.arange(half), name="task-A")
    task_b = hidden_class(**common, hidden_axes=axes[3:], cluster_subset=np.arange(half, clusters), name="task-B")
    # Same seed, same draws: both tasks hold the very same corpus (only labels and queries differ).
    assert np.array_equal(task_a.corpus, task_b.corpus)
    return task_a, task_b


def by_name(name: str) -> DataSet:
    """The benchmark's data sets by their experiment name: hidden-384, hidden-32 or digits."""
    builders = {
        "hidden-384": lambda: hidden_class(dimension=384),
        "hidden-32": lambda: hidden_class(dimension=32, latent_dimension=32),
        "digits": digits,
    }
    return builders[name]()
