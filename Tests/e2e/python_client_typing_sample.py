# Checked by mypy in test_python_client_typing.py (never run).
"""Uses of the client that must type-check, and mistakes that must not (each marked with the
error mypy must report: an ignore that is not needed fails the check, warn_unused_ignores)."""
import uuid

import numpy as np

import ruvector


def use(db: ruvector.Client) -> None:
    db.upsert("c", ids=[1, "550e8400-e29b-41d4-a716-446655440000", uuid.uuid4()],
              vectors=np.zeros((3, 4), dtype=np.float32))
    db.upsert("c", ids=np.arange(3), vectors=[[0.0] * 4] * 3, payloads=[{"a": 1}, None, {}])
    db.upsert("c", ids=range(2), vectors=[(1, 2), np.ones(2)])
    hits: ruvector.Hits = db.search("c", np.zeros(4), k=3, filter={"lang": "swift"}, timeout=2.5)
    first: int | str = hits[0].id
    records: list[ruvector.Record] = db.get("c", [uuid.uuid4(), 3, first])
    db.upload_points("c", [(1, [0.0, 1.0]), (2, [1.0, 0.0], {"k": "v"}),
                           ruvector.Point(id=uuid.uuid4(), vector=np.zeros(2))], parallel=2)
    exists: bool = db.collection_exists("c")
    batches: list[ruvector.Hits] = db.search_batch("c", np.zeros((2, 4)), k=2, exact=True, ef=32)
    for found in db.search_stream("c", iter([[0.0, 1.0]]), timeout=10):
        print(found.missing_shards, records, exists, batches)
    rows: list[dict[str, object]] = list(db.graph.stream("RETURN 1"))
    print(rows)
    db.search("c", "not a vector")  # type: ignore[arg-type]
    db.get("c", [1.5])  # type: ignore[list-item]
    db.search_batch("c", [[1.0]], k=2, fliter={})  # type: ignore[call-arg]
    db.upsert("c", ids=[1], vectors=[[0.0]], wait="yes")  # type: ignore[arg-type]


async def use_async(db: ruvector.AsyncClient) -> None:
    hits: ruvector.Hits = await db.search("c", [0.0, 1.0], timeout=1)
    async for found in db.search_stream("c", [[0.0]]):
        print(found, hits)
    async for record in db.scroll("c", page_size=10):
        print(record.id)
    count: int = await db.count("c")
    await db.upload_points("c", [(1, [0.0])], parallel=4)
    async with db.graph.transaction() as tx:
        await tx.execute("CREATE ()")
    wrong: str = await db.count("c")  # type: ignore[assignment]
    db.search("c", [0.0])  # type: ignore[unused-coroutine]
    print(count, wrong)
