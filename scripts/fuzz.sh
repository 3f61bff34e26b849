#!/usr/bin/env bash
# Fuzzes the decoders that read hostile bytes (docs/fuzzing.md): builds ruvector-fuzz, then
# runs each target in turn (or several at once with --jobs).
#   scripts/fuzz.sh [--seconds-per-target N] [--targets a,b] [--seed S] [--jobs J] [--libfuzzer]
#     --seconds-per-target  default 3600: at least an hour per target
#     --targets             default every target: http2,http1,protobuf,cypher,filter-json,snapshot,cluster-snapshot,wal,raft,access
#     --seed                default: the current time (printed, so a run can be repeated)
#     --jobs                default 1: how many targets run at the same time (each uses one
#                           core; a target's output is printed whole when it finishes)
#     --libfuzzer           coverage-guided libFuzzer build of the same targets instead of the
#                           seeded mutation driver (a second, instrumented build in .build-libfuzzer)
# Inputs that crash, hang, exhaust memory or break an invariant are left in fuzz-findings/;
# replay one with: $(swift build --show-bin-path)/ruvector-fuzz <target> --replay <file>
# Exit status: 0 when no target found anything, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -d /opt/swift/usr/bin ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi

seconds=3600
targets="http2,http1,protobuf,cypher,filter-json,snapshot,cluster-snapshot,wal,raft,access"
seed="$(date +%s)"
libfuzzer=0
jobs=1
findings="${RUVECTOR_FUZZ_FINDINGS:-fuzz-findings}"
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds-per-target) seconds="$2"; shift 2 ;;
        --targets) targets="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --jobs) jobs="$2"; shift 2 ;;
        --libfuzzer) libfuzzer=1; shift ;;
        *) echo "usage: scripts/fuzz.sh [--seconds-per-target N] [--targets a,b] [--seed S] [--jobs J] [--libfuzzer]" >&2; exit 64 ;;
    esac
done
mkdir -p "$findings"
# A memory finding must stop well below what the machine (and the other jobs on it) can take.
rss_limit_mb="${RUVECTOR_FUZZ_RSS_LIMIT_MB:-2048}"

case "$jobs" in ''|*[!0-9]*|0) echo "--jobs wants a positive number, not '${jobs}'" >&2; exit 64 ;; esac
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

# fuzz_one TARGET: one target's whole run (output to stdout); prints the replay hint and
# returns non-zero on a finding.
if [ "$libfuzzer" -eq 0 ]; then
    # The debug build the tests use (bounds checks and overflow traps on): no second build.
    swift build --product ruvector-fuzz
    fuzzer="$(swift build --show-bin-path)/ruvector-fuzz"
    echo "== fuzzing ${targets} for ${seconds} s each, ${jobs} at a time, seed ${seed}, findings in ${findings}/"
    fuzz_one() {
        local target="$1" status=0
        "$fuzzer" "$target" --seconds "$seconds" --seed "$seed" --save-crashes "$findings" \
            --rss-limit-mb "$rss_limit_mb" || status=$?
        if [ "$status" -ne 0 ]; then
            echo "== ${target}: finding (exit status ${status}); replay: ${fuzzer} ${target} --replay ${findings}/${target}-seed${seed}-*"
        fi
        return "$status"
    }
else
    # libFuzzer: every Swift module instrumented for coverage (-sanitize=fuzzer), libFuzzer's
    # main; the target is chosen by RUVECTOR_FUZZ_TARGET and its seeds are written to a corpus
    # directory first.
    build=(swift build --product ruvector-fuzz --build-path .build-libfuzzer
           -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library -Xswiftc -DRUVECTOR_LIBFUZZER)
    "${build[@]}"
    fuzzer="$("${build[@]}" --show-bin-path)/ruvector-fuzz"
    echo "== libFuzzer on ${targets} for ${seconds} s each, ${jobs} at a time, seed ${seed}, findings in ${findings}/"
    fuzz_one() {
        local target="$1" status=0
        local corpus="${findings}/libfuzzer-corpus-${target}"
        mkdir -p "$corpus"
        RUVECTOR_FUZZ_TARGET="$target" RUVECTOR_FUZZ_SEEDS="$corpus" "$fuzzer" "$corpus" \
            -max_total_time="$seconds" -seed="$seed" -rss_limit_mb="$rss_limit_mb" -timeout=10 \
            -max_len=1048576 -artifact_prefix="${findings}/${target}-libfuzzer-" -print_final_stats=1 || status=$?
        if [ "$status" -ne 0 ]; then
            echo "== ${target}: finding (exit status ${status}); replay: RUVECTOR_FUZZ_TARGET=${target} ${fuzzer} <artifact>"
        fi
        return "$status"
    }
fi

# Targets go to the first free slot; each writes its log and, on a finding, a marker file.
running=0
for target in ${targets//,/ }; do
    if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
    ( fuzz_one "$target" > "${logs}/${target}.log" 2>&1 || touch "${logs}/${target}.failed"
      cat "${logs}/${target}.log" ) &
    running=$((running + 1))
done
wait
failed=()
for target in ${targets//,/ }; do
    if [ -e "${logs}/${target}.failed" ]; then failed+=("$target"); fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "== findings in: ${failed[*]} (inputs in ${findings}/, see docs/fuzzing.md)"
    exit 1
fi
echo "== no finding (seed ${seed})"
