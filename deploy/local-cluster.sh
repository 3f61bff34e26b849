#!/usr/bin/env bash
# A 3-node RuVector cluster on loopback, its data under one folder.
#   deploy/local-cluster.sh start [DIR]    start nodes 1-3 on 127.0.0.1:7001-7003 (DIR default ./local-cluster)
#   deploy/local-cluster.sh status [DIR]   the cluster as node 1 sees it (ruvector cluster status)
#   deploy/local-cluster.sh stop [DIR]     SIGTERM every node, wait until each has stopped
# Binaries: $RUVECTOR_BIN_DIR, else .build/release, else .build/debug (build with `swift build -c release`).
# Ports: RUVECTOR_CLUSTER_BASE_PORT (default 7000: node N listens on base+N).
set -euo pipefail
cd "$(dirname "$0")/.."

command="${1:-}"
dir="${2:-local-cluster}"
base_port="${RUVECTOR_CLUSTER_BASE_PORT:-7000}"
bin_dir="${RUVECTOR_BIN_DIR:-}"
if [ -z "$bin_dir" ]; then
    for candidate in .build/release .build/debug; do
        if [ -x "$candidate/ruvector-server" ]; then bin_dir="$candidate"; break; fi
    done
fi

need_binaries() {
    if [ -z "$bin_dir" ] || [ ! -x "$bin_dir/ruvector-server" ]; then
        echo "local-cluster: no ruvector-server binary; run 'swift build -c release' first (or set RUVECTOR_BIN_DIR)" >&2
        exit 1
    fi
}

members() {
    local list=""
    for id in 1 2 3; do list="${list:+$list,}$id=127.0.0.1:$((base_port + id))"; done
    echo "$list"
}

start() {
    need_binaries
    mkdir -p "$dir"
    local cluster
    cluster="$(members)"
    for id in 1 2 3; do
        if [ -f "$dir/node$id.pid" ] && kill -0 "$(cat "$dir/node$id.pid")" 2>/dev/null; then
            echo "local-cluster: node $id is already running (pid $(cat "$dir/node$id.pid"))" >&2
            exit 1
        fi
        "$bin_dir/ruvector-server" --node-id "$id" --listen "127.0.0.1:$((base_port + id))" \
            --data-dir "$dir/node$id" --cluster "$cluster" >"$dir/node$id.out" 2>"$dir/node$id.log" &
        echo $! >"$dir/node$id.pid"
    done
    for id in 1 2 3; do
        for _ in $(seq 1 100); do
            grep -q "listening on" "$dir/node$id.out" 2>/dev/null && break
            if ! kill -0 "$(cat "$dir/node$id.pid")" 2>/dev/null; then
                echo "local-cluster: node $id exited; its log:" >&2
                tail -20 "$dir/node$id.log" >&2
                stop
                exit 1
            fi
            sleep 0.1
        done
    done
    echo "local-cluster: 3 nodes on 127.0.0.1:$((base_port + 1))-$((base_port + 3)), data and logs in $dir"
    echo "  status: deploy/local-cluster.sh status $dir    stop: deploy/local-cluster.sh stop $dir"
}

status() {
    need_binaries
    "$bin_dir/ruvector" --server "127.0.0.1:$((base_port + 1))" cluster status
}

stop() {
    for id in 1 2 3; do
        local pidfile="$dir/node$id.pid"
        [ -f "$pidfile" ] || continue
        local pid
        pid="$(cat "$pidfile")"
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid"
            for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            if kill -0 "$pid" 2>/dev/null; then
                echo "local-cluster: node $id did not stop in 15 s; killing it" >&2
                kill -KILL "$pid"
            fi
        fi
        rm -f "$pidfile"
    done
    echo "local-cluster: stopped (data kept in $dir)"
}

case "$command" in
    start) start ;;
    status) status ;;
    stop) stop ;;
    *) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 64 ;;
esac
