"""The baseline: plain HNSW order from hnswlib, with the server's default parameters, and the
index's layer-0 links (the neighbourhoods the GNN passes messages over).

The server's defaults (Sources/VectorEngine/HNSW/HNSWParameters.swift) are M = 16,
efConstruction = 200, efSearch = 64, and a search for k results walks with ef = max(efSearch, k),
as hnswlib does. hnswlib keeps at most 2M = 32 links per node on layer 0, like the server.
"""
from __future__ import annotations

from dataclasses import dataclass

import hnswlib
import numpy as np

#: The server's default HNSW parameters (HNSWParameters.swift).
SERVER_M = 16
SERVER_EF_CONSTRUCTION = 200
SERVER_EF_SEARCH = 64


@dataclass(frozen=True)
class Candidates:
    """What an HNSW search of `depth` returns for each query, best first.

    `ids[q]` are corpus ids in HNSW order and `distances[q]` their squared L2 distances. Short rows
    (fewer live points than `depth`) do not happen here: every corpus holds far more than depth."""
    ids: np.ndarray
    distances: np.ndarray


class HNSWBaseline:
    """An hnswlib index over a corpus: the plain ranking and the graph the re-ranker reads."""

    def __init__(self, corpus: np.ndarray, seed: int = 42, m: int = SERVER_M,
                 ef_construction: int = SERVER_EF_CONSTRUCTION, ef_search: int = SERVER_EF_SEARCH):
        self.corpus = corpus
        self.ef_search = ef_search
        self.index = hnswlib.Index(space="l2", dim=corpus.shape[1])
        self.index.init_index(max_elements=len(corpus), M=m, ef_construction=ef_construction, random_seed=seed)
        # One thread: hnswlib's insertion order (so its graph) is then deterministic for a seed.
        self.index.add_items(corpus, np.arange(len(corpus)), num_threads=1)

    def search(self, queries: np.ndarray, depth: int) -> Candidates:
        """The `depth` nearest corpus points of each query in HNSW order (ef = max(efSearch, depth))."""
        self.index.set_ef(max(self.ef_search, depth))
        ids, distances = self.index.knn_query(queries, k=depth, num_threads=1)
        return Candidates(ids=ids.astype(np.int64), distances=distances.astype(np.float32))

    def layer0_neighbours(self) -> np.ndarray:
        """Each corpus point's layer-0 links as a (points, 2M) array of corpus ids, -1 padded.

        hnswlib has no call that lists links, but its pickle state (`__getstate__`, the supported
        way it serialises an index) carries the layer-0 block: per element a 4-byte header whose low
        16 bits are the link count, then max_M0 uint32 internal ids, the vector and the 8-byte label."""
        state = self.index.__getstate__()[0]
        count = int(state["cur_element_count"])
        stride = int(state["size_data_per_element"])
        max_m0 = int(state["max_M0"])
        offset = int(state["offset_level0"])
        block = np.asarray(state["data_level0"], dtype=np.uint8)[:count * stride].reshape(count, stride)
        header = block[:, offset:offset + 4].copy().view(np.uint32)[:, 0]
        link_count = (header & 0xFFFF).astype(np.int64)
        links = block[:, offset + 4:offset + 4 + 4 * max_m0].copy().view(np.uint32).astype(np.int64)
        label_offset = int(state["label_offset"])
        labels = block[:, label_offset:label_offset + 8].copy().view(np.uint64)[:, 0].astype(np.int64)
        neighbours = np.full((count, max_m0), -1, dtype=np.int64)
        for internal in range(count):
            row = links[internal, :link_count[internal]]
            neighbours[labels[internal], :len(row)] = labels[row]
        return neighbours


def exact_neighbours(corpus: np.ndarray, queries: np.ndarray, depth: int) -> np.ndarray:
    """Brute-force `depth` nearest ids (the oracle that tells how close HNSW order is to exact),
    by the expansion |q|^2 - 2 q.x + |x|^2 in Float64."""
    corpus64, queries64 = corpus.astype(np.float64), queries.astype(np.float64)
    distances = (queries64 ** 2).sum(1)[:, None] - 2 * queries64 @ corpus64.T + (corpus64 ** 2).sum(1)[None, :]
    return np.argsort(distances, axis=1, kind="stable")[:, :depth]
