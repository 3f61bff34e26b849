"""A short run of the Python client (sync and asyncio) against a server: create, upsert, get,
search, a Cypher query. Run by test_python_protobuf_range.py in the venv with the client's
lowest declared grpcio and protobuf, and in the test venv with the newest pinned ones.

Usage: python python_client_smoke.py HOST:PORT EXPECTED_PROTOBUF_VERSION
"""
import asyncio
import sys

import google.protobuf
import grpc

import ruvector


def sync_run(address: str) -> None:
    with ruvector.Client(address, timeout=30) as db:
        db.create_collection("smoke", dimension=3, metric="l2")
        db.upsert("smoke", ids=[1, 2, 3], vectors=[[0, 0, 1], [0, 1, 0], [1, 0, 0]], payloads=[{"n": i} for i in range(3)])
        assert [h.id for h in db.search("smoke", [0.9, 0.1, 0], k=2, exact=True)] == [3, 2]
        assert db.get("smoke", [2])[0].payload == {"n": 1}
        assert db.graph.execute("UNWIND [1, 2] AS x RETURN x * 10 AS y").rows == [{"y": 10}, {"y": 20}]


async def async_run(address: str) -> None:
    async with ruvector.AsyncClient(address, timeout=30) as db:
        assert await db.collection_exists("smoke")
        await db.upsert("smoke", ids=[4], vectors=[[1, 1, 1]])
        assert [h.id for h in await db.search("smoke", [1, 1, 0.9], k=1, exact=True)] == [4]
        assert [r["i"] async for r in db.graph.stream("UNWIND range(1, 3) AS i RETURN i")] == [1, 2, 3]
        assert await db.count("smoke") == 4


def main() -> None:
    address, expected = sys.argv[1], sys.argv[2]
    assert google.protobuf.__version__ == expected, (google.protobuf.__version__, expected)
    sync_run(address)
    asyncio.run(async_run(address))
    print(f"smoke ok: protobuf {google.protobuf.__version__}, grpcio {grpc.__version__}, ruvector {ruvector.__file__}")


if __name__ == "__main__":
    main()
