"""The `ruvector` CLI on sharded collections of a real 3-node cluster: create with sharding
options, import through one node and read through the others (from any copy) against numpy
brute force, the shard map (`cluster shards`) and each node's copies (`cluster shard-status`),
and what --consistency changes for a write once a node is down. Helpers from test_cli.py."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from harness import Cluster, make_cluster  # noqa: F401 (make_cluster is a fixture)
from test_cli import assert_hits, brute_force_l2, points, run, run_json

pytestmark = pytest.mark.cluster

SHARDS_HEADER = ["COLLECTION", "SHARD", "PRIMARY", "REPLICAS", "EPOCH", "LAG-RECORDS", "LAG-MS", "PRIMARY-SEQ", "MOVES"]


def _write_jsonl(path: Path, data: np.ndarray) -> Path:
    """One JSON line per row: id i, the row, payload {"i": i}."""
    path.write_text("".join(json.dumps({"id": i, "vector": row.tolist(), "payload": {"i": i}}) + "\n"
                            for i, row in enumerate(data)))
    return path


def _started(make_cluster) -> Cluster:
    """Three unproxied nodes that agree on a leader."""
    cluster = make_cluster(3, proxied=False)
    cluster.leader(timeout=5, everyone=True)
    return cluster


def _shards(node, collection: str) -> list[dict]:
    """`cluster shards --collection NAME --json` through `node`."""
    return run_json("cluster", "shards", "--collection", collection, server=node)


def _failed_over(node, collection: str, dead: int) -> bool:
    """Whether `node`'s own shard map (--stale-ok) names no primary on node `dead`; False
    while it cannot tell (no leader yet)."""
    code, out, _ = run("cluster", "shards", "--collection", collection, "--stale-ok", "--json", server=node)
    return code == 0 and all(s["primary"] != dead for s in json.loads(out))


def test_sharded_collection_through_the_cli(make_cluster, tmp_path: Path) -> None:
    cluster = _started(make_cluster)
    n1, n2, n3 = (cluster.nodes[i] for i in (1, 2, 3))
    info = run_json("collections", "create", "docs", "--dimension", 8, "--metric", "l2", "--shards", 3,
                    "--replication-factor", 2, "--write-consistency", "semi-sync", "--min-replicas", 1, server=n2)
    assert (info["shards"], info["replication_factor"], info["write_consistency"], info["min_replicas"]) == (3, 2, "semi-sync", 1)
    cluster.wait_until(lambda: run("collections", "get", "docs", server=n3)[0] == 0, timeout=5, what="node 3 knows docs")
    _, table, _ = run("collections", "get", "docs", server=n3, check=True)
    assert "shards:            3 x 2 copies" in table and "write consistency: semi-sync, min replicas 1" in table

    data = points(200, 8, seed=18)
    result = run_json("upsert", "--collection", "docs", "--file", _write_jsonl(tmp_path / "p.jsonl", data),
                      "--consistency", "sync", "--batch-size", 64, server=n3)
    assert result["points_affected"] == 200 and "replicas_acknowledged" not in result, "the streamed import does not count replicas"

    # Sync writes are on both copies of every shard when acknowledged: reads from any copy see them all.
    ids = np.arange(200)
    query = points(1, 8, seed=19)[0]
    vector = json.dumps(query.tolist())
    for node in (n1, n2, n3):
        hits = run_json("search", "--collection", "docs", "--vector", vector, "--k", 10, "--exact", "--read-from", "any", server=node)
        assert_hits(hits, *brute_force_l2(data, ids, query, 10))
        assert run_json("count", "--collection", "docs", "--read-from", "any", server=node) == {"count": 200}
    got = run_json("get", "--collection", "docs", "--id", 5, "--id", 150, "--read-from", "any", server=n1)
    assert [(p["id"], p["payload"]) for p in got] == [(5, {"i": 5}), (150, {"i": 150})]
    code, _, err = run("search", "--collection", "docs", "--vector", vector, "--allow-partial", server=n1)
    assert code == 0 and "partial" not in err, "every shard answers"

    shards = _shards(n1, "docs")
    assert [s["shard"] for s in shards] == [0, 1, 2]
    for s in shards:
        assert len(s["replicas"]) == 1 and s["primary"] not in s["replicas"] and {s["primary"], *s["replicas"]} <= {1, 2, 3}
        assert s["epoch"] == 1 and s["primary_sequence"] >= 1 and s["moves_in_progress"] == []
        assert s["replica_lag"] == [{"node": s["replicas"][0], "records": 0, "millis": 0}], s
    _, table, _ = run("cluster", "shards", server=n2, check=True)
    lines = table.splitlines()
    assert lines[0].split() == SHARDS_HEADER and len(lines) == 4
    for line, s in zip(lines[1:], shards):
        assert line.split() == ["docs", str(s["shard"]), str(s["primary"]), str(s["replicas"][0]), "1", "0", "0",
                                str(s["primary_sequence"]), "-"]
    code, _, err = run("cluster", "shards", "--collection", "nope", server=n1)
    assert code == 1 and "no collection 'nope'" in err

    # Each node's own copies: the two copies of a shard hold the same points.
    copies: dict[int, list[tuple[int, dict]]] = {}
    for node in (n1, n2, n3):
        status = run_json("cluster", "shard-status", "--collection", "docs", "--checksums", server=node)
        for copy in status["copies"]:
            copies.setdefault(copy["shard"], []).append((status["node"], copy))
            # Checksums are read with the copy's apply queue drained: everything logged is applied.
            assert copy["applied_sequence"] == copy["last_sequence"] > 0
    for s in shards:
        held = copies[s["shard"]]
        assert {node for node, _ in held} == {s["primary"], *s["replicas"]}
        assert [node for node, copy in held if copy["primary"]] == [s["primary"]]
        assert len({copy["checksum"] for _, copy in held}) == 1 and held[0][1]["checksum"] is not None
    assert sum(copies[s["shard"]][0][1]["points"] for s in shards) == 200
    _, table, _ = run("cluster", "shard-status", server=n1, check=True)
    assert table.splitlines()[0] == "node 1" and table.splitlines()[1].split()[:3] == ["COLLECTION", "SHARD", "ROLE"]

    deleted = run_json("delete", "--collection", "docs", "--id", 5, "--id", 6, "--consistency", "sync", server=n2)
    assert (deleted["points_affected"], deleted["replicas_acknowledged"]) == (2, 1)
    assert run_json("count", "--collection", "docs", server=n3) == {"count": 198}

    # Bad values are refused before anything is sent.
    for args in (["delete", "--collection", "docs", "--id", 7, "--consistency", "fast"],
                 ["count", "--collection", "docs", "--read-from", "nearest"],
                 ["collections", "create", "bad", "--dimension", 8, "--shards", -1],
                 ["upsert", "--collection", "docs", "--file", tmp_path / "p.jsonl", "--min-replicas", -1],
                 ["search", "--collection", "docs", "--vector-file", tmp_path / "p.jsonl", "--allow-partial"]):
        code, _, err = run(*args, server=n1)
        assert code == 64, (args, err)


def test_write_consistency_with_a_replica_down(make_cluster, tmp_path: Path) -> None:
    cluster = _started(make_cluster)
    n1 = cluster.nodes[1]
    run_json("collections", "create", "all", "--dimension", 4, "--metric", "l2", "--shards", 2,
             "--replication-factor", 3, server=n1)
    data = points(40, 4, seed=20)
    run("upsert", "--collection", "all", "--file", _write_jsonl(tmp_path / "p.jsonl", data), "--consistency", "sync",
        server=n1, check=True)

    # With 3 copies on 3 nodes every shard has a copy on node 3. Once its primaries moved
    # elsewhere, each shard has one live replica and one dead.
    before = {s["shard"]: s for s in _shards(n1, "all")}
    cluster.kill(3)
    cluster.wait_until(lambda: _failed_over(n1, "all", dead=3), timeout=10, what="node 3's shards fail over")
    started = time.monotonic()
    code, _, err = run("delete", "--collection", "all", "--id", 1, "--consistency", "sync", "--timeout", 2, server=n1)
    assert code == 1 and "DEADLINE_EXCEEDED" in err, err
    assert time.monotonic() - started >= 1.9, "a sync write waits for the dead replica until the deadline"
    semi = run_json("delete", "--collection", "all", "--id", 2, "--consistency", "semi-sync", "--min-replicas", 1,
                    "--timeout", 5, server=n1)
    assert (semi["points_affected"], semi["replicas_acknowledged"]) == (1, 1)
    quick = run_json("delete", "--collection", "all", "--id", 3, "--consistency", "async", "--timeout", 5, server=n1)
    assert quick["points_affected"] == 1
    result = run_json("upsert", "--collection", "all", "--file", tmp_path / "p.jsonl", "--consistency", "semi-sync",
                      "--min-replicas", 1, server=n1)
    assert result["points_affected"] == 40
    assert run_json("count", "--collection", "all", server=cluster.nodes[2]) == {"count": 40}
    for s in _shards(n1, "all"):
        old = before[s["shard"]]
        assert s["epoch"] == (2 if old["primary"] == 3 else 1) and 3 in s["replicas"], (old, s)
        lag = {entry["node"]: entry for entry in s["replica_lag"]}
        # Node 3 missed the writes made since it died; the live replica had the semi-sync ones.
        assert lag[3]["records"] > 0 and (lag[3]["millis"] is None or lag[3]["millis"] > 0), s
        assert all(entry["records"] == 0 for node, entry in lag.items() if node != 3), s
