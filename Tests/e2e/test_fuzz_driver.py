"""The fuzz driver's own guarantees (docs/fuzzing.md): each kind of finding stops the run with
its exit status and leaves behind exactly the input that caused it, and a run is repeatable
from its seed. `ruvector-fuzz` is the binary next to the server binary; faults are made on
purpose with its hidden --inject-fault option, at a chosen input of the `filter-json` target
(fast to set up)."""
import os
import pathlib
import signal
import subprocess

import pytest

FUZZ = pathlib.Path(os.environ.get("RUVECTOR_SERVER_BINARY", "")).parent / "ruvector-fuzz"
TARGET = "filter-json"


def fuzz(*args, timeout=120):
    return subprocess.run([str(FUZZ), TARGET, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def test_binary_is_present():
    assert os.access(FUZZ, os.X_OK), f"build ruvector-fuzz first ({FUZZ})"


@pytest.mark.parametrize("fault, status", [
    ("trap", -signal.SIGILL),             # a Swift runtime trap (force unwrap of nil)
    ("stack-overflow", -signal.SIGSEGV),  # caught on the handler's alternate stack
    ("hang", 70),
    ("memory", 71),
    ("invariant", 72),
])
def test_each_finding_leaves_its_input(tmp_path, fault, status):
    findings = tmp_path / "findings"
    at = 37  # past the seed inputs: a mutated input
    run = fuzz("--seconds", 60, "--seed", 5, "--save-crashes", findings, "--rss-limit-mb", 512,
               "--inject-fault", fault, "--fault-at-input", at, "--work-dir", tmp_path)
    # A signal is re-raised to the runtime's backtracer, which exits with the same signal.
    assert run.returncode in (status, 128 - status if status < 0 else status), (run.returncode, run.stderr[-2000:])
    saved = list(findings.iterdir())
    assert len(saved) == 1, saved
    assert saved[0].name.startswith(f"{TARGET}-seed5-") and saved[0].name.endswith(f"-input{at}")
    assert str(saved[0]) in run.stdout + run.stderr
    # The saved bytes are input #37 of seed 5: replaying it without the fault behaves like
    # that input did, and a run stopped just before it draws the same input again.
    replay = fuzz("--replay", saved[0], "--work-dir", tmp_path)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    again = fuzz("--runs", at + 1, "--seed", 5, "--save-crashes", tmp_path / "again", "--work-dir", tmp_path,
                 "--inject-fault", "invariant", "--fault-at-input", at)
    assert again.returncode == 72
    assert (tmp_path / "again" / f"{TARGET}-seed5-finding-input{at}").read_bytes() == saved[0].read_bytes()


def test_a_clean_run_reports_its_rate_and_exits_zero(tmp_path):
    run = fuzz("--runs", 300, "--seed", 9, "--save-crashes", tmp_path / "findings", "--work-dir", tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "300 inputs" in run.stdout and "exec/s" in run.stdout and "no finding" in run.stdout
