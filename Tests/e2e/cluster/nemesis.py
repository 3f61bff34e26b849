"""Random faults on a proxied cluster, from a seeded RNG, one at a time, in a thread.

Each round picks a fault (weighted), applies it, holds it 0.4-1.5 s (`hold_seconds`), undoes
it, and lets the cluster be for 0.2-0.6 s. The faults:

- `kill`: SIGKILL a node (the leader half the time), restart it when the fault ends;
- `pause`: SIGSTOP a node (the leader half the time), SIGCONT when the fault ends;
- `isolate`: black-hole every link of a node (the leader half the time);
- `isolate-follower`: the same for a node that is not the leader, which then falls behind while
  clients can still call it: what exposes reads answered without ReadIndex;
- `bridge`: cut the two links between two nodes only; the third still reaches both;
- `one-way`: black-hole a single directed link;
- `delay`: delay every link of a node by 20-150 ms.

The seed fixes the sequence of fault kinds and durations; which node a fault hits may depend
on who leads at that moment, and the moments on the machine, so a run is not replayed
exactly. Every fault is logged with its times (`log`), so a failing history can be read
beside it.
"""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Callable

from harness import Cluster

#: Relative weights of the faults (see the module's docstring).
DEFAULT_WEIGHTS = {"kill": 2, "pause": 2, "isolate": 2, "isolate-follower": 2, "bridge": 1, "one-way": 1, "delay": 2}
_HOLD_SECONDS = (0.4, 1.5)
_GAP_SECONDS = (0.2, 0.6)
_DELAY_MILLIS = (20, 150)


@dataclass(frozen=True)
class Fault:
    """A fault applied: what, on which nodes, and when (time.monotonic())."""
    kind: str
    nodes: tuple[int, ...]
    started: float
    ended: float | None = None

    def describe(self, origin: float) -> str:
        """One line: the fault with its times in seconds since `origin`."""
        end = "-" if self.ended is None else f"{self.ended - origin:.3f}"
        return f"{self.started - origin:8.3f} .. {end:>8} {self.kind} {list(self.nodes)}"


class Nemesis:
    """Faults on `cluster` in a thread until stop(); stop() leaves every node running and every link healed.

    >>> with Nemesis(cluster, random.Random(seed)) as nemesis:
    ...     time.sleep(20)
    >>> print("\\n".join(f.describe(t0) for f in nemesis.log()))
    """

    def __init__(self, cluster: Cluster, rng: random.Random, weights: dict[str, int] | None = None,
                 hold_seconds: tuple[float, float] = _HOLD_SECONDS):
        self.cluster = cluster
        self.rng = rng
        self.weights = dict(weights or DEFAULT_WEIGHTS)
        #: How long each fault is held (uniform in this range).
        self.hold_seconds = hold_seconds
        unknown = set(self.weights) - set(DEFAULT_WEIGHTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {sorted(DEFAULT_WEIGHTS)}")
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._log: list[Fault] = []
        self._thread = threading.Thread(target=self._run, name="nemesis", daemon=True)
        self._failure: BaseException | None = None

    def start(self) -> "Nemesis":
        """Starts the fault thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ends the current fault, heals every link, resumes and restarts every node; raises
        what the fault thread raised, if anything."""
        self._stop.set()
        self._thread.join(timeout=60)
        if self._thread.is_alive():
            raise RuntimeError("the nemesis thread did not stop")
        self._restore()
        if self._failure is not None:
            raise RuntimeError("the nemesis failed") from self._failure

    def __enter__(self) -> "Nemesis":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def log(self) -> list[Fault]:
        """Every fault so far, in order."""
        with self._lock:
            return list(self._log)

    # The loop

    def _run(self) -> None:
        kinds = sorted(self.weights)
        try:
            while not self._stop.wait(self.rng.uniform(*_GAP_SECONDS)):
                kind = self.rng.choices(kinds, weights=[self.weights[k] for k in kinds])[0]
                nodes, undo = self._apply(kind)
                index = self._record(Fault(kind, nodes, time.monotonic()))
                self._stop.wait(self.rng.uniform(*self.hold_seconds))
                undo()
                with self._lock:
                    fault = self._log[index]
                    self._log[index] = Fault(fault.kind, fault.nodes, fault.started, time.monotonic())
        except BaseException as failure:     # reported by stop(), which the test always calls
            self._failure = failure

    def _record(self, fault: Fault) -> int:
        with self._lock:
            self._log.append(fault)
            return len(self._log) - 1

    def _apply(self, kind: str) -> tuple[tuple[int, ...], Callable[[], None]]:
        """Applies one fault; returns the nodes it hit and how to undo it."""
        cluster = self.cluster
        if kind == "kill":
            node = self._target(prefer_leader=True)
            cluster.kill(node)
            return (node,), lambda: cluster.restart(node)
        if kind == "pause":
            node = self._target(prefer_leader=True)
            cluster.pause(node)
            return (node,), lambda: cluster.resume(node)
        if kind in ("isolate", "isolate-follower"):
            node = self._target(prefer_leader=kind == "isolate", follower=kind == "isolate-follower")
            cluster.isolate(node)
            return (node,), cluster.heal
        if kind == "bridge":
            a, b = self.rng.sample(sorted(cluster.nodes), 2)
            cluster.link(a, b).drop()
            cluster.link(b, a).drop()
            return (a, b), cluster.heal
        if kind == "one-way":
            a, b = self.rng.sample(sorted(cluster.nodes), 2)
            cluster.link(a, b).drop()
            return (a, b), cluster.heal
        node = self._target(prefer_leader=False)
        millis = self.rng.uniform(*_DELAY_MILLIS)
        for other in cluster.nodes:
            if other != node:
                cluster.delay_link(node, other, millis)
                cluster.delay_link(other, node, millis)
        return (node,), cluster.heal

    def _target(self, prefer_leader: bool, follower: bool = False) -> int:
        """A node to hit: the leader half the time with `prefer_leader`, never it with
        `follower`, else any node. Draws the same random numbers whoever leads, so the
        seed fixes the kinds and durations of the faults."""
        coin, draw = self.rng.random(), self.rng.randrange(1 << 30)
        nodes = sorted(self.cluster.nodes)
        leader = self._leader()
        if follower and leader is not None:
            nodes = [i for i in nodes if i != leader]
        elif prefer_leader and leader is not None and coin < 0.5:
            return leader
        return nodes[draw % len(nodes)]

    def _leader(self) -> int | None:
        """The node that says it leads (its own view), if one answers."""
        for i, state in sorted(self.cluster.states().items()):
            if state.leader_id == i:
                return i
        return None

    def _restore(self) -> None:
        for i, node in sorted(self.cluster.nodes.items()):
            if node.paused:
                self.cluster.resume(i)
            if not node.alive:
                self.cluster.restart(i)
        self.cluster.heal()
