"""A steady metadata write load on a cluster: CreateCollection / DeleteCollection of unique
names, sent to live nodes at random, every call recorded with its outcome and timing."""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass

import grpc

import ruvector

from harness import Cluster

#: Each call's deadline: a call stuck on a dead leader must not hide that the next one succeeds.
CALL_TIMEOUT_SECONDS = 0.5
DIMENSION = 4


@dataclass(frozen=True)
class Op:
    """One write and what came of it."""
    kind: str              # "create" or "delete"
    name: str
    node_id: int
    started: float         # time.monotonic()
    finished: float
    ok: bool
    #: The gRPC status name when it failed.
    error: str | None = None


class ClientThreads:
    """Worker threads calling a cluster until stop(): the part WriteLoad and the soak's
    MembershipClients share. A subclass implements `_work(worker)`, looping until `_stop` is set."""

    def __init__(self, cluster: Cluster, workers: int, name: str, call_timeout: float):
        self.cluster = cluster
        self._workers = workers
        self._name = name
        self._call_timeout = call_timeout
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self):
        """Starts the workers."""
        for worker in range(self._workers):
            thread = threading.Thread(target=self._work, args=(worker,), name=f"{self._name}-{worker}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stops the workers (each finishes its call, bounded by its call timeout)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self._call_timeout * 4 + 5)
            if thread.is_alive():
                raise RuntimeError(f"{thread.name} did not stop")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _work(self, worker: int) -> None:
        raise NotImplementedError

    def _node_client(self, clients: dict[tuple[int, int], ruvector.Client], node_id: int) -> ruvector.Client:
        """A worker's client of node `node_id` (from its own `clients`), made again after the node
        restarted, the old one closed: grpcio shares connections between channels to one address,
        and the old may sit in reconnect backoff."""
        node = self.cluster.nodes[node_id]
        key = (node_id, node.starts)
        if key not in clients:
            for stale in [k for k in clients if k[0] == node_id]:
                clients.pop(stale).close()
            clients[key] = ruvector.Client(node.address, timeout=self._call_timeout)
        return clients[key]


class WriteLoad(ClientThreads):
    """`workers` threads, each creating a uniquely named collection and (with `delete`) deleting
    it again, on a live node chosen at random for every call.

    >>> with WriteLoad(cluster) as load:
    ...     cluster.kill(leader)
    >>> load.first_success_after(kill_time)
    """

    def __init__(self, cluster: Cluster, *, workers: int = 4, delete: bool = True, prefix: str = "load",
                 seed: int = 0):
        super().__init__(cluster, workers, "write-load", CALL_TIMEOUT_SECONDS)
        self.delete = delete
        self.prefix = prefix
        self._seed = seed
        self._ops: list[Op] = []
        self._excluded: set[int] = set()

    def exclude(self, node_id: int) -> None:
        """Sends no more writes to node `node_id` (one removed from the cluster, say)."""
        with self._lock:
            self._excluded.add(node_id)

    def ops(self) -> list[Op]:
        """Every call so far, in the order they finished."""
        with self._lock:
            return list(self._ops)

    def acknowledged(self) -> set[str]:
        """Names that must exist: CreateCollection succeeded and no DeleteCollection was sent
        (a delete that failed may still have been applied: its name is in neither set)."""
        ops = self.ops()
        return _names(ops, "create", ok_only=True) - _names(ops, "delete", ok_only=False)

    def deleted(self) -> set[str]:
        """Names that must not exist: DeleteCollection succeeded."""
        return _names(self.ops(), "delete", ok_only=True)

    def successes(self) -> int:
        """Writes that succeeded so far."""
        return sum(op.ok for op in self.ops())

    def first_success_after(self, moment: float) -> Op | None:
        """The first write to finish successfully among those started at or after `moment`."""
        later = [op for op in self.ops() if op.ok and op.started >= moment]
        return min(later, key=lambda op: op.finished, default=None)

    def wait_for_successes(self, count: int, timeout: float) -> None:
        """Waits until `count` more writes have succeeded."""
        target = self.successes() + count
        deadline = time.monotonic() + timeout
        while self.successes() < target:
            if time.monotonic() >= deadline:
                failures = [op.error for op in self.ops()[-10:] if not op.ok]
                raise TimeoutError(f"fewer than {count} writes succeeded in {timeout} s; last errors: {failures}")
            time.sleep(0.01)

    def _work(self, worker: int) -> None:
        rng = random.Random(self._seed * 1000 + worker)
        clients: dict[tuple[int, int], ruvector.Client] = {}
        sequence = 0
        try:
            while not self._stop.is_set():
                sequence += 1
                name = f"{self.prefix}-{worker}-{sequence}"
                if self._call(rng, clients, "create", name) and self.delete:
                    self._call(rng, clients, "delete", name)
        finally:
            for client in clients.values():
                client.close()

    def _call(self, rng: random.Random, clients: dict[tuple[int, int], ruvector.Client], kind: str,
              name: str) -> bool:
        with self._lock:
            targets = [i for i in self.cluster.live_ids() if i not in self._excluded]
        if not targets:
            time.sleep(0.01)
            return False
        node_id = rng.choice(targets)
        client = self._node_client(clients, node_id)
        started = time.monotonic()
        code = create_or_delete(client, kind, name)
        error = None if code is None else code.name
        with self._lock:
            self._ops.append(Op(kind, name, node_id, started, time.monotonic(), error is None, error))
        return error is None


def create_or_delete(client: ruvector.Client, kind: str, name: str) -> grpc.StatusCode | None:
    """CreateCollection (`kind` "create", DIMENSION, l2) or DeleteCollection of `name`; returns
    the status code it failed with, None when it succeeded."""
    try:
        if kind == "create":
            client.create_collection(name, dimension=DIMENSION, metric="l2")
        else:
            client.delete_collection(name)
    except ruvector.RuVectorError as failure:
        return failure.code
    return None


def _names(ops: list[Op], kind: str, ok_only: bool) -> set[str]:
    return {op.name for op in ops if op.kind == kind and (op.ok or not ok_only)}
