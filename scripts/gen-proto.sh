#!/usr/bin/env bash
# Regenerates the wire code from the .proto files:
#   Sources/RuVectorProto/  protoc-c output (C), descriptor blob, C descriptor accessors
#   Sources/Wire/Generated/ Swift message types, validation schemas, reflection index
# Protos: proto/ruvector/v1/*.proto, plus from Debian's grpc-proto package the health,
# reflection (v1, v1alpha) and interop-testing protos.
#   scripts/gen-proto.sh          regenerate in place
#   scripts/gen-proto.sh --check  fail (exit 1) if the committed output is stale
set -euo pipefail
cd "$(dirname "$0")/.."

GRPC_PROTO=/usr/share/grpc-proto
GRPC_FILES=(
    grpc/health/v1/health.proto
    grpc/reflection/v1/reflection.proto
    grpc/reflection/v1alpha/reflection.proto
    grpc/testing/empty.proto
    grpc/testing/messages.proto
    grpc/testing/test.proto
)
mapfile -t RUVECTOR_FILES < <(cd proto && ls ruvector/v1/*.proto 2>/dev/null | LC_ALL=C sort)
PYTHON=python3
if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/c" "$work/RuVectorProto/include" "$work/Generated"

protoc-c -Iproto -I"$GRPC_PROTO" --c_out="$work/c" "${RUVECTOR_FILES[@]}" "${GRPC_FILES[@]}"
protoc -Iproto -I"$GRPC_PROTO" --include_imports --include_source_info \
    --descriptor_set_out="$work/descriptors.pb" "${RUVECTOR_FILES[@]}" "${GRPC_FILES[@]}"

# C target layout: sources beside their proto paths, headers under include/ (the .c files
# include "grpc/.../x.pb-c.h", found through the target's include directory).
(cd "$work/c" && find . -name '*.pb-c.c' | while read -r file; do
    mkdir -p "$work/RuVectorProto/$(dirname "$file")"
    cp "$file" "$work/RuVectorProto/$file"
done)
# Deprecated proto fields stay readable from Swift without warnings: the attribute is
# dropped from the copied headers (a -D flag would not reach clang's module build).
(cd "$work/c" && find . -name '*.pb-c.h' | while read -r file; do
    mkdir -p "$work/RuVectorProto/include/$(dirname "$file")"
    sed 's/ PROTOBUF_C__DEPRECATED//' "$file" > "$work/RuVectorProto/include/$file"
done)

"$PYTHON" scripts/gen_swift_wire.py --descriptors "$work/descriptors.pb" --c-headers "$work/c" \
    --swift-out "$work/Generated" --c-out "$work/RuVectorProto"

if [ "${1:-}" = "--check" ]; then
    stale=0
    diff -r "$work/RuVectorProto" Sources/RuVectorProto >/dev/null 2>&1 || stale=1
    diff -r "$work/Generated" Sources/Wire/Generated >/dev/null 2>&1 || stale=1
    if [ "$stale" -ne 0 ]; then
        echo "gen-proto: generated code is stale; run scripts/gen-proto.sh and commit the result" >&2
        diff -r "$work/RuVectorProto" Sources/RuVectorProto | head -20 >&2 || true
        diff -r "$work/Generated" Sources/Wire/Generated | head -20 >&2 || true
        exit 1
    fi
    echo "gen-proto: generated code is up to date"
    exit 0
fi

rm -rf Sources/RuVectorProto Sources/Wire/Generated
cp -r "$work/RuVectorProto" Sources/RuVectorProto
cp -r "$work/Generated" Sources/Wire/Generated
echo "gen-proto: regenerated Sources/RuVectorProto and Sources/Wire/Generated"
