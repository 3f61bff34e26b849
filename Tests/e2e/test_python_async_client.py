"""`ruvector.AsyncClient` against the real server, area by area as the sync client's tests
(test_python_client.py): collections, upsert (numpy, lists, UUIDs), get, search (exact results
checked against numpy), streaming search, scroll, count, delete, snapshots, Cypher (whole and
streamed, transactions), errors mapped to the same classes, cancellation of a stream; and
`upload_points` of 20k points in parallel batches from both clients."""
from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, TypeVar

import numpy as np
import pytest

import ruvector
from conftest import RunningServer
from test_python_cluster_client import StartNode, _chain, start_node  # noqa: F401  (start_node: a fixture)

T = TypeVar("T")


def run(server: RunningServer, body: Callable[[ruvector.AsyncClient], Awaitable[T]], **options: Any) -> T:
    """Runs `body` with an AsyncClient to `server` in a fresh event loop."""
    async def main() -> T:
        async with ruvector.AsyncClient(server.address, **{"timeout": 30, **options}) as db:
            return await body(db)
    return asyncio.run(main())


def _dataset(n: int = 500, dim: int = 8, seed: int = 4) -> tuple[np.ndarray, list[dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, dim)).astype(np.float32), [{"lang": ["swift", "c"][i % 2], "i": i} for i in range(n)]


def test_collections_points_search_and_scroll(server: RunningServer) -> None:
    vectors, payloads = _dataset()

    async def body(db: ruvector.AsyncClient) -> None:
        assert not await db.collection_exists("docs")
        info = await db.create_collection("docs", dimension=8, metric="l2")
        assert (info.name, info.dimension, info.metric) == ("docs", 8, "l2")
        assert await db.collection_exists("docs")
        result = await db.upsert("docs", ids=np.arange(250), vectors=vectors[:250], payloads=payloads[:250])
        assert result.points_affected == 250
        await db.upsert("docs", ids=list(range(250, 500)), vectors=vectors[250:].tolist(), payloads=payloads[250:])
        assert (await db.get_collection("docs")).points_count == 500
        assert [c.name for c in await db.list_collections()] == ["docs"]

        query = vectors[7] + 0.01
        truth = np.argsort(((vectors - query) ** 2).sum(axis=1)).tolist()
        hits = await db.search("docs", query, k=5, exact=True)
        assert [h.id for h in hits] == truth[:5] and hits[0].payload == payloads[truth[0]]
        swift = [i for i in truth if payloads[i]["lang"] == "swift"][:3]
        assert [h.id for h in await db.search("docs", query, k=3, exact=True, filter={"lang": "swift"})] == swift
        batch = await db.search_batch("docs", vectors[:3], k=1, exact=True)
        assert [b[0].id for b in batch] == [0, 1, 2]

        async def queries() -> AsyncIterator[np.ndarray]:
            for i in range(0, 500, 50):
                yield vectors[i]
        streamed = [hits async for hits in db.search_stream("docs", queries(), k=1, exact=True)]
        assert [s[0].id for s in streamed] == list(range(0, 500, 50))
        stream = db.search_stream("docs", [vectors[0], vectors[1][:3]], k=1)
        assert (await anext(stream))[0].id == 0
        with pytest.raises(ruvector.InvalidArgument, match="expects 8"):
            await anext(stream)

        records = await db.get("docs", [3, 4, 10_000], with_vectors=True)
        assert [r.id for r in records] == [3, 4] and np.allclose(records[0].vector, vectors[3])
        assert [r.id async for r in db.scroll("docs", page_size=64)] == list(range(500))
        assert await db.count("docs", filter={"lang": "c"}) == 250
        assert await db.delete("docs", ids=[0, 1, 2]) == 3
        assert await db.delete("docs", filter={"lang": "c"}) == 249
        assert await db.count("docs") == 248
        assert await db.delete_collection("docs") == 248
        assert not await db.collection_exists("docs")

    run(server, body)


def test_uuid_ids_import_stream_and_snapshots(server: RunningServer, tmp_path: Path) -> None:
    vectors, payloads = _dataset(n=300, dim=4, seed=6)
    ids = [uuid.UUID(int=i * 7919 + 1) for i in range(300)]

    async def body(db: ruvector.AsyncClient) -> None:
        await db.create_collection("u", dimension=4, metric="l2")
        result = await db.import_stream("u", ((ids[i], vectors[i], payloads[i]) for i in range(300)), batch_size=64)
        assert result.points_affected == 300
        assert (await db.search("u", vectors[42], k=1, exact=True))[0].id == str(ids[42])
        assert [r.id for r in await db.get("u", [ids[5], str(ids[6]).upper()])] == [str(ids[5]), str(ids[6])]
        snapshot = await db.create_snapshot("u")
        assert [s.name for s in await db.list_snapshots("u")] == [snapshot.name]
        path = tmp_path / "u.rvsnap"
        assert await db.download_snapshot("u", snapshot.name, path, chunk_bytes=4096) == snapshot.size_bytes
        assert ruvector.crc32c(path.read_bytes()) == snapshot.crc32c
        restored = await db.restore_snapshot("copy", path, chunk_bytes=5000)
        assert restored.points_count == 300
        assert (await db.search("copy", vectors[42], k=1, exact=True))[0].id == str(ids[42])

    run(server, body)


def test_graph_execute_stream_and_transactions(server: RunningServer) -> None:
    async def body(db: ruvector.AsyncClient) -> None:
        created = await db.graph.execute("CREATE (a:Doc {title: $t})-[:CITES]->(:Doc {title: 'B'}) RETURN a", {"t": "A"})
        assert created.columns == ["a"] and created.summary["nodes_created"] == 2
        assert isinstance(created.rows[0]["a"], ruvector.Node)
        rows = [r async for r in db.graph.stream("UNWIND range(1, 2500) AS i RETURN i", batch_rows=100)]
        assert [r["i"] for r in rows] == list(range(1, 2501))
        async with db.graph.transaction("serializable") as tx:
            await tx.execute("MATCH (d:Doc {title: 'A'}) SET d.seen = true")
            assert (await db.graph.execute("MATCH (d:Doc {seen: true}) RETURN count(d) AS n")).rows == [{"n": 0}]
        assert (await db.graph.execute("MATCH (d:Doc {seen: true}) RETURN count(d) AS n")).rows == [{"n": 1}]
        with pytest.raises(RuntimeError):
            async with db.graph.transaction() as tx:
                await tx.execute("CREATE (:Ghost)")
                raise RuntimeError("the block failed")
        assert (await db.graph.execute("MATCH (g:Ghost) RETURN count(g) AS n")).rows == [{"n": 0}]
        t1, t2 = await db.graph.begin("serializable"), await db.graph.begin("serializable")
        await t1.execute("MATCH (d:Doc {title: 'B'}) SET d.v = 1")
        await t2.execute("MATCH (d:Doc {title: 'B'}) SET d.v = 2")
        await t1.commit()
        with pytest.raises(ruvector.Aborted):
            await t2.commit()
        with pytest.raises(ruvector.InvalidArgument, match="line 1"):
            await db.graph.execute("MATCH (n RETURN n")

        # Cancelling the task that reads a long stream ends the call; the client goes on.
        seen: list[int] = []

        async def consume() -> None:
            async for row in db.graph.stream("UNWIND range(1, 5000000) AS i RETURN i", batch_rows=10):
                seen.append(row["i"])
        task = asyncio.create_task(consume())
        while len(seen) < 20:
            await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert len(seen) < 5_000_000
        assert (await db.graph.execute("RETURN 1 AS one")).rows == [{"one": 1}]

    run(server, body)


def test_errors_map_to_the_same_classes(server: RunningServer) -> None:
    async def body(db: ruvector.AsyncClient) -> None:
        await db.create_collection("docs", dimension=4)
        with pytest.raises(ruvector.AlreadyExists):
            await db.create_collection("docs", dimension=4)
        with pytest.raises(ruvector.NotFound, match="does not exist"):
            await db.search("missing", [0, 0, 0, 1])
        with pytest.raises(ruvector.InvalidArgument, match="expects 4"):
            await db.upsert("docs", ids=[1], vectors=[[1, 2, 3]])
        with pytest.raises(ruvector.FailedPrecondition):
            await db.cluster.state()           # not a cluster node
        with pytest.raises(ValueError, match="metric"):
            await db.create_collection("x", dimension=4, metric="hamming")
        async with ruvector.AsyncClient("127.0.0.1:1", timeout=2, retries=1) as down:
            with pytest.raises(ruvector.Unavailable):
                await down.list_collections()

    run(server, body)


def _points(n: int, dim: int, seed: int) -> list[tuple[int, np.ndarray, dict[str, int]]]:
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return [(i, vectors[i], {"i": i}) for i in range(n)]


def test_upload_points_in_parallel_batches(server: RunningServer) -> None:
    # A sparse graph (m=4) keeps indexing 20k points to seconds on a debug build of the server.
    points = _points(20_000, 16, seed=9)
    with ruvector.Client(server.address, timeout=60) as db:
        db.create_collection("sync", dimension=16, metric="l2", m=4, ef_construction=8)
        result = db.upload_points("sync", iter(points), batch_size=500, parallel=4)
        assert result.points_affected == 20_000 and result.applied
        assert db.count("sync") == 20_000
        assert db.search("sync", points[12_345][1], k=1, exact=True)[0].id == 12_345
        # A bad batch: its error, with the batch it concerns; no batch starts after it.
        bad = points[:1000] + [(99_999, np.zeros(3, dtype=np.float32), {})] + points[1000:3000]
        db.create_collection("bad", dimension=16, metric="l2", m=4, ef_construction=8)
        with pytest.raises(ruvector.InvalidArgument, match="expects 16") as info:
            db.upload_points("bad", bad, batch_size=100, parallel=2)
        assert info.value.batch is not None and info.value.batch.index == 10 and 99_999 in info.value.batch.ids
        assert db.count("bad") <= 3000

    async def body(db: ruvector.AsyncClient) -> None:
        await db.create_collection("async", dimension=16, metric="l2", m=4, ef_construction=8)

        async def source() -> AsyncIterator[tuple[int, np.ndarray, dict[str, int]]]:
            for point in points:
                yield point
        result = await db.upload_points("async", source(), batch_size=500, parallel=4)
        assert result.points_affected == 20_000
        assert await db.count("async") == 20_000
        assert sorted([r.id async for r in db.scroll("async", page_size=5000, with_payload=False)]) == list(range(20_000))
        with pytest.raises(ruvector.InvalidArgument) as info:
            await db.upload_points("async", bad, batch_size=100, parallel=3)
        assert info.value.batch is not None and info.value.batch.index == 10

    run(server, body, timeout=60)


def test_async_cluster_follows_leader_hints(start_node: StartNode) -> None:
    """AsyncCluster against the fake nodes of test_python_cluster_client: same mapping, same hops."""
    first, second, leader = _chain(start_node, 3)

    async def body() -> None:
        async with ruvector.AsyncClient(first.address, timeout=5) as db:
            assert (await db.cluster.leave(5)).answered_by == 3
            state = await db.cluster.state(stale_ok=True)
            assert [(m.node_id, m.role) for m in state.members] == [(1, "voter"), (2, "voter"), (4, "learner")]
    asyncio.run(body())
    for node in (first, second, leader):
        assert [r.method for r in node.received][:1] == ["Leave"]
        assert len({r.peer for r in node.received}) == 1
    assert leader.received[0].request.node_id == 5
