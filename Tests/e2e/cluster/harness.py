"""Runs ruvector-server clusters on the loopback for end-to-end tests: processes, faults, logs.

`Cluster(3, base_dir=tmp)` picks free ports and starts each node as

    ruvector-server --node-id i --listen 127.0.0.1:P_i --data-dir base/d_i \\
        --cluster 1=127.0.0.1:P_1,2=127.0.0.1:P_2,3=127.0.0.1:P_3 [--peer-routes j=127.0.0.1:PROXY_ij,...]

With `proxied=True` (the default) node i dials node j through its own `LinkProxy` (P_ij), so
`isolate`, `partition` and `delay_link` act on single directed links while clients still reach
every node directly. A node's stdout and stderr go to `base/node-i.log` (appended across
restarts); the `make_cluster` fixture prints the tail of every log when a test fails and
always stops what it started.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Collection, Iterable, Iterator, Sequence, TypeVar

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

import ruvector
from conftest import failed_so_far, free_ports, server_binary
from linkproxy import LinkProxy

HOST = "127.0.0.1"
T = TypeVar("T", bound="SoakResult")
_LISTENING = re.compile(r"ruvector-server listening on (\S+):(\d+)")
#: Per-call bound of the harness's own GetState polls: a paused or cut-off node must not stall them.
POLL_CALL_SECONDS = 0.5
_POLL_INTERVAL_SECONDS = 0.01


class NodeFailed(RuntimeError):
    """A node process exited or never started listening; the message holds its log's tail."""


@dataclass
class Node:
    """One ruvector-server process of a cluster (over its restarts)."""
    node_id: int
    port: int
    data_dir: Path
    log_path: Path
    args: list[str]
    process: subprocess.Popen | None = None
    paused: bool = False
    #: How many times it was started (a restart gets fresh clients).
    starts: int = 0
    #: Where this run's output begins in the log.
    log_offset: int = 0
    _client: ruvector.Client | None = field(default=None, repr=False)

    def client(self) -> ruvector.Client:
        """A client of this node, made again after close_client (each restart)."""
        if self._client is None:
            self._client = ruvector.Client(self.address, timeout=10)
        return self._client

    @property
    def address(self) -> str:
        """HOST:PORT clients and peers use."""
        return f"{HOST}:{self.port}"

    @property
    def alive(self) -> bool:
        """The process runs (possibly paused)."""
        return self.process is not None and self.process.poll() is None

    def close_client(self) -> None:
        """Closes the client, whose channel may be in reconnect backoff after a kill."""
        if self._client is not None:
            self._client.close()
            self._client = None


class Cluster:
    """n ruvector-server processes forming one Raft cluster, with a proxy on each directed link.

    >>> with Cluster(3, base_dir=tmp_path) as cluster:
    ...     cluster.start(); cluster.wait_ready()
    ...     leader = cluster.leader(timeout=2)
    ...     cluster.kill(leader); cluster.leader(timeout=2, excluding={leader})
    """

    def __init__(self, n: int, binary: str | None = None, base_dir: Path | str = ".", proxied: bool = True,
                 extra_args: Sequence[str] = ()):
        if n < 1:
            raise ValueError("a cluster has at least one node")
        self.binary = binary or server_binary()
        self.base_dir = Path(base_dir)
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.proxied = proxied
        self.extra_args = list(extra_args)
        self.proxies: dict[tuple[int, int], LinkProxy] = {}
        self.nodes: dict[int, Node] = {}
        self._stopped = False
        self._used_ports: set[int] = set()
        #: time.monotonic() when wait_ready last saw every running node listening.
        self.ready_at: float | None = None
        ports = dict(zip(range(1, n + 1), self._new_ports(n)))
        cluster_map = ",".join(f"{i}={HOST}:{port}" for i, port in ports.items())
        for i, port in ports.items():
            args = ["--cluster", cluster_map, *self._routes(i, ports)]
            self.nodes[i] = self._node(i, port, args)

    # Processes

    def start(self) -> None:
        """Starts every node that has not been started yet (all at once; see wait_ready)."""
        for node in self.nodes.values():
            if node.process is None:
                self._spawn(node)

    def wait_ready(self, timeout: float = 15.0) -> None:
        """Waits until every running node says it is listening; raises NodeFailed with its log
        if one exits or does not get there in time."""
        deadline = time.monotonic() + timeout
        for node in self.nodes.values():
            if node.alive and not node.paused:
                self._wait_listening(node, deadline)
        self.ready_at = time.monotonic()

    def kill(self, i: int) -> None:
        """SIGKILL: the node dies at once, without flushing or saying goodbye."""
        node = self.nodes[i]
        node.close_client()
        if node.alive:
            node.process.kill()
        if node.process is not None:
            node.process.wait(timeout=10)
        node.paused = False

    def pause(self, i: int) -> None:
        """SIGSTOP: the node freezes (timers, sockets and all) until resume(i)."""
        node = self.nodes[i]
        node.process.send_signal(signal.SIGSTOP)
        node.paused = True

    def resume(self, i: int) -> None:
        """SIGCONT after pause(i)."""
        node = self.nodes[i]
        node.process.send_signal(signal.SIGCONT)
        node.paused = False

    def restart(self, i: int, timeout: float = 15.0) -> None:
        """Starts node i again with the same flags and data directory (killed first with
        SIGKILL if still running) and waits until it listens."""
        node = self.nodes[i]
        if node.alive:
            self.kill(i)
        self._spawn(node)
        self._wait_listening(node, time.monotonic() + timeout)

    def restart_all(self, timeout: float = 15.0) -> None:
        """SIGKILLs every running node, starts them all again at once and waits until they listen."""
        for i in self.nodes:
            self.kill(i)
        for node in self.nodes.values():
            self._spawn(node)
        self.wait_ready(timeout)

    def add_node(self, join_via: int, timeout: float = 15.0) -> int:
        """Starts one more node that joins through node `join_via` (`--join`), with proxies on
        its own outgoing links; returns its id once it listens. The existing nodes dial it
        directly (their routes were fixed when they started)."""
        i = max(self.nodes) + 1
        port = self._new_ports(1)[0]
        ports = {j: n.port for j, n in self.nodes.items()}
        ports[i] = port
        args = ["--join", self.nodes[join_via].address, *self._routes(i, ports)]
        node = self.nodes[i] = self._node(i, port, args)
        self._spawn(node)
        self._wait_listening(node, time.monotonic() + timeout)
        return i

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to every node, SIGKILL to those still running after `timeout` seconds, then
        closes proxies and clients. Safe to call more than once."""
        if self._stopped:
            return
        self._stopped = True
        running = [n for n in self.nodes.values() if n.alive]
        for node in running:
            node.process.terminate()
            if node.paused:
                node.process.send_signal(signal.SIGCONT)    # a stopped process cannot act on SIGTERM
                node.paused = False
        deadline = time.monotonic() + timeout
        for node in running:
            try:
                node.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                node.process.kill()
                node.process.wait(timeout=10)
        for node in self.nodes.values():
            node.close_client()
        failures = []
        for proxy in self.proxies.values():
            try:
                proxy.close()
            except RuntimeError as failure:    # a proxy whose loop died: report it, close the rest
                failures.append(failure)
        if failures:
            raise failures[0]

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, kind, error, traceback) -> None:
        try:
            if error is not None:
                print(self.log_tails())
        finally:
            self.stop()

    # Links (proxied clusters only)

    def link(self, i: int, j: int) -> LinkProxy:
        """The proxy node i dials node j through."""
        try:
            return self.proxies[(i, j)]
        except KeyError:
            raise LookupError(f"the link {i}->{j} is not proxied (proxied=False, or {j} joined after {i} "
                              "started)") from None

    def isolate(self, i: int) -> None:
        """Black-holes every link from and to node i (LinkProxy.drop)."""
        others = [j for j in self.nodes if j != i]
        self._drop([(i, j) for j in others] + [(j, i) for j in others])

    def partition(self, groups: Iterable[Collection[int]]) -> None:
        """Black-holes every link between nodes of different groups; links inside a group stay
        as they are. Nodes in no group form one more group together."""
        group_of: dict[int, int] = {}
        for number, group in enumerate(groups):
            for i in group:
                group_of[i] = number
        side = {i: group_of.get(i, -1) for i in self.nodes}
        self._drop([(i, j) for i in self.nodes for j in self.nodes if i != j and side[i] != side[j]])

    def heal(self) -> None:
        """Every link back to pass-through (connections that lived through a drop are reset)."""
        for proxy in self.proxies.values():
            proxy.heal()

    def delay_link(self, i: int, j: int, millis: float) -> None:
        """Delays the bytes on the link i->j (both ways on that connection) by `millis`."""
        self.link(i, j).delay(millis)

    # Observation

    def live_ids(self) -> list[int]:
        """Nodes running and not paused, ascending."""
        return [i for i, node in sorted(self.nodes.items()) if node.alive and not node.paused]

    def client(self, i: int) -> ruvector.Client:
        """A client of node i (made again after a restart)."""
        return self.nodes[i].client()

    def state(self, i: int, stale_ok: bool = True, timeout: float = POLL_CALL_SECONDS) -> ruvector.ClusterState:
        """Node i's GetState (its own view with stale_ok, else confirmed by the leader)."""
        return self.client(i).cluster.state(stale_ok=stale_ok, timeout=timeout)

    def states(self, stale_ok: bool = True) -> dict[int, ruvector.ClusterState]:
        """GetState of every live node that answers within POLL_CALL_SECONDS."""
        answers = {}
        for i in self.live_ids():
            try:
                answers[i] = self.state(i, stale_ok=stale_ok)
            except ruvector.RuVectorError:
                pass
        return answers

    def leader(self, timeout: float = 5.0, excluding: Collection[int] = (), everyone: bool = False) -> int:
        """Polls every live node's GetState(stale_ok) until a live node not in `excluding`
        says it leads and a majority of the voters it lists name it leader in the same term
        (with `everyone`: every live node does)."""
        deadline = time.monotonic() + timeout
        while True:
            states = self.states()
            agreed = _agreed_leader(states, len(self.nodes), set(excluding))
            if agreed is not None and everyone and not (len(states) == len(self.live_ids()) and all(
                    (s.leader_id, s.term) == (agreed, states[agreed].term) for s in states.values())):
                agreed = None
            if agreed is not None:
                return agreed
            if time.monotonic() >= deadline:
                views = {i: (s.leader_id, s.term) for i, s in states.items()}
                raise TimeoutError(f"no leader agreed within {timeout} s; (leader, term) per node: {views}")
            time.sleep(_POLL_INTERVAL_SECONDS)

    def wait_until(self, predicate: Callable[[], bool], timeout: float, what: str,
                   progress: Callable[[], object] | None = None,
                   interval: float = _POLL_INTERVAL_SECONDS) -> float:
        """Polls `predicate` until true; returns the seconds it took, raises TimeoutError naming
        `what` (and what `progress()` says then). A call failing inside it (RuVectorError: no
        leader yet, node restarting) counts as not yet; the last such failure is in the message."""
        started = time.monotonic()
        last_failure = None
        while True:
            try:
                if predicate():
                    return time.monotonic() - started
            except ruvector.RuVectorError as failure:
                last_failure = failure
            if time.monotonic() - started >= timeout:
                raise TimeoutError(f"{what}: not within {timeout} s; last failure: {last_failure}; "
                                   f"then: {_describe(progress)}")
            time.sleep(interval)

    def log_tail(self, i: int, lines: int = 40) -> str:
        """The last `lines` lines of node i's log (all its runs)."""
        path = self.nodes[i].log_path
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def log_tails(self, lines: int = 40) -> str:
        """Every node's log tail, with a header naming the node and its log file."""
        return "\n".join(f"----- node {i} ({node.log_path}), last {lines} lines -----\n{self.log_tail(i, lines)}"
                         for i, node in sorted(self.nodes.items()))

    # Internals

    def _node(self, i: int, port: int, args: list[str]) -> Node:
        data_dir = self.base_dir / f"d{i}"
        full_args = ["--node-id", str(i), "--listen", f"{HOST}:{port}", "--data-dir", str(data_dir),
                     *args, *self.extra_args]
        return Node(i, port, data_dir, self.base_dir / f"node-{i}.log", full_args)

    def _new_ports(self, count: int) -> list[int]:
        """Free ports no node or proxy of this cluster has used (a killed node's port is free
        while it is down, and must stay its own)."""
        ports: list[int] = []
        while len(ports) < count:
            ports += [p for p in free_ports(count - len(ports)) if p not in self._used_ports and p not in ports]
        self._used_ports.update(ports)
        return ports

    def _routes(self, i: int, ports: dict[int, int]) -> list[str]:
        """Creates the proxies for node i's outgoing links and returns its --peer-routes flag."""
        if not self.proxied:
            return []
        peers = [(j, port) for j, port in sorted(ports.items()) if j != i]
        routes = []
        for (j, port), listen_port in zip(peers, self._new_ports(len(peers))):
            self.proxies[(i, j)] = LinkProxy(listen_port, HOST, port)
            routes.append(f"{j}={HOST}:{listen_port}")
        return ["--peer-routes", ",".join(routes)] if routes else []

    def _spawn(self, node: Node) -> None:
        if self._stopped:
            raise RuntimeError("the cluster was stopped")
        node.close_client()
        node.starts += 1
        command = [self.binary, *node.args]
        with open(node.log_path, "ab") as log:
            log.write(f"===== harness: start {node.starts} of node {node.node_id}: {' '.join(command)}\n".encode())
            log.flush()
            node.log_offset = log.tell()
            node.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        node.paused = False

    def _wait_listening(self, node: Node, deadline: float) -> None:
        while True:
            with open(node.log_path, "rb") as log:
                log.seek(node.log_offset)
                match = _LISTENING.search(log.read().decode(errors="replace"))
            if match:
                if int(match.group(2)) != node.port:
                    raise NodeFailed(f"node {node.node_id} listens on {match.group(2)}, not {node.port}")
                return
            if not node.alive:
                raise NodeFailed(f"node {node.node_id} exited with {node.process.returncode} before listening:\n"
                                 f"{self.log_tail(node.node_id)}")
            if time.monotonic() >= deadline:
                raise NodeFailed(f"node {node.node_id} not listening in time:\n{self.log_tail(node.node_id)}")
            time.sleep(_POLL_INTERVAL_SECONDS)

    def _drop(self, links: list[tuple[int, int]]) -> None:
        proxies = [self.link(i, j) for i, j in links]     # all or nothing: fail before the first drop
        for proxy in proxies:
            proxy.drop()


def _describe(progress: Callable[[], object] | None) -> str:
    if progress is None:
        return "-"
    try:
        return str(progress())
    except ruvector.RuVectorError as failure:
        return f"(could not tell: {failure})"


def _agreed_leader(states: dict[int, ruvector.ClusterState], node_count: int, excluding: set[int]) -> int | None:
    """The node that claims leadership and is named leader, in its term, by a majority of its voters."""
    for i, own in states.items():
        if own.leader_id != i or i in excluding:
            continue
        voters = own.voters or list(range(1, node_count + 1))
        agreeing = [j for j in voters if j in states and states[j].leader_id == i and states[j].term == own.term]
        if len(agreeing) >= len(voters) // 2 + 1:
            return i
    return None


@pytest.fixture
def make_cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Cluster]]:
    """`make_cluster(n=3, **Cluster kwargs)`: a started cluster whose nodes all listen. Every
    cluster made is stopped at the end; when the test failed, every node's log tail is printed."""
    made: list[Cluster] = []

    def make(n: int = 3, **kwargs) -> Cluster:
        cluster = Cluster(n, base_dir=tmp_path / f"cluster-{len(made) + 1}", **kwargs)
        made.append(cluster)
        cluster.start()
        cluster.wait_ready()
        return cluster

    yield make
    for cluster in made:
        if failed_so_far(request.node):
            print(cluster.log_tails())
        cluster.stop()


def soak_requested() -> bool:
    """RUVECTOR_CLUSTER_SOAK=1 asks for the long variants."""
    return os.environ.get("RUVECTOR_CLUSTER_SOAK") == "1"


@dataclass
class SoakResult:
    """What one linearizability soak run produced: its seed, history file, the checker's exit code
    and verdict, counts of outcomes and the faults applied."""
    seed: int
    history: Path
    verdict_code: int
    verdict: str
    counts: dict[str, int]
    faults: list[str]


def soak_seed(attempt: int = 0) -> int:
    """RUVECTOR_CLUSTER_SEED (plus `attempt`), else a fresh random seed."""
    base = os.environ.get("RUVECTOR_CLUSTER_SEED")
    return (int(base) if base else int.from_bytes(os.urandom(4), "little")) + attempt


def soak_seconds(default: float) -> float:
    """How long an on-demand soak runs: RUVECTOR_CLUSTER_SOAK_SECONDS, else `default`."""
    seconds = os.environ.get("RUVECTOR_CLUSTER_SOAK_SECONDS")
    return float(seconds) if seconds else default


def caught_planted_bug(make_cluster: Callable[..., Cluster], soak: Callable[[Cluster, int], T], attempts: int) -> T:
    """Runs `soak(cluster, seed)` on a fresh 3-node cluster, with the seed soak_seed() gives and
    then the next ones, until its result's `verdict_code` is not 0 (the checker caught the
    planted bug), `attempts` times at most (a soak may happen to meet no stale read); returns
    that result, or fails naming every seed and verdict."""
    base = soak_seed()
    results = []
    for attempt in range(attempts):
        cluster = make_cluster(3)
        try:
            results.append(soak(cluster, base + attempt))
        finally:
            cluster.stop()
        if results[-1].verdict_code != 0:
            break
    last = results[-1]
    assert (last.verdict_code, last.verdict.split(":")[0]) == (1, "not linearizable"), (
        f"the planted bug was not caught in {len(results)} runs (seeds {[r.seed for r in results]}): "
        f"{[r.verdict for r in results]}")
    return last


def collection_names(state: ruvector.ClusterState) -> set[str]:
    """The names of the collections a ClusterState lists."""
    return {c.name for c in state.collections}


def cluster_service_serving(cluster: Cluster, i: int) -> bool:
    """Whether node i's grpc.health.v1 Check for ruvector.v1.ClusterService says SERVING
    (the node knows a leader)."""
    with grpc.insecure_channel(cluster.nodes[i].address) as channel:
        answer = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="ruvector.v1.ClusterService"), timeout=POLL_CALL_SECONDS * 4)
    return answer.status == health_pb2.HealthCheckResponse.SERVING
