"""Clients that create, delete and list collections of a small key space on a cluster, every
call recorded as a history for `ruvector-lincheck` (the project's linearizability checker).

Each worker thread picks, for every call, an operation (read 40 %, create 30 %, delete 30 %),
a key among `keys` (few, so operations collide) and a live node at random. What a call's
answer means for the history:

- create: success `created`, ALREADY_EXISTS `already-exists`; delete: success `deleted`,
  NOT_FOUND `not-found`;
- INVALID_ARGUMENT or FAILED_PRECONDITION: refused before anything was proposed (a follower
  naming the leader, a proposal the Raft node rejected): `fail`, left out of the history;
- any other error (DEADLINE_EXCEEDED, UNAVAILABLE, a reset connection, INTERNAL...): the
  change may have happened, or may still happen: `unknown`, returning at `inf`;
- a GetState read (linearizable unless `stale_reads`) that answers becomes one `read` per key
  of the key space, `present` or `absent`, with the call's times; a read that fails is left out.

Times are `time.monotonic_ns()` since the clients were made, taken before the request is sent
and after the answer arrived, so each interval holds the real one.
"""
from __future__ import annotations

import os
import random
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import grpc

import ruvector
from harness import Cluster
from load import ClientThreads, create_or_delete

#: Each call's deadline.
CALL_TIMEOUT_SECONDS = 1.0
#: Statuses that prove a create or delete had no effect.
_NO_EFFECT = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION}
#: The answer a write may get besides success that still says what happened.
_DEFINITE = {("create", grpc.StatusCode.ALREADY_EXISTS): "already-exists", ("delete", grpc.StatusCode.NOT_FOUND): "not-found"}
_SUCCESS = {"create": "created", "delete": "deleted"}


@dataclass(frozen=True)
class Entry:
    """One operation of the history (a line of the file), or a refused write (`fail`)."""
    client: int
    call_ns: int
    #: None when the outcome is unknown (written `inf`).
    return_ns: int | None
    op: str              # create, delete or read
    key: str
    output: str          # created, already-exists, deleted, not-found, present, absent, unknown, fail
    node_id: int
    #: The status name of a failed call; for a read, the indexes its answer gave.
    note: str = ""

    def line(self) -> str:
        """The entry in ruvector-lincheck's format (a comment for a refused write)."""
        returned = "inf" if self.return_ns is None else str(self.return_ns)
        text = f"{self.client} {self.call_ns} {returned} {self.op} {self.key} {self.output}"
        if self.output == "fail":
            return f"# {text} node {self.node_id} {self.note}: no effect, left out"
        return f"{text} # node {self.node_id} {self.note}".rstrip()


class MembershipClients(ClientThreads):
    """`workers` threads calling the cluster until stop(), recording the history.

    >>> with MembershipClients(cluster, keys, seed=7) as clients:
    ...     time.sleep(20)
    >>> clients.write_history(path)
    """

    def __init__(self, cluster: Cluster, keys: list[str], *, workers: int = 5, seed: int = 0,
                 stale_reads: bool = False):
        super().__init__(cluster, workers, "membership", CALL_TIMEOUT_SECONDS)
        self.keys = list(keys)
        self.stale_reads = stale_reads
        self.origin_ns = time.monotonic_ns()
        self._seed = seed
        self._entries: list[Entry] = []
        self._failed_reads = 0
        #: The leader the last stale answer named: stale reads go to other nodes.
        self._leader_seen = 0

    def entries(self) -> list[Entry]:
        """Every operation so far (refused writes included), in the order they finished."""
        with self._lock:
            return list(self._entries)

    def final_read(self, node_id: int, timeout: float = 5.0) -> set[str]:
        """A linearizable GetState on node `node_id`, recorded as one more client's reads (after
        the faults, so the checker sees where every key ended); returns the names listed."""
        call = self._now()
        state = self.cluster.client(node_id).cluster.state(stale_ok=False, timeout=timeout)
        self._record_read(self._workers, node_id, call, self._now(), state)
        return {c.name for c in state.collections}

    def counts(self) -> dict[str, int]:
        """How many operations ended with each output (`read-failed`: reads left out)."""
        counts: dict[str, int] = {}
        for entry in self.entries():
            counts[entry.output] = counts.get(entry.output, 0) + 1
        with self._lock:
            counts["read-failed"] = self._failed_reads
        return counts

    def write_history(self, path: Path, entries: list[Entry] | None = None, header: str = "") -> Path:
        """Writes the history (or `entries`) in ruvector-lincheck's line format; returns `path`."""
        chosen = self.entries() if entries is None else entries
        lines = [f"# {line}" for line in header.splitlines()]
        lines.append("# client call_ns return_ns op key output")
        lines += [entry.line() for entry in sorted(chosen, key=lambda e: e.call_ns)]
        path.write_text("\n".join(lines) + "\n")
        return path

    # Workers

    def _work(self, worker: int) -> None:
        rng = random.Random(self._seed * 1000 + worker)
        clients: dict[tuple[int, int], ruvector.Client] = {}
        try:
            while not self._stop.is_set():
                op = rng.choices(["read", "create", "delete"], weights=[4, 3, 3])[0]
                key = rng.choice(self.keys)
                node_id = self._pick_node(rng, op)
                if node_id is None:
                    time.sleep(0.01)
                    continue
                client = self._node_client(clients, node_id)
                if op == "read":
                    self._read(worker, node_id, client)
                else:
                    self._write(worker, node_id, client, op, key)
        finally:
            for client in clients.values():
                client.close()

    def _pick_node(self, rng: random.Random, op: str) -> int | None:
        live = self.cluster.live_ids()
        if op == "read" and self.stale_reads:
            followers = [i for i in live if i != self._leader_seen]
            live = followers or live
        return rng.choice(live) if live else None

    def _write(self, worker: int, node_id: int, client: ruvector.Client, op: str, key: str) -> None:
        call = self._now()
        error = create_or_delete(client, op, key)
        returned = self._now()
        if error is None:
            entry = Entry(worker, call, returned, op, key, _SUCCESS[op], node_id)
        elif (op, error) in _DEFINITE:
            entry = Entry(worker, call, returned, op, key, _DEFINITE[(op, error)], node_id, error.name)
        elif error in _NO_EFFECT:
            entry = Entry(worker, call, returned, op, key, "fail", node_id, error.name)
        else:
            entry = Entry(worker, call, None, op, key, "unknown", node_id, error.name)
        with self._lock:
            self._entries.append(entry)

    def _read(self, worker: int, node_id: int, client: ruvector.Client) -> None:
        call = self._now()
        try:
            state = client.cluster.state(stale_ok=self.stale_reads, timeout=CALL_TIMEOUT_SECONDS)
        except ruvector.RuVectorError:
            with self._lock:
                self._failed_reads += 1
            return
        self._record_read(worker, node_id, call, self._now(), state)

    def _record_read(self, worker: int, node_id: int, call: int, returned: int, state: ruvector.ClusterState) -> None:
        # The note keeps the answer's applied index and, for a listed key, the index that created
        # it: a stale answer then shows as applied below an index an earlier answer listed.
        created = {c.name: c.created_index for c in state.collections}
        entries = [Entry(worker, call, returned, "read", key, "present" if key in created else "absent", node_id,
                         f"applied {state.applied_index}" + (f" created {created[key]}" if key in created else ""))
                   for key in self.keys]
        with self._lock:
            self._entries += entries
            if state.leader_id:
                self._leader_seen = state.leader_id

    def _now(self) -> int:
        return time.monotonic_ns() - self.origin_ns


def lincheck_binary() -> str:
    """ruvector-lincheck, built by `swift build` next to the server binary."""
    binary = os.path.join(os.path.dirname(os.environ.get("RUVECTOR_SERVER_BINARY", "")), "ruvector-lincheck")
    if not os.access(binary, os.X_OK):
        raise RuntimeError(f"{binary} not found: `swift build` builds it beside ruvector-server")
    return binary


def lincheck(path: Path, *options: str, timeout: float = 300.0) -> tuple[int, str]:
    """Runs ruvector-lincheck on a history file (with `options`, e.g. "--format", "registers");
    returns its exit code and what it printed."""
    done = subprocess.run([lincheck_binary(), *options, str(path)], capture_output=True, text=True, timeout=timeout)
    return done.returncode, (done.stdout + done.stderr).strip()
