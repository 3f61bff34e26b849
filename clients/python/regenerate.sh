#!/usr/bin/env bash
# Regenerates the committed grpcio stubs (ruvector/v1/*_pb2*.py) from ../../proto.
# --check: exit 1 if the committed stubs differ from what the protos generate (CI runs this).
# The generator is the pinned grpcio-tools of requirements-floor.txt (in the venv floor-venv.sh
# makes): its gencode targets protobuf 5.26.1, so the stubs load on every protobuf from there
# to the newest (a newer grpcio-tools would raise the floor to its own protobuf version).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-$(./floor-venv.sh)}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$PYTHON" -m grpc_tools.protoc -I../../proto --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" \
    ../../proto/ruvector/v1/*.proto
touch "$out/ruvector/v1/__init__.py"
if [ "${1:-}" = "--check" ]; then
    if ! diff -r "$out/ruvector/v1" ruvector/v1 >/dev/null; then
        echo "clients/python: generated stubs are stale; run clients/python/regenerate.sh and commit" >&2
        diff -r "$out/ruvector/v1" ruvector/v1 | head -20 >&2
        exit 1
    fi
    echo "clients/python: generated stubs are up to date"
else
    rm -rf ruvector/v1
    cp -r "$out/ruvector/v1" ruvector/v1
    echo "clients/python: regenerated ruvector/v1"
fi
