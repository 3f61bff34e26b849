"""Self-checks of graph-bench's Python side (not part of CI: kuzu and duckdb are benchmark
requirements, not test ones; a peer whose package is missing is skipped):

    .venv/bin/python -m pytest -q -p no:cacheprovider Benchmarks/GraphBench/tests

The peers are checked against oracles written here in plain Python (breadth-first search,
sorting every vector), on a small seeded graph in graph-bench's file format, so a wrong query
in one peer is caught even when graph-bench's own engine is not in the loop."""
import json
import os
import pathlib
import sys
import time
from collections import Counter, defaultdict

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import graph_peer  # noqa: E402

NODES, RELATIONSHIPS, DOCS, DIM = 300, 1200, 30, 8


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    """A seeded graph in the files graph-bench writes, self-loops and parallel edges included."""
    d = tmp_path_factory.mktemp("graph")
    rng = np.random.default_rng(7)
    ages = rng.integers(18, 91, NODES).astype(np.int32)
    pairs = rng.integers(0, NODES, (RELATIONSHIPS, 2)).astype(np.int32)
    pairs[:3] = [[5, 5], [1, 2], [1, 2]]
    doc_ids = np.arange(0, NODES, NODES // DOCS, dtype=np.int32)[:DOCS]
    ages.tofile(d / "ages.i32")
    pairs.tofile(d / "relationships.i32")
    doc_ids.tofile(d / "doc_ids.i32")
    rng.normal(size=(DOCS, DIM)).astype(np.float32).tofile(d / "doc_vectors.f32")
    rng.normal(size=(6, DIM)).astype(np.float32).tofile(d / "query_vectors.f32")
    (d / "names.txt").write_text("\n".join(f"person-{i}" for i in range(NODES)))
    starts = [0, 1, 5, 17, 299]
    workload = {"dimension": DIM, "warmup": 1, "rounds": 1, "starts": starts, "hops": [1, 2, 3], "neighbour_min_age": 60,
                "scan_ages": [18, 40, 90], "k": 4, "hybrid_min_age": 40, "hybrid_queries": 6,
                "lookup_names": [f"person-{s}" for s in starts], "var_length_hops": 3, "var_length_min_age": 60,
                "shortest_pairs": [[0, 1], [1, 2], [5, 299], [17, 3], [2, 1]], "shortest_max_hops": 5, "label_pattern_min_age": 60}
    (d / "queries.json").write_text(json.dumps(workload))
    return graph_peer.Graph(str(d))


def distances(graph, start, max_hops):
    """Breadth-first depths of the nodes reachable from `start` in 1..max_hops outgoing hops."""
    out = defaultdict(list)
    for s, e in zip(graph.starts.tolist(), graph.ends.tolist()):
        out[s].append(e)
    depth, frontier = {}, [start]
    for level in range(1, max_hops + 1):
        frontier = [n for node in frontier for n in out[node]]
        frontier = [n for n in dict.fromkeys(frontier) if n not in depth]
        for n in frontier:
            depth[n] = level
    return depth


def load_peer(name, graph):
    if name != "sqlite":
        pytest.importorskip(name)
    module = __import__(f"{name}_peer")
    peer, version, note = module.load(graph)
    assert version and note
    return peer


@pytest.mark.parametrize("name", ["sqlite", "kuzu", "duckdb"])
def test_peer_answers_match_plain_python(name, graph):
    peer = load_peer(name, graph)
    w, ages = graph.workload, graph.ages.tolist()
    edges = list(zip(graph.starts.tolist(), graph.ends.tolist()))
    for s in w["starts"]:
        for hops in w["hops"]:
            assert peer.k_hop(s, hops) == len(distances(graph, s, hops)), (s, hops)
        reach = distances(graph, s, 3)
        assert peer.var_length(s, 3, 60) == sum(1 for n in reach if ages[n] > 60)
        assert sorted(peer.older_neighbours(s, 60)) == sorted(f"person-{e}" for a, e in edges if a == s and ages[e] > 60)
        assert list(peer.lookup(f"person-{s}")) == [s, ages[s]]
        assert sorted(set(peer.neighbourhood(s)) - {s}) == sorted(({e for a, e in edges if a == s} | {a for a, e in edges if e == s}) - {s})
    for a, b in w["shortest_pairs"]:
        assert peer.shortest(a, b, 5) == distances(graph, a, 5).get(b, -1), (a, b)
    counts = Counter(ages)
    assert [list(r) for r in peer.count_per_age()] == sorted([age, n] for age, n in counts.items())
    for age in w["scan_ages"]:
        assert peer.count_age(age) == counts.get(age, 0)
        assert peer.label_pattern(age, 60) == sum(1 for a, e in edges if ages[a] == age and graph.is_doc[e] and ages[e] > 60)
    friends = defaultdict(list)
    for a, e in edges:
        friends[ages[a]].append(ages[e])
    got = peer.friends_age()
    assert [r[0] for r in got] == sorted(friends)
    assert [float(r[1]) for r in got] == pytest.approx([sum(v) / len(v) for _, v in sorted(friends.items())], rel=1e-12)


def test_exact_scan_is_the_sorted_filtered_distances(graph):
    scan = graph_peer.ExactScan(graph)
    passing = [i for i in range(len(graph.doc_ids)) if graph.ages[graph.doc_ids[i]] >= graph.workload["hybrid_min_age"]]
    for q in scan.queries:
        by_distance = sorted(passing, key=lambda i: (float(((scan.vectors[i] - q) ** 2).sum()), int(graph.doc_ids[i])))
        assert scan.nearest(q) == [int(graph.doc_ids[i]) for i in by_distance[:scan.k]]


def test_timed_skips_the_warmup_and_keeps_the_fastest_round():
    calls, round_delay = [], iter([0.02, 0.001, 0.01])
    delay = {"now": 0.0}

    def body(x):
        calls.append(x)
        time.sleep(delay["now"])
        return (x, delay["now"])

    def rounds_body(x):
        if x == "a":  # the first input of each round sets that round's pace
            delay["now"] = next(round_delay)
        return body(x)

    result = graph_peer.timed(["w", "a", "b"][1:], rounds_body, warmup=0, rounds=3)
    assert result["answers"] == [("a", 0.001), ("b", 0.001)]
    assert len(result["micros"]) == 2 and sum(result["micros"]) < 20_000
    calls.clear()
    graph_peer.timed([1, 2, 3], body, warmup=2, rounds=2)
    assert calls == [1, 2, 1, 2, 3, 1, 2, 3]


def test_csv_files_hold_the_graph(graph):
    nodes, knows = graph.csv_files()
    rows = [line.split(",") for line in pathlib.Path(nodes).read_text().splitlines()]
    assert len(rows) == NODES
    assert rows[10] == ["10", str(graph.ages[10]), "person-10", "true"] and rows[11][3] == "false"
    pairs = np.loadtxt(knows, delimiter=",", dtype=np.int64)
    assert pairs.shape == (RELATIONSHIPS, 2) and pairs[0].tolist() == [5, 5]
    assert (pairs[:, 0] == graph.starts).all() and (pairs[:, 1] == graph.ends).all()


def test_csv_files_are_written_again_after_a_new_run(graph):
    nodes, knows = graph.csv_files()
    pathlib.Path(knows).write_text("0,0\n")
    assert graph.csv_files() and pathlib.Path(knows).read_text() == "0,0\n"  # same run: reused
    old = os.path.getmtime(graph.path("relationships.i32")) - 10
    os.utime(knows, (old, old))  # graph-bench wrote the binary files after this CSV
    graph.csv_files()
    assert len(pathlib.Path(knows).read_text().splitlines()) == RELATIONSHIPS
