#!/usr/bin/env bash
# Regenerates the web console's derived files:
#   console/schema.js                           message/enum/method tables from proto/ruvector/v1
#   Sources/RPC/Web/ConsoleFiles.generated.swift  console/ embedded in the server
#   scripts/gen-console.sh          regenerate in place
#   scripts/gen-console.sh --check  fail (exit 1) if the committed output is stale
set -euo pipefail
cd "$(dirname "$0")/.."

# The Python with the protobuf package: $PYTHON, else ./.venv's (scripts/setup.sh), else python3.
if [ -z "${PYTHON:-}" ]; then
    PYTHON=python3
    if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; fi
fi
mapfile -t RUVECTOR_FILES < <(cd proto && ls ruvector/v1/*.proto | LC_ALL=C sort)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
protoc -Iproto --include_imports --descriptor_set_out="$work/descriptors.pb" "${RUVECTOR_FILES[@]}"
mkdir -p "$work/console"
cp console/*.html console/*.js console/*.css "$work/console/"
"$PYTHON" scripts/gen_console.py schema --descriptors "$work/descriptors.pb" --out "$work/console/schema.js"
"$PYTHON" scripts/gen_console.py swift --console-dir "$work/console" --out "$work/ConsoleFiles.generated.swift"

if [ "${1:-}" = "--check" ]; then
    if ! cmp -s "$work/console/schema.js" console/schema.js \
        || ! cmp -s "$work/ConsoleFiles.generated.swift" Sources/RPC/Web/ConsoleFiles.generated.swift; then
        echo "gen-console: generated console files are stale; run scripts/gen-console.sh and commit the result" >&2
        diff "$work/console/schema.js" console/schema.js | head -10 >&2 || true
        diff "$work/ConsoleFiles.generated.swift" Sources/RPC/Web/ConsoleFiles.generated.swift | head -10 >&2 || true
        exit 1
    fi
    echo "gen-console: generated console files are up to date"
    exit 0
fi

cp "$work/console/schema.js" console/schema.js
cp "$work/ConsoleFiles.generated.swift" Sources/RPC/Web/ConsoleFiles.generated.swift
echo "gen-console: regenerated console/schema.js and Sources/RPC/Web/ConsoleFiles.generated.swift"
