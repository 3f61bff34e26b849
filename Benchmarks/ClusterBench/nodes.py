"""Member processes of a benchmarked cluster: start, kill -9, start again, stop, CPU time.

Shared by both clusters the benchmark drives (etcd and ruvector-server), so both are started,
killed and measured the same way.
"""
from __future__ import annotations

import asyncio
import pathlib
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from bench_server import process_cpu_seconds  # noqa: E402  (Benchmarks/bench_server.py)


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports that were free when asked (held together, then released)."""
    sockets = []
    try:
        for _ in range(count):
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.bind(("127.0.0.1", 0))
            sockets.append(listener)
        return [listener.getsockname()[1] for listener in sockets]
    finally:
        for listener in sockets:
            listener.close()


class NodeProcess:
    """One member's process. Its stdout and stderr are appended to files in `log_dir`, so a
    restart after a kill (same command, same data directory) keeps the whole history."""

    def __init__(self, name: str, command: list[str], log_dir: pathlib.Path):
        self.name = name
        self.command = command
        self.stdout_path = log_dir / f"{name}.out"
        self.stderr_path = log_dir / f"{name}.err"
        self.process: subprocess.Popen | None = None
        self._stdout_offset = 0

    def start(self) -> None:
        """Starts the process; output from here on is what `wait_for_output` reads."""
        self._stdout_offset = self.stdout_path.stat().st_size if self.stdout_path.exists() else 0
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            # A process group of its own: a Ctrl-C in the terminal reaches the benchmark, which
            # then stops its members itself, rather than killing members mid-write. Not a session
            # of its own: Linux schedules each session as one group (autogroup), so nodes in
            # separate sessions on one machine take turns as groups, and a node's Raft loop waits
            # for its group's turn behind the other nodes' indexing (6-20 leaders per overload run
            # against 1-2 in one session; docs/benchmarks/replication.md). On separate machines a
            # node's threads compete only with each other, as they do in one session here.
            self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                            process_group=0)

    async def wait_for_output(self, pattern: str, timeout_seconds: float) -> re.Match:
        """Waits until the process prints a line matching `pattern` on stdout since its last start."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            with open(self.stdout_path, "rb") as out:
                out.seek(self._stdout_offset)
                match = re.search(pattern, out.read().decode(errors="replace"))
            if match:
                return match
            if not self.running:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode} before printing "
                                   f"{pattern!r}; see {self.stderr_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not print {pattern!r} within {timeout_seconds} s; "
                                   f"see {self.stderr_path}")
            await asyncio.sleep(0.02)

    @property
    def running(self) -> bool:
        """True while the process started last is alive."""
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """kill -9, and reaps it."""
        if self.running:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self, timeout_seconds: float = 15) -> None:
        """SIGTERM, then SIGKILL if it has not exited within `timeout_seconds`."""
        if not self.running:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            self.kill()

    def cpu_seconds(self) -> float:
        """CPU seconds the running process has used (0 when it is not running)."""
        return process_cpu_seconds(self.process.pid) if self.running else 0.0


class Members:
    """The member processes of one cluster, started and stopped together."""

    def __init__(self, nodes: list[NodeProcess]):
        self.nodes = nodes

    def __len__(self) -> int:
        return len(self.nodes)

    def start_all(self) -> None:
        """Starts every member (they find each other on their own)."""
        for node in self.nodes:
            node.start()

    def stop_all(self) -> None:
        """Stops every member still running."""
        for node in self.nodes:
            node.stop()

    def cpu_seconds(self) -> float:
        """CPU seconds of all running members together."""
        return sum(node.cpu_seconds() for node in self.nodes)
