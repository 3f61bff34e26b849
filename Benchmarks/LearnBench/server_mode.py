"""`lift.py --server HOST:PORT`: the same measurement against a real ruvector-server.

NOT RUNNABLE YET. It is written against the API issue 20 describes and the server does not
implement at this commit: `db.learn.feedback(...)`, `db.learn.train(...)`, `db.learn.status(...)`
and `db.search(..., learned_rerank=depth)` answering with the model version that ranked it. Until
then `run` stops at its first check with a message saying so. When LearnService lands, adjust the
call names here to the client's (they are all in this file) and compare its table with the
reference mode's.

What it does, per data set: create a collection with the server's default HNSW parameters (the
baseline's), upsert the corpus, run every train query as an ordinary search of the top 50, simulate
clicks on what the server showed (the same click model and seed as the reference), record them as
feedback, train, then score each hold-out query's plain search (depth candidates) against its
`learned_rerank` search, with the same metrics and bootstrap as the reference.
"""
from __future__ import annotations

import argparse
import sys

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
    with ruvector.Client(address) as db:
        if not hasattr(db, "learn"):
            print("this client has no LearnService calls (db.learn): the server mode waits for issue 20's "
                  "LearnService; run the reference mode (no --server) meanwhile", file=sys.stderr)
            return 3
        rows = []
        for name in chosen:
            if name not in runs:
                continue
            data_name, noise = runs[name]
            clicks = ClickModel(pure_noise=noise)
            rows.append((name, *measure(db, datasets.by_name(data_name), clicks, arguments)))
    print(f"LearnBench against ruvector-server at {address}, depth {arguments.depth}, seed {arguments.seed}\n")
    print("| run | records | HNSW nDCG@10 | served nDCG@10 | ceiling | lift [95% CI] | model version |")
    print("|---|---|---|---|---|---|---|")
    for name, records, scores, version in rows:
        print(f"| {name} | {records} | {scores.baseline.ndcg.mean():.4f} | {scores.model.ndcg.mean():.4f} | "
              f"{scores.ceiling.ndcg.mean():.4f} | {scores.lift} | {version} |")
    return 0


def measure(db, data: datasets.DataSet, clicks: ClickModel,
            arguments: argparse.Namespace) -> tuple[int, HoldoutScores, object]:
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
    for progress in db.learn.train(collection, epochs=arguments.epochs, seed=arguments.seed, position_bias=clicks.eta):
        if arguments.verbose:
            print(f"  {progress}", file=sys.stderr, flush=True)

    hnsw_rows, ranked_rows, version = [], [], None
    for query in data.holdout_queries:
        vector = data.queries[query]
        hnsw_rows.append([int(h.id) for h in db.search(collection, vector, k=arguments.depth, with_payload=False)])
        hits = db.search(collection, vector, k=10, learned_rerank=arguments.depth, with_payload=False)
        ranked_rows.append([int(h.id) for h in hits])
        version = getattr(hits, "model_version", None)
    scores = holdout_scores(data, np.array(hnsw_rows), [np.array(r) for r in ranked_rows], arguments.seed)
    return len(records), scores, version
