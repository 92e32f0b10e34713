#!/usr/bin/env bash
# Instructions per request of scimbox under one scimload scenario, counted by valgrind's callgrind: a
# figure that does not move with the machine's load (the same binary and data give the same count within
# about 1 %), for comparing two builds of the server side by side on a shared, noisy machine. It counts
# scimbox's user-space instructions only (the kernel's work for sockets and file reads is not in it), so
# it complements `benches/load.sh`, which measures throughput; it does not replace it.
#
# It builds release, seeds a temporary data directory over SCIM with a normally running scimbox, then
# restarts scimbox on it under callgrind, warms up, zeroes the counters, runs the scenario, and divides
# the instructions counted by the requests answered.
#
# Settings (environment): USERS (100000), SCENARIO (lookup), CONNECTIONS (8), DURATION (20s), BIN (the
# scimbox binary to measure; target/release/scimbox by default, e.g. a copy of an older build to compare).
# Everything listens on and connects to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${USERS:-100000}
SCENARIO=${SCENARIO:-lookup}
CONNECTIONS=${CONNECTIONS:-8}
DURATION=${DURATION:-20s}

command -v valgrind >/dev/null || { echo "error: valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
command -v jq >/dev/null || { apt-get update -qq && apt-get install -y -qq jq >/dev/null; }

echo "== build (release)"
cargo build --release --locked -p scimbox -p scimload
bin=${BIN:-target/release/scimbox}
load=target/release/scimload

work=$(mktemp -d)
pid=
cleanup() {
    [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# serve [WRAPPER...]: starts scimbox on the data directory (under WRAPPER if given); sets $pid and $base.
serve() {
    "$@" "$bin" serve --listen 127.0.0.1:0 --data-dir "$work/data" >"$work/out" 2>"$work/log" &
    pid=$!
    for _ in $(seq 600); do
        base=$(sed -n 's/^scimbox .* listening on \(http[^ ]*\)$/\1/p' "$work/out")
        [[ -n $base ]] && break
        kill -0 "$pid" 2>/dev/null || { cat "$work/log" >&2; exit 1; }
        sleep 0.1
    done
    [[ -n $base ]] || { echo "error: scimbox did not start" >&2; exit 1; }
    base="$base/scim/v2"
}

stop() {
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
}

mkdir -p "$work/data"
serve
SCIMLOAD_TOKEN=$("$bin" token create --data-dir "$work/data" --name instructions | tail -n 1)
export SCIMLOAD_TOKEN
data_args=(--seed-users "$USERS" --seed-groups 10 --group-size "$((USERS / 10))")
echo "== seeding $USERS users"
"$load" --base-url "$base" "${data_args[@]}" --scenario "$SCENARIO" --seed-only --connections 32 >/dev/null
stop

echo "== $SCENARIO under callgrind ($CONNECTIONS connections)"
serve valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.%p"
"$load" --base-url "$base" "${data_args[@]}" --scenario "$SCENARIO" --connections "$CONNECTIONS" \
    --duration 5s --warmup 1s >/dev/null 2>&1
callgrind_control --zero "$pid" >/dev/null 2>&1
"$load" --base-url "$base" "${data_args[@]}" --scenario "$SCENARIO" --connections "$CONNECTIONS" \
    --duration "$DURATION" --warmup 0s --json "$work/run.json" >/dev/null 2>&1
callgrind_control --dump "$pid" >/dev/null 2>&1
sleep 1
dump="$work/callgrind.$pid.1"
[[ -s $dump ]] || { echo "error: callgrind wrote no dump" >&2; exit 1; }
instructions=$(awk '/^(summary|totals):/ { print $2; exit }' "$dump")
requests=$(jq -r '.requests' "$work/run.json")
errors=$(jq -r '.errors' "$work/run.json")
stop
echo "$(basename "$bin") $SCENARIO, $USERS users: $requests requests ($errors errors)," \
    "$((instructions / requests)) instructions per request"
