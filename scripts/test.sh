#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing (the Python part while Swift builds),
# builds, checks generated code is fresh, runs the Swift tests, then the end-to-end tests
# against the real server binary.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
# The Debian packages first (the build needs their headers); the Python venvs, mostly downloads,
# install while Swift builds (the checks below and the end-to-end tests need them).
scripts/setup.sh --system
python_log="$(mktemp)"
scripts/setup.sh --python > "$python_log" 2>&1 &
python_setup=$!

echo "== swift build"
swift build --build-tests

python_status=0
wait "$python_setup" || python_status=$?
cat "$python_log"
rm -f "$python_log"
if [ "$python_status" -ne 0 ]; then
    echo "== scripts/setup.sh --python failed (exit ${python_status})"
    exit "$python_status"
fi

if [ -x scripts/gen-proto.sh ]; then
    echo "== generated protobuf code is up to date"
    scripts/gen-proto.sh --check
fi
clients/python/regenerate.sh --check
echo "== docs/api.md matches the .proto comments"
scripts/gen-api-docs.sh --check
echo "== the web console's schema and embedded files are up to date"
scripts/gen-console.sh --check
echo "== swift test"
# The RPC tests time connections on loopback to fractions of a second; beside the engine and
# storage suites, whose synchronous tests hold both threads of Swift's shared pool for tens of
# seconds on 2 cores, their steps waited long enough for the server's timers to fire first.
# They run on their own first (about 4 s), then everything else.
swift test --skip-build --filter RPCTests
swift test --skip-build --skip RPCTests

# Every fuzz target for a few tens of seconds (docs/fuzzing.md), one per core at a time, seeded
# from the commit so a finding can be replayed; scripts/fuzz.sh prints the seed.
fuzz_seed=$(( 16#$(git rev-parse --short=12 HEAD 2>/dev/null || echo 1) ))
echo "== fuzzing (${RUVECTOR_CI_FUZZ_SECONDS:-20} s per target, seed ${fuzz_seed})"
scripts/fuzz.sh --seconds-per-target "${RUVECTOR_CI_FUZZ_SECONDS:-20}" --seed "$fuzz_seed" --jobs "$(nproc 2>/dev/null || echo 1)"

# Two passes (Tests/e2e/conftest.py says which tests are `timed`): the rest on two workers,
# whole files per worker, then the timed ones alone. Both run; either failing fails the suite.
export RUVECTOR_SERVER_BINARY="$(swift build --show-bin-path)/ruvector-server"
echo "== end-to-end tests, not timing-sensitive, two workers (Python grpcio and Ruby interop client against ruvector-server)"
status=0
.venv/bin/python -m pytest -q --durations=15 -n 2 --dist loadfile -m "not timed" Tests/e2e || status=$?
echo "== end-to-end tests, timing-sensitive (clusters, latency bounds), one at a time"
.venv/bin/python -m pytest -q --durations=15 -m timed Tests/e2e || status=$?
exit "$status"
