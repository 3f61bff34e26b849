"""The benchmarks, the storage crash harness and ruvector-lincheck parse their command lines with
swift-argument-parser (issue 23): each answers `--help` with its one-line overview and exit 0, and
refuses an unknown option or a bad value with exit 64 before doing any work. The binaries are the
ones `swift build --build-tests` puts beside the server binary (RUVECTOR_SERVER_BINARY)."""
import os
import pathlib
import subprocess

import pytest

BIN = pathlib.Path(os.environ.get("RUVECTOR_SERVER_BINARY", "")).parent

# (binary and subcommand, the arguments it requires, arguments the parser must refuse); each
# command is named as in docs/benchmarks, so a renamed option fails here as well as there.
COMMANDS: list[tuple[list[str], list[str], list[str]]] = [
    (["raft-bench"], [], ["--batch", "0"]),
    (["vector-bench"], [], ["--cache", "2"]),
    (["vector-build-scaling"], [], ["--sizes", "1000,x"]),
    (["storage-bench"], [], ["--quantization", "pq9"]),
    (["graph-bench"], [], ["--nodes", "10", "--docs", "11"]),
    (["search-rpc-bench"], ["--queries", "q.f32", "--dim", "8"], ["--dim", "8"]),  # --queries missing
    (["route-bench", "digits"], ["--train", "a.csv", "--test", "b.csv"], ["--test", "b.csv"]),  # --train missing
    (["route-bench", "latency"], [], ["--iterations", "many"]),
    (["route-bench", "workload"], [], ["--seeds", "1,two"]),
    (["learn-bench"], [], ["--head", "transformer"]),
    (["ruvector-storage-crash-harness"], ["/tmp/unused", "1"], ["/tmp/unused"]),  # FIRST_ID missing
    (["ruvector-lincheck"], ["history.txt"], ["--format", "json", "history.txt"]),
]
NAMES = [" ".join(command) for command, _, _ in COMMANDS]


def run(command: list[str], *args: str) -> subprocess.CompletedProcess:
    """Runs a built binary with `args`; none of these cases does any work, so 30 s is generous."""
    binary = BIN / command[0]
    assert os.access(binary, os.X_OK), f"{binary} not built: swift build --build-tests builds it beside ruvector-server"
    return subprocess.run([str(binary), *command[1:], *args], capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("command, required, bad", COMMANDS, ids=NAMES)
def test_help_exits_zero_with_an_overview(command: list[str], required: list[str], bad: list[str]) -> None:
    done = run(command, "--help")
    assert done.returncode == 0, done.stderr
    assert "OVERVIEW: " in done.stdout and f"USAGE: {' '.join(command)}" in done.stdout, done.stdout


@pytest.mark.parametrize("command, required, bad", COMMANDS, ids=NAMES)
def test_unknown_option_exits_64(command: list[str], required: list[str], bad: list[str]) -> None:
    done = run(command, *required, "--no-such-option")
    assert done.returncode == 64, (done.stdout, done.stderr)
    assert "Unknown option '--no-such-option'" in done.stderr, done.stderr


@pytest.mark.parametrize("command, required, bad", COMMANDS, ids=NAMES)
def test_bad_value_exits_64_before_any_work(command: list[str], required: list[str], bad: list[str]) -> None:
    done = run(command, *bad)
    assert done.returncode == 64, (done.stdout, done.stderr)
    assert done.stderr.startswith("Error: "), done.stderr
    assert done.stdout == "", done.stdout
