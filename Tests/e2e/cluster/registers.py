"""Clients that use a few points of a sharded collection as registers: write a point's payload
value `v`, read it back; every call recorded as a history for `ruvector-lincheck --format
registers` (the project's linearizability checker, `KeyValueModel` per point).

Each worker thread picks, for every call, a write (half the time) or a read, a key among
`keys` (few, so operations collide) and a live node at random. What a call's answer means:

- write (Upsert of the point with a value no other write uses, in the collection's write mode):
  success `write KEY VALUE`; INVALID_ARGUMENT proves nothing was written (left out, as a
  comment); any other error may come after the primary logged the write, so its outcome is
  unknown: the line returns at `inf`;
- read (Get from the shard's primary; with `stale_reads`, half the reads are Get with
  read_from=any, answered by the called node's own copy): the value read, or `absent`; a read
  that fails is left out.

Times are `time.monotonic_ns()` since the clients were made, taken before the request is sent
and after the answer arrived, so each interval holds the real one.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path

import grpc

import ruvector
from harness import Cluster
from load import ClientThreads

#: Each call's deadline.
CALL_TIMEOUT_SECONDS = 1.0
#: A read that found nothing, in the history.
ABSENT = "absent"


@dataclass(frozen=True)
class Entry:
    """One operation of the history (a line of the file), or a refused write (`ok` False)."""
    client: int
    call_ns: int
    #: None when the outcome is unknown (written `inf`).
    return_ns: int | None
    op: str              # write or read
    key: int
    value: str
    node_id: int
    #: False for a write refused before anything was written (a comment in the file).
    ok: bool = True
    #: A read answered by the called node's copy (read_from=any), the planted bug's reads.
    any_copy: bool = False
    #: The status name of a failed call.
    note: str = ""

    def line(self) -> str:
        """The entry in ruvector-lincheck's register format."""
        returned = "inf" if self.return_ns is None else str(self.return_ns)
        text = f"{self.client} {self.call_ns} {returned} {self.op} p{self.key} {self.value}"
        if not self.ok:
            return f"# {text} node {self.node_id} {self.note}: no effect, left out"
        source = " read_from any" if self.any_copy else ""
        return f"{text} # node {self.node_id}{source} {self.note}".rstrip()


class RegisterClients(ClientThreads):
    """`workers` threads writing and reading the points `keys` of `collection` until stop().

    >>> with RegisterClients(cluster, "registers", [3, 8, 11], seed=7) as clients:
    ...     time.sleep(30)
    >>> clients.write_history(path)
    """

    def __init__(self, cluster: Cluster, collection: str, keys: list[int], *, dimension: int = 2, workers: int = 5,
                 seed: int = 0, stale_reads: bool = False):
        super().__init__(cluster, workers, "registers", CALL_TIMEOUT_SECONDS)
        self.collection = collection
        self.keys = list(keys)
        self.dimension = dimension
        self.stale_reads = stale_reads
        self.origin_ns = time.monotonic_ns()
        self._seed = seed
        self._entries: list[Entry] = []
        self._failed_reads = 0

    def entries(self) -> list[Entry]:
        """Every operation so far (refused writes included), in the order they finished."""
        with self._lock:
            return list(self._entries)

    def final_read(self, node_id: int, timeout: float = 5.0) -> dict[int, str]:
        """Reads every key from its primary through node `node_id`, recorded as one more
        client's reads (after the faults, so the checker sees where every key ended)."""
        client = self.cluster.client(node_id)
        values = {}
        for key in self.keys:
            call = self._now()
            records = client.get(self.collection, [key], read_from="primary")
            values[key] = _value(records)
            self._record(Entry(self._workers, call, self._now(), "read", key, values[key], node_id))
        return values

    def counts(self) -> dict[str, int]:
        """Operations by kind and outcome (`read-failed`: reads left out)."""
        counts: dict[str, int] = {}
        for entry in self.entries():
            kind = f"{entry.op}-{'unknown' if entry.return_ns is None else 'ok' if entry.ok else 'refused'}"
            if entry.any_copy:
                kind += "-any"
            counts[kind] = counts.get(kind, 0) + 1
        with self._lock:
            counts["read-failed"] = self._failed_reads
        return counts

    def write_history(self, path: Path, header: str = "", keep=lambda entry: True) -> Path:
        """Writes the history (the entries `keep` accepts) in ruvector-lincheck's register
        format; returns `path`."""
        lines = [f"# {line}" for line in header.splitlines()]
        lines.append("# client call_ns return_ns op key value")
        lines += [entry.line() for entry in sorted(self.entries(), key=lambda e: e.call_ns) if keep(entry)]
        path.write_text("\n".join(lines) + "\n")
        return path

    # Workers

    def _work(self, worker: int) -> None:
        rng = random.Random(self._seed * 1000 + worker)
        clients: dict[tuple[int, int], ruvector.Client] = {}
        written = 0
        try:
            while not self._stop.is_set():
                live = self.cluster.live_ids()
                if not live:
                    time.sleep(0.01)
                    continue
                node_id = rng.choice(live)
                client = self._node_client(clients, node_id)
                key = rng.choice(self.keys)
                if rng.random() < 0.5:
                    written += 1
                    self._write(worker, node_id, client, key, worker * 1_000_000 + written)
                else:
                    self._read(worker, node_id, client, key, any_copy=self.stale_reads and rng.random() < 0.5)
        finally:
            for client in clients.values():
                client.close()

    def _write(self, worker: int, node_id: int, client: ruvector.Client, key: int, value: int) -> None:
        call = self._now()
        try:
            client.upsert(self.collection, [key], [[float(value % 1000)] * self.dimension], [{"v": value}])
        except ruvector.RuVectorError as failure:
            refused = failure.code == grpc.StatusCode.INVALID_ARGUMENT
            self._record(Entry(worker, call, self._now() if refused else None, "write", key, str(value), node_id,
                               ok=not refused, note=failure.code.name))
            return
        self._record(Entry(worker, call, self._now(), "write", key, str(value), node_id))

    def _read(self, worker: int, node_id: int, client: ruvector.Client, key: int, any_copy: bool) -> None:
        call = self._now()
        try:
            records = client.get(self.collection, [key], read_from="any" if any_copy else "primary")
        except ruvector.RuVectorError:
            with self._lock:
                self._failed_reads += 1
            return
        self._record(Entry(worker, call, self._now(), "read", key, _value(records), node_id, any_copy=any_copy))

    def _record(self, entry: Entry) -> None:
        with self._lock:
            self._entries.append(entry)

    def _now(self) -> int:
        return time.monotonic_ns() - self.origin_ns


def _value(records: list[ruvector.Record]) -> str:
    """A Get's answer for one id: its payload value, or ABSENT."""
    if not records:
        return ABSENT
    return str((records[0].payload or {}).get("v"))
