"""One ruvector-server for a benchmark: started on a free loopback port over a data directory,
ready once it says where it listens, measured (CPU seconds) and stopped. Shared by the benchmark
scripts that drive a single server; import it by path:

    sys.path.insert(0, str(ROOT / "Benchmarks"))
    from bench_server import BenchServer

    with BenchServer(ROOT / ".build/release/ruvector-server", data_dir, log=work / "server.log",
                     args=["--response-compression", "off"]) as server:
        client = ruvector.Client(server.address)
        ...
        print(server.cpu_seconds())

The port is the server's own choice (`--listen 127.0.0.1:0`, read back from its "listening on
HOST:PORT" line), so no other process can take it between a probe and the bind. Collections are
opened (snapshots loaded, logs replayed) before the server listens, so `start_seconds` is what a
restart on existing data costs.
"""
from __future__ import annotations

import os
import pathlib
import re
import select
import signal
import subprocess
import threading
import time
from typing import Callable, Sequence

LISTENING = re.compile(r"listening on (\S+):(\d+)")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (0 once it is gone)."""
    try:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BenchServer:
    """A running ruvector-server. Its stderr, and stdout after the listening line, go to `log`
    (appended, so a restart on the same log keeps the whole history); without a log they are
    dropped, and a start that fails says what the server printed."""

    def __init__(self, binary: str | os.PathLike, data_dir: str | os.PathLike, *, log: str | os.PathLike | None = None,
                 args: Sequence[str] = (), start_timeout_seconds: float = 600,
                 preexec_fn: Callable[[], None] | None = None):
        """Starts `binary --listen 127.0.0.1:0 --data-dir data_dir *args` and waits until it
        listens (at most `start_timeout_seconds`: opening large collections takes a while).
        `preexec_fn` runs in the child before exec (e.g. to enter a memory-limited cgroup).
        Raises RuntimeError, with the exit code and the server's last words, if it does not."""
        self.log = pathlib.Path(log) if log is not None else None
        started = time.monotonic()
        log_file = open(self.log, "ab") if self.log is not None else None
        try:
            self.process = subprocess.Popen([str(binary), "--listen", "127.0.0.1:0", "--data-dir", str(data_dir), *args],
                                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                            stderr=log_file if log_file is not None else subprocess.PIPE,
                                            preexec_fn=preexec_fn)
        finally:
            if log_file is not None:
                log_file.close()
        self._drains: list[threading.Thread] = []
        try:
            host, port, early = self._wait_until_listening(start_timeout_seconds)
        except RuntimeError:
            self.stop(timeout_seconds=10)
            raise
        self.start_seconds = time.monotonic() - started
        self.host, self.port = host, port
        self.address = f"{host}:{port}"
        # Keep reading what the server still prints, so a full pipe never blocks it.
        self._drain(self.process.stdout, early)
        if self.process.stderr is not None:
            self._drain(self.process.stderr, b"")

    def _wait_until_listening(self, timeout_seconds: float) -> tuple[str, int, bytes]:
        """Reads stdout (and stderr when no log holds it) until the listening line; returns the
        host, the port and what stdout held after that line."""
        deadline = time.monotonic() + timeout_seconds
        assert self.process.stdout is not None
        out = self.process.stdout.fileno()
        streams = [s for s in (self.process.stdout, self.process.stderr) if s is not None]
        seen = {s.fileno(): b"" for s in streams}
        while streams:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"the server did not listen within {timeout_seconds:.0f} s{self._last_words(seen)}")
            ready, _, _ = select.select(streams, [], [], remaining)
            for stream in ready:
                chunk = os.read(stream.fileno(), 65536)
                if not chunk:
                    streams.remove(stream)
                    continue
                seen[stream.fileno()] += chunk
            text = seen[out]
            for line_end in (m.end() for m in re.finditer(rb"\n", text)):
                match = LISTENING.search(text[:line_end].decode(errors="replace"))
                if match:
                    return match.group(1), int(match.group(2)), text[line_end:]
        try:
            code = self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"the server closed its output without listening{self._last_words(seen)}") from None
        raise RuntimeError(f"the server exited with {code} before listening{self._last_words(seen)}")

    def _last_words(self, seen: dict[int, bytes]) -> str:
        text = b"".join(seen.values()).decode(errors="replace").strip()
        where = f"; see {self.log}" if self.log is not None else ""
        return (f": {text[-2000:]!r}" if text else "") + where

    def _drain(self, stream, already: bytes) -> None:
        def run() -> None:
            sink = open(self.log, "ab") if self.log is not None else None
            try:
                if sink is not None:
                    sink.write(already)
                for chunk in iter(lambda: os.read(stream.fileno(), 65536), b""):
                    if sink is not None:
                        sink.write(chunk)
                        sink.flush()
            finally:
                if sink is not None:
                    sink.close()
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self._drains.append(thread)

    @property
    def pid(self) -> int:
        """The server's process id (for reading /proc)."""
        return self.process.pid

    def cpu_seconds(self) -> float:
        """User + system CPU seconds the server has used so far (0 once it has exited)."""
        return process_cpu_seconds(self.process.pid)

    def stop(self, timeout_seconds: float = 120, kill: bool = False) -> int:
        """SIGTERM (a graceful shutdown: streams drained, the log flushed), then SIGKILL if it has
        not exited within `timeout_seconds`; `kill=True` sends SIGKILL at once (a crash). Returns
        the exit code (negative: the signal that ended it)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_seconds)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for thread in self._drains:
            thread.join(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return self.process.returncode

    def __enter__(self) -> "BenchServer":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
