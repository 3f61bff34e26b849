"""`lift.py --server HOST:PORT`: the same measurement against a real ruvector-server.

Per data set: create a collection with the server's default HNSW parameters (the baseline's),
upsert the corpus, run every train query as an ordinary search of the top 50, simulate clicks on
what the server showed (the same click model and seed as the reference), record them with
`db.learn.feedback`, set the position-bias exponent the clicks were made with
(`db.learn.configure(position_bias=eta)`, or -1 for none), train with `db.learn.train`, then score
each hold-out query's plain search (depth candidates) against its `learned_rerank` search, with the
same metrics and bootstrap as the reference. The cost columns time the same hold-out searches
(k = 10) with and without `learned_rerank` on this client, one call at a time.
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import datasets
from clicks import ClickModel, simulate
from evaluation import HoldoutScores, holdout_scores
from hnsw import SERVER_EF_CONSTRUCTION, SERVER_EF_SEARCH, SERVER_M

UPSERT_BATCH = 1000


def run(address: str, chosen: list[str], arguments: argparse.Namespace) -> int:
    """Runs the lift and noise experiments against the server at `address`; prints one table."""
    try:
        import ruvector
    except ImportError:
        print("server mode needs the Python client: pip install -e clients/python", file=sys.stderr)
        return 2
    runs = {"hidden-384": ("hidden-384", False), "hidden-32": ("hidden-32", False), "digits": ("digits", False),
            "noise-384": ("hidden-384", True), "noise-digits": ("digits", True)}
    if "forgetting" in chosen:
        print("forgetting is reference-only: the API has no call that empties a collection's feedback buffer",
              file=sys.stderr)
    with ruvector.Client(address, timeout=3600) as db:
        rows = []
        for name in chosen:
            if name not in runs:
                continue
            data_name, noise = runs[name]
            clicks = ClickModel(pure_noise=noise) if noise else ClickModel(eta=arguments.click_eta,
                                                                           click_if_irrelevant=arguments.irrelevant_click)
            rows.append((name, *measure(db, datasets.by_name(data_name), clicks, arguments)))
    print(f"LearnBench against ruvector-server at {address}, depth {arguments.depth}, seed {arguments.seed}\n")
    print("| run | records | HNSW nDCG@10 | served nDCG@10 | ceiling | lift [95% CI] | model version | trained on | "
          "training s | search p50 plain / re-ranked ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, records, scores, version, status, seconds, cost in rows:
        print(f"| {name} | {records} | {scores.baseline.ndcg.mean():.4f} | {scores.model.ndcg.mean():.4f} | "
              f"{scores.ceiling.ndcg.mean():.4f} | {scores.lift} | {version} | {status.training_examples} | {seconds:.1f} | "
              f"{cost[0]:.2f} / {cost[1]:.2f} |")
    # "trained on" is the examples the stored model trained on: the training side of the hold-out,
    # or every example when the cross-fitted gate activated a final fit; a refused model's note
    # gives what the gate measured.
    for name, *_, status, _, _ in rows:
        if status.note:
            print(f"{name}: {status.note}")
    return 0


def measure(db, data: datasets.DataSet, clicks: ClickModel,
            arguments: argparse.Namespace) -> tuple[int, HoldoutScores, object, object, float, tuple[float, float]]:
    """One collection: load, show, click, record, train, score the hold-out."""
    collection = f"learnbench-{data.name}-{'noise' if clicks.pure_noise else 'clicks'}-{arguments.seed}"
    if db.collection_exists(collection):
        db.delete_collection(collection)
    db.create_collection(collection, dimension=data.dimension, metric="l2", m=SERVER_M,
                         ef_construction=SERVER_EF_CONSTRUCTION, ef_search=SERVER_EF_SEARCH)
    for start in range(0, len(data.corpus), UPSERT_BATCH):
        stop = min(start + UPSERT_BATCH, len(data.corpus))
        db.upsert(collection, ids=list(range(start, stop)), vectors=data.corpus[start:stop])

    shown = np.zeros((len(data.queries), clicks.shown), dtype=np.int64)
    for query in data.train_queries:
        shown[query] = [int(hit.id) for hit in db.search(collection, data.queries[query], k=clicks.shown,
                                                         with_payload=False)]
    records = simulate(data, data.train_queries, shown, clicks, arguments.seed, data.feedback_sessions)
    for record in records:
        db.learn.feedback(collection, query=record.vector.tolist(), shown=[int(i) for i in record.shown],
                          judgements=record.judgements)
    settings: dict = {"hidden_size": arguments.hidden, "position_bias": clicks.eta if clicks.eta > 0 else -1}
    for item in arguments.configure:
        key, _, value = item.partition("=")
        settings[key] = value if key in ("loss", "schedule") else float(value) if "." in value or "e" in value else int(value)
    db.learn.configure(collection, **settings)
    started = time.monotonic()
    for _ in db.learn.train(collection, epochs=arguments.epochs, seed=arguments.seed, progress_bar=arguments.verbose):
        pass
    seconds = time.monotonic() - started
    status = db.learn.status(collection)

    hnsw_rows, ranked_rows, version = [], [], None
    for query in data.holdout_queries:
        vector = data.queries[query]
        hnsw_rows.append([int(h.id) for h in db.search(collection, vector, k=arguments.depth, with_payload=False)])
        hits = db.search(collection, vector, k=10, learned_rerank=arguments.depth, with_payload=False)
        ranked_rows.append([int(h.id) for h in hits])
        version = getattr(hits, "model_version", None)
    scores = holdout_scores(data, np.array(hnsw_rows), [np.array(r) for r in ranked_rows], arguments.seed)
    return len(records), scores, version, status, seconds, search_cost(db, collection, data, arguments.depth)


def search_cost(db, collection: str, data: datasets.DataSet, depth: int) -> tuple[float, float]:
    """Median client-side latency (ms) of the hold-out searches (k = 10) without and with
    `learned_rerank=depth`, alternating the two, after one warm-up pass."""
    plain, ranked = [], []
    for rounds in range(2):
        for query in data.holdout_queries:
            vector = data.queries[query]
            started = time.perf_counter()
            db.search(collection, vector, k=10, with_payload=False)
            middle = time.perf_counter()
            db.search(collection, vector, k=10, learned_rerank=depth, with_payload=False)
            ended = time.perf_counter()
            if rounds:
                plain.append(middle - started)
                ranked.append(ended - middle)
    return float(np.median(plain) * 1000), float(np.median(ranked) * 1000)
