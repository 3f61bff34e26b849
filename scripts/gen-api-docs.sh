#!/usr/bin/env bash
# Writes docs/api.md, the API reference, from the comments in proto/ruvector/v1/*.proto
# (protoc's descriptors with source info, read by scripts/gen_api_docs.py).
#   scripts/gen-api-docs.sh          regenerate docs/api.md
#   scripts/gen-api-docs.sh --check  fail (exit 1) if the committed page is stale
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t RUVECTOR_FILES < <(cd proto && ls ruvector/v1/*.proto | LC_ALL=C sort)
PYTHON=python3
if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

protoc -Iproto --include_imports --include_source_info \
    --descriptor_set_out="$work/descriptors.pb" "${RUVECTOR_FILES[@]}"
"$PYTHON" scripts/gen_api_docs.py --descriptors "$work/descriptors.pb" --services Sources/Services \
    --out "$work/api.md"

if [ "${1:-}" = "--check" ]; then
    if ! diff -u docs/api.md "$work/api.md" > "$work/diff" 2>&1; then
        echo "gen-api-docs: docs/api.md is stale; run scripts/gen-api-docs.sh and commit the result" >&2
        head -20 "$work/diff" >&2
        exit 1
    fi
    echo "gen-api-docs: docs/api.md is up to date"
    exit 0
fi

mkdir -p docs
cp "$work/api.md" docs/api.md
echo "gen-api-docs: regenerated docs/api.md"
