"""A steady upsert load on a sharded collection, every call recorded, and the check that
acknowledged points survived with their last acknowledged value.

Each write is a small batch of ids of one shard (so a write's outcome is that shard's), with
one payload value `v` unique to the write. Ids belong to one worker, whose writes are
sequential, so "the last acknowledged value" of an id is well defined: every few writes a
worker writes again the ids of its previous write to that shard, with a new value. A write
that failed may still have taken effect (a deadline after the primary logged it, a reset
connection), so an id may end with the value of its last acknowledged write or of any write
attempted after it; an id never acknowledged may also be absent.
"""
from __future__ import annotations

import contextlib
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import ruvector
from harness import Cluster
from load import ClientThreads
from shards import ids_in_shard

#: Each write's deadline: a write stuck on a dead primary must not hide the next one.
CALL_TIMEOUT_SECONDS = 1.0
#: Ids between two workers' ranges (each scans its own range for ids of a shard).
_WORKER_ID_SPAN = 10_000_000
_READ_CHUNK = 500


@dataclass(frozen=True)
class Write:
    """One upsert and what came of it."""
    worker: int
    node_id: int
    shard: int
    ids: tuple[int, ...]
    value: int
    started: float          # time.monotonic()
    finished: float
    ok: bool
    #: The gRPC status name and message when it failed.
    error: str | None = None
    message: str = ""


@dataclass
class Expectation:
    """What an id must hold after the writes: `acknowledged` (the value of its last
    acknowledged write, None if none was) and every value it may hold (`allowed`; None in it
    means absent)."""
    acknowledged: int | None = None
    allowed: set[int | None] = field(default_factory=lambda: {None})


@dataclass(frozen=True)
class Lost:
    """An acknowledged point found without its acknowledged value."""
    point_id: int
    acknowledged: int
    found: int | None       # None: absent


def vector_of(point_id: int, dimension: int) -> list[float]:
    """A fixed vector per id (the tests check payloads, not geometry)."""
    return [((point_id * (k + 3)) % 101) / 101.0 for k in range(dimension)]


class ShardWriteLoad(ClientThreads):
    """`workers` threads upserting batches of `batch` points of one shard at a time (shards in
    turn, from `target_shards`), each through a node `nodes()` picks from at random.

    >>> with ShardWriteLoad(cluster, "c", shards=3, consistency="sync") as load:
    ...     cluster.kill(primary)
    >>> load.first_success_after(killed_at, shard=0)
    """

    def __init__(self, cluster: Cluster, collection: str, shards: int, *, dimension: int = 4, workers: int = 3,
                 batch: int = 4, consistency: str | None = None, min_replicas: int = 0,
                 target_shards: list[int] | None = None, nodes: Callable[[], list[int]] | None = None,
                 rewrite_every: int = 4, first_id: int = 1, seed: int = 0, call_timeout: float = CALL_TIMEOUT_SECONDS,
                 name: str = "point-load"):
        super().__init__(cluster, workers, name, call_timeout)
        self.collection = collection
        self.shards = shards
        self.dimension = dimension
        self.batch = batch
        self.consistency = consistency
        self.min_replicas = min_replicas
        self.target_shards = list(target_shards if target_shards is not None else range(shards))
        self._nodes = nodes or cluster.live_ids
        self.rewrite_every = rewrite_every
        self.first_id = first_id
        self._seed = seed
        self._writes: list[Write] = []
        self._in_call = 0
        self._running = threading.Event()
        self._running.set()
        self._idle = threading.Condition(self._lock)

    # Results

    def writes(self) -> list[Write]:
        """Every write so far, in the order they finished."""
        with self._lock:
            return list(self._writes)

    def successes(self, shard: int | None = None) -> int:
        """Acknowledged writes so far (to `shard`, if given)."""
        return sum(w.ok for w in self.writes() if shard is None or w.shard == shard)

    def first_success_after(self, moment: float, shard: int | None = None) -> Write | None:
        """The first acknowledged write (to `shard`, if given) among those started at or after `moment`."""
        later = [w for w in self.writes() if w.ok and w.started >= moment and (shard is None or w.shard == shard)]
        return min(later, key=lambda w: w.finished, default=None)

    def wait_for_successes(self, count: int, timeout: float, shard: int | None = None) -> None:
        """Waits until `count` more writes (to `shard`, if given) have been acknowledged."""
        target = self.successes(shard) + count
        deadline = time.monotonic() + timeout
        while self.successes(shard) < target:
            if time.monotonic() >= deadline:
                failures = [w.error for w in self.writes()[-10:] if not w.ok]
                raise TimeoutError(f"fewer than {count} writes acknowledged in {timeout} s; last errors: {failures}")
            time.sleep(0.01)

    def error_examples(self) -> dict[str, str]:
        """The first message of each failed status, with the node that answered it."""
        examples: dict[str, str] = {}
        for w in self.writes():
            if not w.ok and w.error not in examples:
                examples[w.error or "?"] = f"node {w.node_id}: {w.message}"
        return examples

    def error_counts(self) -> dict[str, int]:
        """Failed writes by status name."""
        counts: dict[str, int] = {}
        for w in self.writes():
            if not w.ok:
                counts[w.error or "?"] = counts.get(w.error or "?", 0) + 1
        return counts

    @contextlib.contextmanager
    def paused(self, timeout: float | None = None) -> Iterator[None]:
        """No write is in flight inside the block (the workers wait before their next call)."""
        bound = timeout if timeout is not None else self._call_timeout * 4 + 5
        self._running.clear()
        try:
            with self._idle:
                if not self._idle.wait_for(lambda: self._in_call == 0, timeout=bound):
                    raise TimeoutError(f"writes still in flight after {bound} s")
            yield
        finally:
            self._running.set()

    # Workers

    def _work(self, worker: int) -> None:
        rng = random.Random(self._seed * 1000 + worker)
        clients: dict[tuple[int, int], ruvector.Client] = {}
        fresh = {s: self._fresh_ids(worker, s) for s in self.target_shards}
        previous: dict[int, tuple[int, ...]] = {}
        count = 0
        try:
            while not self._stop.is_set():
                if not self._running.wait(timeout=0.05):
                    continue
                shard = self.target_shards[count % len(self.target_shards)]
                count += 1
                rewrite = shard in previous and count % self.rewrite_every == 0
                ids = previous[shard] if rewrite else tuple(next(fresh[shard]) for _ in range(self.batch))
                previous[shard] = ids
                value = worker * 1_000_000_000 + count
                nodes = self._nodes()
                if not nodes:
                    time.sleep(0.01)
                    continue
                node = rng.choice(nodes)
                self._write(worker, self._node_client(clients, node), node, shard, ids, value)
        finally:
            for client in clients.values():
                client.close()

    def _fresh_ids(self, worker: int, shard: int) -> Iterator[int]:
        start = self.first_id + worker * _WORKER_ID_SPAN
        while True:
            found = ids_in_shard(shard, self.shards, start, 64)
            yield from found
            start = found[-1] + 1

    def _write(self, worker: int, client: ruvector.Client, node: int, shard: int, ids: tuple[int, ...], value: int) -> None:
        with self._lock:
            if not self._running.is_set() or self._stop.is_set():
                return
            self._in_call += 1
        started = time.monotonic()
        error, message = None, ""
        try:
            client.upsert(self.collection, list(ids), [vector_of(i, self.dimension) for i in ids], [{"v": value}] * len(ids),
                          consistency=self.consistency, min_replicas=self.min_replicas)
        except ruvector.RuVectorError as failure:
            error, message = failure.code.name, failure.message[:300]
        with self._lock:
            self._writes.append(Write(worker, node, shard, ids, value, started, time.monotonic(), error is None, error,
                                      message))
            self._in_call -= 1
            self._idle.notify_all()


def expectations(writes: list[Write]) -> dict[int, Expectation]:
    """Per id, its last acknowledged value and the values it may hold (see the module's doc).
    Each id is written by one worker, one write at a time, so start order is write order."""
    expected: dict[int, Expectation] = {}
    for write in sorted(writes, key=lambda w: w.started):
        for point_id in write.ids:
            entry = expected.setdefault(point_id, Expectation())
            if write.ok:
                entry.acknowledged = write.value
                entry.allowed = {write.value}
            else:
                entry.allowed.add(write.value)
    return expected


def read_values(client: ruvector.Client, collection: str, ids: list[int], read_from: str = "primary",
                timeout: float = 10.0) -> dict[int, int | None]:
    """Each id's payload value `v` as read through `client` (absent ids are left out)."""
    found: dict[int, int | None] = {}
    for start in range(0, len(ids), _READ_CHUNK):
        chunk = ids[start:start + _READ_CHUNK]
        deadline = time.monotonic() + timeout
        while True:
            try:
                records = client.get(collection, chunk, read_from=read_from)
                break
            except (ruvector.Unavailable, ruvector.DeadlineExceeded):
                # A shard between primaries for a moment; anything else is an answer.
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.1)
        for record in records:
            found[record.id] = (record.payload or {}).get("v")
    return found


def lost_writes(client: ruvector.Client, collection: str, writes: list[Write],
                read_from: str = "primary") -> tuple[list[Lost], int]:
    """Acknowledged points read through `client` that hold neither their last acknowledged
    value nor one a later attempted write may have left; also returns how many were checked."""
    expected = {i: e for i, e in expectations(writes).items() if e.acknowledged is not None}
    found = read_values(client, collection, sorted(expected), read_from)
    lost = [Lost(i, e.acknowledged, found.get(i)) for i, e in sorted(expected.items()) if found.get(i) not in e.allowed]
    return lost, len(expected)


def foreign_values(client: ruvector.Client, collection: str, writes: list[Write],
                   read_from: str = "primary") -> list[tuple[int, int | None]]:
    """Points holding a value none of their writes carried (acknowledged or not): what no
    write mode allows. Points found absent are not counted (see `lost_writes`)."""
    carried: dict[int, set[int]] = {}
    for write in writes:
        for point_id in write.ids:
            carried.setdefault(point_id, set()).add(write.value)
    found = read_values(client, collection, sorted(carried), read_from)
    return [(i, v) for i, v in sorted(found.items()) if v not in carried[i]]
