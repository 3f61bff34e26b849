"""Shared checks for the adversarial suite (test_adversarial_*.py): what every attack test
asserts about the server once the attack is over.

    with Guard(server) as guard:
        ...attack...
    # leaving the block checks: the process is alive, health answers, a canary client's
    # writes kept succeeding during the attack, the canary's data is intact, and the
    # server's RSS came back near its baseline.

Each number here is a bound the test states, not a measurement it hides: a test that needs
another tolerance passes it explicitly.
"""
import os
import threading
import time

import grpc
import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc

import ruvector

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def rss_bytes(server) -> int:
    """The server process's resident set size, from /proc."""
    with open(f"/proc/{server.process.pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE_BYTES


def cpu_seconds(server) -> float:
    """User + system CPU seconds the server process has used so far (all threads)."""
    with open(f"/proc/{server.process.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_while_idle(server, seconds: float = 1.0) -> float:
    """CPU seconds the server burns over `seconds` of wall time while this test sends nothing:
    after a cancelled or expired call, work that really stopped shows as ~0."""
    before = cpu_seconds(server)
    time.sleep(seconds)
    return cpu_seconds(server) - before


def assert_alive(server):
    assert server.process.poll() is None, (
        "server process died (exit %s):\n%s" % (server.process.returncode, "".join(server.stderr_lines[-40:])))


def assert_healthy(server, timeout: float = 5.0):
    """The process is alive and grpc.health.v1.Health/Check answers SERVING within `timeout`."""
    assert_alive(server)
    with grpc.insecure_channel(server.address) as ch:
        response = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=timeout)
    assert response.status == health_pb2.HealthCheckResponse.SERVING


def wait_for_rss_below(server, limit_bytes: int, timeout: float = 10.0) -> int:
    """Waits until the server's RSS is at most `limit_bytes`; returns the last reading
    (the caller asserts on it, so a failure shows the figure)."""
    deadline = time.monotonic() + timeout
    rss = rss_bytes(server)
    while rss > limit_bytes and time.monotonic() < deadline:
        time.sleep(0.2)
        rss = rss_bytes(server)
    return rss


class Canary:
    """Another client going about its business during an attack: a small collection it
    writes to and reads from on its own channel, every write checked, every latency kept."""

    DIMENSION = 8

    def __init__(self, server, name: str = "canary", points: int = 200):
        self.server = server
        self.name = name
        self.client = ruvector.Client(server.address, timeout=10)
        self.client.create_collection(name, dimension=self.DIMENSION, metric="l2")
        rng = np.random.default_rng(7)
        self.vectors = rng.normal(size=(points, self.DIMENSION)).astype(np.float32)
        self.client.upsert(name, list(range(points)), self.vectors)
        self.next_id = points
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = None

    def start(self, interval: float = 0.05):
        """Writes one point (and reads it back) every `interval` seconds until `stop`."""
        def run():
            rng = np.random.default_rng(11)
            while not self._stop.is_set():
                point = self.next_id
                vector = rng.normal(size=(1, self.DIMENSION)).astype(np.float32)
                started = time.monotonic()
                try:
                    self.client.upsert(self.name, [point], vector)
                    got = self.client.get(self.name, [point])
                    if len(got) != 1:
                        self.failures.append(f"point {point} written but not read back")
                    self.vectors = np.vstack([self.vectors, vector])
                    self.next_id += 1
                except ruvector.RuVectorError as error:
                    self.failures.append(str(error))
                self.latencies.append(time.monotonic() - started)
                self._stop.wait(interval)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)

    def assert_kept_writing(self, max_latency: float = 5.0, min_writes: int = 1):
        assert not self.failures, f"canary writes failed during the attack: {self.failures[:5]}"
        assert len(self.latencies) >= min_writes, f"canary wrote only {len(self.latencies)} times"
        worst = max(self.latencies)
        assert worst <= max_latency, f"a canary write+read took {worst:.2f} s (bound {max_latency} s)"

    def assert_intact(self):
        """Every point the canary wrote is there, with its vector."""
        count = self.client.count(self.name)
        assert count == self.next_id, f"canary has {count} points, wrote {self.next_id}"
        sample = sorted({0, self.next_id // 2, self.next_id - 1})
        got = {r.id: r for r in self.client.get(self.name, sample, with_vectors=True)}
        for i in sample:
            assert i in got, f"canary point {i} is missing"
            np.testing.assert_allclose(np.asarray(got[i].vector, dtype=np.float32), self.vectors[i], rtol=1e-6)

    def close(self):
        self.stop()
        self.client.close()


class Guard:
    """Brackets an attack: records the baseline RSS and runs a canary writer; on exit checks
    the server is alive and healthy, the canary kept writing (each write+read within
    `max_canary_latency` s) and its data is intact, and RSS is back within
    `rss_slack_bytes` of the baseline (waiting up to `rss_timeout` s for it)."""

    def __init__(self, server, *, rss_slack_bytes: int = 256 << 20, rss_timeout: float = 15.0,
                 max_canary_latency: float = 5.0, canary: bool = True):
        self.server = server
        self.rss_slack_bytes = rss_slack_bytes
        self.rss_timeout = rss_timeout
        self.max_canary_latency = max_canary_latency
        self.use_canary = canary
        self.canary = None
        self.baseline_rss = 0
        self.peak_rss = 0
        self._sampling = threading.Event()

    def __enter__(self):
        assert_healthy(self.server)
        if self.use_canary:
            self.canary = Canary(self.server)
        self.baseline_rss = rss_bytes(self.server)
        self.peak_rss = self.baseline_rss

        def sample():
            while not self._sampling.wait(0.1):
                try:
                    self.peak_rss = max(self.peak_rss, rss_bytes(self.server))
                except OSError:
                    return
        threading.Thread(target=sample, daemon=True).start()
        if self.canary:
            self.canary.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        self._sampling.set()
        if self.canary:
            self.canary.stop()
        if exc_type is not None:
            if self.canary:
                self.canary.close()
            return False
        try:
            assert_healthy(self.server)
            if self.canary:
                self.canary.assert_kept_writing(max_latency=self.max_canary_latency)
                self.canary.assert_intact()
            limit = self.baseline_rss + self.rss_slack_bytes
            rss = wait_for_rss_below(self.server, limit, timeout=self.rss_timeout)
            assert rss <= limit, (
                f"server RSS {rss >> 20} MiB after the attack; baseline {self.baseline_rss >> 20} MiB, "
                f"peak {self.peak_rss >> 20} MiB, allowed +{self.rss_slack_bytes >> 20} MiB")
        finally:
            if self.canary:
                self.canary.close()
        return False
