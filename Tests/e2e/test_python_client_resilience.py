"""The Python clients (sync and asyncio) in production conditions, against a grpcio server that
records what it receives (`recording_server`) and the real server started late: the API key on
every call of every method, never shown; retries of UNAVAILABLE on idempotent calls only, with
growing waits inside the call's deadline; deadlines and cancellation of streaming calls."""
from __future__ import annotations

import asyncio
import inspect
import threading
import time
from typing import Any

import pytest

import ruvector
from conftest import RunningServer, free_ports
from recording_server import Recorder, RecordingServer, wait_until

KEY = "rv-test-key-5f1c"
VEC = [0.0, 0.0, 0.0, 1.0]

#: Every method of a client, with arguments the recording server's empty answers satisfy.
CLIENT_CALLS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "create_collection": (("c", 4), {}),
    "get_collection": (("c",), {}),
    "collection_exists": (("c",), {}),
    "wait_indexed": (("c",), {"timeout": 5}),
    "list_collections": ((), {}),
    "delete_collection": (("c",), {}),
    "upsert": (("c", [1, "550e8400-e29b-41d4-a716-446655440000"], [VEC, VEC]), {}),
    "import_stream": (("c", [(i, VEC) for i in range(5)]), {"batch_size": 2}),
    "upload_points": (("c", [(i, VEC) for i in range(10)]), {"batch_size": 3, "parallel": 2}),
    "get": (("c", [1]), {}),
    "delete": (("c",), {"ids": [1]}),
    "count": (("c",), {}),
    "scroll": (("c",), {}),
    "search": (("c", VEC), {}),
    "search_batch": (("c", [VEC, VEC]), {}),
    "search_stream": (("c", [VEC]), {}),
    "create_snapshot": (("c",), {}),
    "list_snapshots": (("c",), {}),
    "download_snapshot": (("c", "s", "{tmp}/s.rvsnap"), {}),
    "restore_snapshot": (("c",), {"name": "s"}),
}
GRAPH_CALLS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "execute": (("RETURN 1",), {}),
    "stream": (("RETURN 1",), {}),
    "begin": ((), {}),
    "create_hyperedge": (("G", [1, 2, 3]), {}),
    "hyperedges": ((), {}),
    "create_vector_index": (("v", "L", "p", 4), {}),
    "create_index": (("i", "L", "p"), {}),
    "indexes": ((), {}),
    "hybrid_search": (("v", VEC), {}),
}
TRANSACTION_CALLS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "execute": (("RETURN 1",), {}), "commit": ((), {}), "rollback": ((), {})}
CLUSTER_CALLS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "state": ((), {}),
    "shard_status": ((), {}),
    "join": ((4, "127.0.0.1:7004"), {}),
    "leave": ((4,), {}),
    "transfer_leadership": ((2,), {}),
    "update_settings": ((2,), {}),
}
#: Public methods that make no call.
NO_CALL = {"close", "transaction"}


def _public_methods(cls: type) -> set[str]:
    return {n for n, v in inspect.getmembers(cls) if not n.startswith("_") and callable(v)} - NO_CALL


@pytest.mark.parametrize("client_class", [ruvector.Client, ruvector.AsyncClient])
def test_the_call_tables_name_every_public_method(client_class: type) -> None:
    """A method added to a client without an entry here fails: the metadata test covers it then."""
    from ruvector import aio, cluster, graph

    assert _public_methods(client_class) == set(CLIENT_CALLS)
    graph_class, tx_class, cluster_class = ((graph.Graph, graph.Transaction, cluster.Cluster)
                                            if client_class is ruvector.Client else
                                            (aio.AsyncGraph, aio.AsyncTransaction, aio.AsyncCluster))
    assert _public_methods(graph_class) == set(GRAPH_CALLS)
    assert _public_methods(tx_class) == set(TRANSACTION_CALLS)
    assert _public_methods(cluster_class) == set(CLUSTER_CALLS)


def _arguments(args: tuple[Any, ...], tmp: str) -> tuple[Any, ...]:
    return tuple(a.format(tmp=tmp) if isinstance(a, str) and "{tmp}" in a else a for a in args)


def _run_sync(target: Any, table: dict[str, tuple[tuple[Any, ...], dict[str, Any]]], tmp: str) -> None:
    for name, (args, kwargs) in table.items():
        result = getattr(target, name)(*_arguments(args, tmp), **kwargs)
        if inspect.isgenerator(result):
            list(result)


async def _run_async(target: Any, table: dict[str, tuple[tuple[Any, ...], dict[str, Any]]], tmp: str) -> None:
    for name, (args, kwargs) in table.items():
        result = getattr(target, name)(*_arguments(args, tmp), **kwargs)
        if inspect.isawaitable(result):
            await result
        elif hasattr(result, "__aiter__"):
            [item async for item in result]


def _every_call_carried_the_key(recorder: Recorder) -> None:
    methods = {r.method for r in recorder.received}
    # Unary, server-, client- and bidirectional streaming calls of all three services were made.
    assert {"/ruvector.v1.GraphService/Execute", "/ruvector.v1.VectorService/UpsertStream",
            "/ruvector.v1.VectorService/SearchStream", "/ruvector.v1.ClusterService/Join"} <= methods
    assert len(recorder.received) >= len(CLIENT_CALLS) + len(GRAPH_CALLS) + len(CLUSTER_CALLS)
    without = [r.method for r in recorder.received if r.metadata.get("authorization") != f"Bearer {KEY}"]
    assert without == []


def test_sync_client_sends_the_api_key_on_every_call(tmp_path: Any) -> None:
    with RecordingServer() as server, ruvector.Client(server.address, api_key=KEY, timeout=5) as db:
        _run_sync(db, CLIENT_CALLS, str(tmp_path))
        _run_sync(db.graph, GRAPH_CALLS, str(tmp_path))
        _run_sync(db.graph.begin(), TRANSACTION_CALLS, str(tmp_path))
        _run_sync(db.cluster, CLUSTER_CALLS, str(tmp_path))
        _every_call_carried_the_key(server.recorder)


def test_async_client_sends_the_api_key_on_every_call(tmp_path: Any) -> None:
    async def run(address: str) -> None:
        async with ruvector.AsyncClient(address, api_key=KEY, timeout=5) as db:
            await _run_async(db, CLIENT_CALLS, str(tmp_path))
            await _run_async(db.graph, GRAPH_CALLS, str(tmp_path))
            await _run_async(await db.graph.begin(), TRANSACTION_CALLS, str(tmp_path))
            await _run_async(db.cluster, CLUSTER_CALLS, str(tmp_path))

    with RecordingServer() as server:
        asyncio.run(run(server.address))
        _every_call_carried_the_key(server.recorder)


def test_the_key_comes_from_the_environment_and_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder(unavailable_first={"/ruvector.v1.VectorService/CreateCollection": 1})
    with RecordingServer(recorder) as server:
        monkeypatch.setenv("RUVECTOR_API_KEY", KEY)
        with ruvector.Client(server.address, timeout=5) as db:
            db.list_collections()
            with pytest.raises(ruvector.Unavailable) as info:
                db.create_collection("c", 4)
            shown = [repr(db), str(db), repr(db._settings), str(info.value), repr(info.value)]
        with ruvector.Client(server.address, api_key="other-key", timeout=5) as db:
            db.list_collections()
        monkeypatch.delenv("RUVECTOR_API_KEY")
        with ruvector.Client(server.address, timeout=5) as db:
            db.list_collections()
            shown.append(repr(db))
    authorizations = [r.metadata.get("authorization") for r in recorder.received]
    assert authorizations == [f"Bearer {KEY}", f"Bearer {KEY}", "Bearer other-key", None]
    assert "api_key=<set>" in shown[0] and "api_key" not in shown[-1]
    assert not [s for s in shown if KEY in s]
    with pytest.raises(ValueError) as bad:
        ruvector.Client("127.0.0.1:1", api_key="line\nbreak")
    assert "line" not in str(bad.value)


RETRIED = "/ruvector.v1.VectorService/Search"
UPSERT = "/ruvector.v1.VectorService/Upsert"
NOT_RETRIED = {"/ruvector.v1.VectorService/CreateCollection", "/ruvector.v1.VectorService/Delete", UPSERT,
               "/ruvector.v1.GraphService/Execute", "/ruvector.v1.ClusterService/Leave"}


def _flaky() -> Recorder:
    return Recorder(unavailable_first={RETRIED: 2, **{m: 1 for m in NOT_RETRIED}})


def _retries_held(recorder: Recorder) -> None:
    assert recorder.calls_to("VectorService/Search") == 3
    for method in NOT_RETRIED:
        assert recorder.calls_to(method) == 1, method


def test_sync_client_retries_unavailable_on_idempotent_calls_only() -> None:
    with RecordingServer(_flaky()) as server, ruvector.Client(server.address, timeout=10, initial_backoff=0.01) as db:
        db.search("c", VEC)
        for call in (lambda: db.upsert("c", [1], [VEC]), lambda: db.create_collection("c", 4), lambda: db.delete("c", ids=[1]),
                     lambda: db.graph.execute("CREATE ()"), lambda: db.cluster.leave(3)):
            with pytest.raises(ruvector.Unavailable):
                call()
        _retries_held(server.recorder)


def test_async_client_retries_unavailable_on_idempotent_calls_only() -> None:
    async def run(address: str) -> None:
        async with ruvector.AsyncClient(address, timeout=10, initial_backoff=0.01) as db:
            await db.search("c", VEC)
            for call in (lambda: db.upsert("c", [1], [VEC]), lambda: db.create_collection("c", 4), lambda: db.delete("c", ids=[1]),
                         lambda: db.graph.execute("CREATE ()"), lambda: db.cluster.leave(3)):
                with pytest.raises(ruvector.Unavailable):
                    await call()

    with RecordingServer(_flaky()) as server:
        asyncio.run(run(server.address))
        _retries_held(server.recorder)


def test_waits_grow_stay_inside_the_deadline_and_retries_can_be_turned_off() -> None:
    recorder = Recorder(unavailable_first={RETRIED: 100})
    with RecordingServer(recorder) as server:
        with ruvector.Client(server.address, retries=0) as db, pytest.raises(ruvector.Unavailable):
            db.search("c", VEC)
        assert recorder.calls_to("Search") == 1
        # Waits of 0.1-0.2 s then 0.2-0.4 s: at least 0.3 s for three attempts.
        with ruvector.Client(server.address, retries=2, initial_backoff=0.2, max_backoff=5) as db:
            started = time.monotonic()
            with pytest.raises(ruvector.Unavailable):
                db.search("c", VEC)
            assert 0.3 <= time.monotonic() - started < 3
        assert recorder.calls_to("Search") == 4
        # A wait that would pass the deadline is not started: one attempt, raised at once.
        with ruvector.Client(server.address, retries=5, initial_backoff=2, max_backoff=4, timeout=0.5) as db:
            started = time.monotonic()
            with pytest.raises(ruvector.Unavailable):
                db.search("c", VEC)
            assert time.monotonic() - started < 0.5
        assert recorder.calls_to("Search") == 5


def test_a_read_waits_out_a_server_that_starts_late(tmp_path: Any) -> None:
    """The server is down at the first attempt and comes up while the client backs off."""
    port = free_ports(1)[0]
    answer: dict[str, Any] = {}

    def call() -> None:
        with ruvector.Client(f"127.0.0.1:{port}", timeout=30, retries=12, initial_backoff=0.1, max_backoff=1) as db:
            try:
                answer["collections"] = db.list_collections()
            except Exception as error:     # reported below, in the test's thread
                answer["error"] = error

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(0.5)
    assert caller.is_alive(), f"the call ended before the server started: {answer}"
    server = RunningServer(["--listen", f"127.0.0.1:{port}"], tmp_path / "data")
    try:
        caller.join(30)
        assert not caller.is_alive()
        assert answer == {"collections": []}
    finally:
        server.stop()


def test_streams_have_deadlines_and_cancelling_them_reaches_the_server() -> None:
    with RecordingServer(Recorder(endless_execute=True)) as server:
        with ruvector.Client(server.address, stream_timeout=0.3) as db:
            with pytest.raises(ruvector.DeadlineExceeded):
                list(db.graph.stream("UNWIND range(1, 1000000) AS i RETURN i"))
            with ruvector.Client(server.address) as unbounded, pytest.raises(ruvector.DeadlineExceeded):
                list(unbounded.graph.stream("RETURN 1", timeout=0.3))
            server.recorder.stream_cancelled.clear()
            rows = db.graph.stream("RETURN 1", timeout=30)
            assert [next(rows)["i"] for _ in range(3)] == [0, 1, 2]
            rows.close()
            assert server.recorder.stream_cancelled.wait(5), "closing the iterator did not cancel the call"


def test_cancelling_the_task_that_reads_an_async_stream_cancels_the_call() -> None:
    async def run(address: str, recorder: Recorder) -> None:
        async with ruvector.AsyncClient(address, stream_timeout=0.3) as db:
            with pytest.raises(ruvector.DeadlineExceeded):
                [row async for row in db.graph.stream("RETURN 1")]
            recorder.stream_cancelled.clear()
            seen: list[int] = []

            async def consume() -> None:
                async for row in db.graph.stream("RETURN 1", timeout=30):
                    seen.append(row["i"])

            task = asyncio.create_task(consume())
            while len(seen) < 3:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await asyncio.to_thread(recorder.stream_cancelled.wait, 5), "the call outlived its task"
            assert seen[:3] == [0, 1, 2]
            # The client is still usable.
            assert await db.list_collections() == []

    with RecordingServer(Recorder(endless_execute=True)) as server:
        asyncio.run(run(server.address, server.recorder))
    assert wait_until(lambda: server.recorder.stream_cancelled.is_set())
