"""Writes the reference's training and validation examples for one data set to a file that
`learn-bench --train-examples FILE` trains LearnEngine on, so the Swift engine and the PyTorch
reference can be compared on exactly the same examples (issue 20: which difference makes the
server's model fail the gate on noisy, position-biased clicks).

    .venv-learnbench/bin/python Benchmarks/LearnBench/export_examples.py hidden-384 /tmp/hidden-384.examples

Each example is what the reference's model reads for one feedback record: the query, the 50 shown
candidates then the distinct layer-0 links they list (`--links` per candidate, 0 = all), each
candidate's link indices into those nodes, its HNSW score (`reference.hnsw_scores`: squared
distances standardised over the list), its click grade and its loss weight (inverse propensity,
clipped at 10 for training, unclipped for validation, as `learner.Learner` uses them).

Format (little-endian): b"RVLX", u32 dimension, u32 train count, u32 validation count, then each
example (train first): u32 candidates K, u32 nodes N, f32[d] query, f32[N*d] nodes, per candidate
u32 link count and u32 link indices, f32[K] HNSW scores, f32[K] grades, f32[K] weights.
"""
from __future__ import annotations

import argparse
import struct
import sys

import numpy as np
import torch

import datasets
from clicks import ClickModel, Feedback
from experiments import Bench
from learner import split_by_query
from reference import TrainConfig, feedback_gains, hnsw_scores


def example_bytes(record: Feedback, bench: Bench, links: int, clip: float, eta: float) -> bytes:
    """One record as the file's example layout."""
    corpus = bench.data.corpus
    shown = [int(i) for i in record.shown]
    neighbour_rows = bench.neighbours[shown]
    if links:
        neighbour_rows = neighbour_rows[:, :links]
    index = {node: position for position, node in enumerate(shown)}
    nodes = list(shown)
    lists = []
    for row in neighbour_rows:
        listed = []
        for node in (int(n) for n in row if n >= 0):
            if node not in index:
                index[node] = len(nodes)
                nodes.append(node)
            listed.append(index[node])
        lists.append(listed)
    distances = ((corpus[shown] - record.vector[None, :]) ** 2).sum(-1)
    scores = hnsw_scores(torch.from_numpy(distances.astype(np.float32))[None, :])[0].numpy()
    grades = record.shown_grades().astype(np.float32)
    weights = feedback_gains(np.ones_like(grades), eta, clip).astype(np.float32)
    out = [struct.pack("<II", len(shown), len(nodes)), record.vector.astype("<f4").tobytes(),
           corpus[nodes].astype("<f4").tobytes()]
    for listed in lists:
        out.append(struct.pack(f"<I{len(listed)}I", len(listed), *listed))
    out += [scores.astype("<f4").tobytes(), grades.astype("<f4").tobytes(), weights.astype("<f4").tobytes()]
    return b"".join(out)


def main(argv: list[str]) -> int:
    """Simulates the lift experiment's clicks, splits them as the reference does, writes the file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_set", choices=("hidden-384", "hidden-32", "digits"))
    parser.add_argument("path")
    parser.add_argument("--links", type=int, default=0, help="most layer-0 links per candidate (0: all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--click-eta", type=float, default=1.0)
    parser.add_argument("--irrelevant-click", type=float, default=0.1)
    parser.add_argument("--pure-noise", action="store_true",
                        help="the no-harm experiment's clicks: every examined result clicked at 0.3, whatever its relevance")
    arguments = parser.parse_args(argv)
    bench = Bench(datasets.by_name(arguments.data_set), 100, arguments.seed)
    clicks = ClickModel(pure_noise=True) if arguments.pure_noise else ClickModel(eta=arguments.click_eta,
                                                                                click_if_irrelevant=arguments.irrelevant_click)
    records = bench.feedback(clicks, arguments.seed)
    config = TrainConfig(seed=arguments.seed)
    train, validation = split_by_query(records, config.validation_fraction, np.random.default_rng(config.seed))
    with open(arguments.path, "wb") as out:
        out.write(b"RVLX" + struct.pack("<III", bench.data.dimension, len(train), len(validation)))
        for record in train:
            out.write(example_bytes(record, bench, arguments.links, config.propensity_clip, arguments.click_eta))
        for record in validation:
            out.write(example_bytes(record, bench, arguments.links, np.inf, arguments.click_eta))
    print(f"{len(train)} training and {len(validation)} validation examples to {arguments.path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
