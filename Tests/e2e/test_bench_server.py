"""The benchmarks' server launcher (Benchmarks/bench_server.py): the real server when
RUVECTOR_SERVER_BINARY names one, and stand-in scripts for the ways a start or a stop goes wrong.

    RUVECTOR_SERVER_BINARY=.build/debug/ruvector-server \
        .venv/bin/python -m pytest -q -p no:cacheprovider Tests/e2e/test_bench_server.py
"""
import os
import pathlib
import stat
import sys
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "Benchmarks"))
from bench_server import BenchServer  # noqa: E402

BINARY = os.environ.get("RUVECTOR_SERVER_BINARY")


def stand_in(tmp_path: pathlib.Path, body: str) -> pathlib.Path:
    """A shell script taking the server's arguments and doing `body` instead."""
    script = tmp_path / "server.sh"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.mark.skipif(not BINARY, reason="RUVECTOR_SERVER_BINARY is not set")
def test_real_server_starts_serves_and_stops(tmp_path: pathlib.Path) -> None:
    import grpc
    log = tmp_path / "server.log"
    with BenchServer(BINARY, tmp_path / "data", log=log, args=["--log-level", "info"]) as server:
        assert server.host == "127.0.0.1" and server.port > 0 and server.start_seconds > 0
        with grpc.insecure_channel(server.address) as channel:
            grpc.channel_ready_future(channel).result(timeout=10)
        assert server.cpu_seconds() >= 0
        code = server.stop()
    assert code == 0, log.read_text()
    assert server.cpu_seconds() == 0


def test_lines_before_the_listening_line_are_skipped(tmp_path: pathlib.Path) -> None:
    script = stand_in(tmp_path, 'echo "starting"; echo "ruvector-server listening on 127.0.0.1:4321"; exec sleep 30')
    with BenchServer(script, tmp_path / "data") as server:
        assert server.address == "127.0.0.1:4321"


def test_output_after_listening_never_blocks_the_server(tmp_path: pathlib.Path) -> None:
    # 1 MB on each stream after the listening line: more than a pipe holds.
    script = stand_in(tmp_path, 'echo "listening on 127.0.0.1:1"; head -c 1000000 /dev/zero; '
                                'head -c 1000000 /dev/zero >&2; echo done > "$4/done"; exec sleep 30')
    (tmp_path / "data").mkdir()
    with BenchServer(script, tmp_path / "data", log=tmp_path / "log"):
        deadline = time.monotonic() + 10
        while not (tmp_path / "data" / "done").exists():
            assert time.monotonic() < deadline, "the stand-in blocked on a full pipe"
            time.sleep(0.05)
    assert (tmp_path / "log").stat().st_size == 2_000_000


def test_a_server_that_exits_says_why(tmp_path: pathlib.Path) -> None:
    script = stand_in(tmp_path, 'echo "error: the data directory is locked" >&2; exit 3')
    with pytest.raises(RuntimeError, match=r"exited with 3 before listening.*data directory is locked"):
        BenchServer(script, tmp_path / "data")


def test_a_server_that_never_listens_is_stopped(tmp_path: pathlib.Path) -> None:
    script = stand_in(tmp_path, 'echo "$$" > "$4/pid"; exec sleep 30')
    (tmp_path / "data").mkdir()
    with pytest.raises(RuntimeError, match=r"did not listen within 1 s"):
        BenchServer(script, tmp_path / "data", start_timeout_seconds=1)
    pid = int((tmp_path / "data" / "pid").read_text())
    assert not pathlib.Path(f"/proc/{pid}").exists()


def test_stop_kills_a_server_that_ignores_sigterm(tmp_path: pathlib.Path) -> None:
    script = stand_in(tmp_path, "trap '' TERM; echo 'listening on 127.0.0.1:1'; while true; do sleep 1; done")
    server = BenchServer(script, tmp_path / "data")
    started = time.monotonic()
    assert server.stop(timeout_seconds=1) == -9
    assert time.monotonic() - started < 5
