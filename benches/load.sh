#!/usr/bin/env bash
# Load benchmark of scimbox: builds release, measures a bare hyper hello-world (benches/scimload's `hello`,
# same hyper/tokio/allocator versions) as the baseline, then starts scimbox on a temporary data directory and port
# and runs every scimload scenario at a small and a large number of users, each seeded over SCIM. Prints
# a table with each scenario's throughput as a fraction of hello-world's, measured in this same run, and
# the CPU time each request costs the server and the generator.
#
# A second baseline, `naive` (also in benches/scimload), answers the lookup scenario with one indexed
# SQLite read per request and nothing else (no authentication, groups, activity record or log line), on
# USERS_SMALL and on USERS_LARGE users: what "one SQLite read per request" costs on this machine, next to
# what scimbox's lookups cost at the same size. At each level it is measured right before and right after
# scimbox's lookups (it waits, idle, while scimbox is seeded), and the ratio is to the mean of the two, as
# hello-world's is: a machine that drifts over the minutes of a run moves both alike.
#
# Peers, side by side in the same run, when asked for: PEERS="scim2-server" installs scim2-server from
# PyPI into a virtualenv under target/peers/ (pinned: SCIM2_SERVER_VERSION) and measures its lookups and
# creates at USERS_SMALL users, seeded over SCIM like scimbox. Any other SCIM server already running on
# this machine joins with PEER_URLS="name=http://127.0.0.1:PORT/scim/v2 ..." (token: PEER_TOKEN). Peers
# are never part of CI.
#
# Everything listens on and connects to 127.0.0.1 only. The generator and the servers share this
# machine's cores, so absolute figures say as much about the machine as about scimbox: read the ratios.
#
# After the large level's scenarios, groups of 10 members are added until the server holds TOTAL_GROUPS
# groups, and scimbox is restarted on that database: the start-up time (process start to its listening
# line, migrations included) and the RSS after a lookup run are printed (DESIGN §9: 1M users, 10k groups).
#
# Settings (environment): USERS_SMALL (1000), USERS_LARGE (1000000), CONNECTIONS (32), DURATION (10s),
# WARMUP (2s), GROUP_COUNT (10), TOTAL_GROUPS (10000), GROUP_SIZE_SMALL (10), GROUP_SIZE_LARGE (USERS_LARGE / 10),
# SCENARIOS ("lookup import group-patch okta-mix create bulk"; bulk sends one POST /Bulk of 1,000 creates at a
# time, on one connection: the figure is how fast one such request is made durable), RESULTS (a directory to keep the JSON results
# and server logs in; a temporary one, removed at the end, by default). scimbox's own SCIMBOX_* variables
# pass through (e.g. SCIMBOX_LOG_LEVEL=warn).
set -euo pipefail
cd "$(dirname "$0")/.."

USERS_SMALL=${USERS_SMALL:-1000}
USERS_LARGE=${USERS_LARGE:-1000000}
CONNECTIONS=${CONNECTIONS:-32}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
GROUP_COUNT=${GROUP_COUNT:-10}
TOTAL_GROUPS=${TOTAL_GROUPS:-10000}
GROUP_SIZE_SMALL=${GROUP_SIZE_SMALL:-10}
GROUP_SIZE_LARGE=${GROUP_SIZE_LARGE:-$((USERS_LARGE / 10))}
SCENARIOS=${SCENARIOS:-lookup import group-patch okta-mix create bulk}
PEERS=${PEERS:-}
PEER_URLS=${PEER_URLS:-}
PEER_TOKEN=${PEER_TOKEN:-load}
SCIM2_SERVER_VERSION=${SCIM2_SERVER_VERSION:-0.8.3}

began=$SECONDS
if ! command -v jq >/dev/null; then
    echo "== installing jq (reads the JSON results)"
    apt-get update -qq && apt-get install -y -qq jq >/dev/null
fi

if [[ -n ${RESULTS:-} ]]; then
    work=$RESULTS
    mkdir -p "$work"
else
    work=$(mktemp -d)
fi
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    # Data directories can be large (a million users); the results stay only when asked for.
    rm -rf "$work"/data-*
    [[ -n ${RESULTS:-} ]] || rm -rf "$work"
}
trap cleanup EXIT

echo "== build (release)"
cargo build --release --locked -p scimbox -p scimload
bin=target/release

# Prints the first line a background process writes to FILE, waiting for it (or for the process to die).
first_line() {
    local file=$1 pid=$2
    for _ in $(seq 1800); do
        if [[ $(wc -l <"$file") -ge 1 ]]; then
            head -n 1 "$file"
            return
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "error: the server exited before printing its address" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "error: the server printed no address within 180 s" >&2
    return 1
}

# cpu_ticks PID: the user and system CPU time PID has used, in clock ticks (0 for a server this script did
# not start, such as a peer given by PEER_URLS).
cpu_ticks() {
    if [[ -n ${1:-} && -r /proc/$1/stat ]]; then
        awk '{ print $14 + $15 }' "/proc/$1/stat"
    else
        echo 0
    fi
}

# children_seconds FILE: the user and system CPU seconds of this shell's finished children (`times`, run in
# this shell: in a subshell it would see none of them), written to FILE.
children_seconds() {
    times >"$1"
    tail -n 1 "$1" | awk '{
        total = 0
        for (i = 1; i <= 2; i++) { split($i, part, "m"); total += part[1] * 60 + part[2] }
        print total
    }' >"$1.seconds"
}

# run_scimload NAME ARGS...: one scimload run writing $work/NAME.json, against the server whose process
# is $pid (the caller's). Also writes $work/NAME.cpu: the server's and the generator's CPU time per
# request in microseconds (CPU time of the whole run, warm-up included, over the requests of the run at
# its measured rate). A failed run is reported, not fatal.
run_scimload() {
    local name=$1
    shift
    echo "-- $name"
    local server_before gen_before
    server_before=$(cpu_ticks "${pid:-}")
    children_seconds "$work/times"
    gen_before=$(cat "$work/times.seconds")
    if ! "$bin/scimload" --connections "$CONNECTIONS" --duration "$DURATION" --warmup "$WARMUP" \
        --json "$work/$name.json" "$@"; then
        echo "($name failed; see above)"
        return
    fi
    local server_ticks
    server_ticks=$(($(cpu_ticks "${pid:-}") - server_before))
    children_seconds "$work/times"
    jq -r --argjson ticks "$server_ticks" --argjson hz "$(getconf CLK_TCK)" \
        --argjson gen "$(awk -v a="$gen_before" -v b="$(cat "$work/times.seconds")" 'BEGIN { print b - a }')" '
        (.requests_per_second * (.duration_seconds + .warmup_seconds)) as $requests
        | if $requests > 0 then "\(1e6 * $ticks / $hz / $requests) \(1e6 * $gen / $requests)" else "0 0" end' \
        "$work/$name.json" >"$work/$name.cpu" || true
}

# baseline NAME BINARY ARGS... -- SCIMLOAD_ARGS...: starts a baseline server (`hello`; `naive` waits beside each level: start_naive) with ARGS,
# runs scimload against it with SCIMLOAD_ARGS, and stops it.
baseline() {
    local name=$1 binary=$2
    shift 2
    local server_args=()
    while [[ $1 != -- ]]; do
        server_args+=("$1")
        shift
    done
    shift
    "$bin/$binary" --listen 127.0.0.1:0 "${server_args[@]}" >"$work/$name.out" &
    local pid=$!
    pids+=("$pid")
    local url
    url=$(first_line "$work/$name.out" "$pid")
    url=${url#"$binary" listening on }
    run_scimload "$name" --base-url "$url" "$@"
    kill "$pid"
    wait "$pid" || true
}

# start_naive LABEL USERS: starts the naive server on USERS users of its own (written before it listens)
# in the background; sets $naive_pid and $naive_url.
start_naive() {
    local label=$1 users=$2
    echo "== naive baseline: one SQLite read per lookup, nothing else ($users users)"
    mkdir -p "$work/data-naive-$label"
    "$bin/naive" --listen 127.0.0.1:0 --users "$users" --data-dir "$work/data-naive-$label" >"$work/naive-$label.out" &
    naive_pid=$!
    pids+=("$naive_pid")
    local line
    line=$(first_line "$work/naive-$label.out" "$naive_pid")
    naive_url=${line#"naive listening on "}
}

# start_scimbox DATA LABEL: starts scimbox on DATA in the background; sets $pid, $base and $started_ms
# (milliseconds from the process start to its listening line).
start_scimbox() {
    local data=$1 label=$2 began line
    began=$(date +%s%N)
    "$bin/scimbox" serve --listen 127.0.0.1:0 --data-dir "$data" >"$work/scimbox-$label.out" 2>"$work/scimbox-$label.log" &
    pid=$!
    pids+=("$pid")
    line=$(first_line "$work/scimbox-$label.out" "$pid")
    started_ms=$((($(date +%s%N) - began) / 1000000))
    base="${line##* listening on }/scim/v2"
}

# level LABEL USERS GROUP_SIZE: a fresh scimbox holding USERS users, every scenario against it; the
# lookups between two runs of the naive server on as many users.
level() {
    local label=$1 users=$2 group_size=$3
    local data="$work/data-$label"
    mkdir -p "$data"
    local pid base started_ms naive_pid naive_url
    start_naive "$label" "$users"
    start_scimbox "$data" "$label"
    SCIMLOAD_TOKEN=$("$bin/scimbox" token create --data-dir "$data" --name load | tail -n 1)
    export SCIMLOAD_TOKEN
    local data_args=(--base-url "$base" --seed-users "$users" --seed-groups "$GROUP_COUNT" --group-size "$group_size")

    echo "== $users users: seeding over SCIM ($CONNECTIONS connections)"
    local seeded=$SECONDS
    "$bin/scimload" "${data_args[@]}" --scenario okta-mix --seed-only --connections "$CONNECTIONS" \
        --json "$work/seed-$label.json"
    echo "seeding $users users and $GROUP_COUNT groups of $group_size took $((SECONDS - seeded)) s"
    echo "$((SECONDS - seeded))" >"$work/seed-$label.seconds"
    # Seeding leaves the kernel with up to a gigabyte of dirty pages; writing them back during the first
    # scenario would take its CPU. The scenarios measure the server, not the tail of the seeding.
    sync
    # The machine may already have dropped pages of the file it wrote minutes ago; a running appliance has
    # its database in the page cache. Read it once, so that lookups measure the server, not the disk.
    cat "$data"/scimbox.db* >/dev/null

    local scenario
    for scenario in $SCENARIOS; do
        if [[ $scenario == lookup ]]; then
            pid=$naive_pid run_scimload "naive-$label-before" --base-url "$naive_url" --token unused \
                --seed-users "$users" --scenario lookup
            run_scimload "$label-lookup" "${data_args[@]}" --scenario lookup
            pid=$naive_pid run_scimload "naive-$label-after" --base-url "$naive_url" --token unused \
                --seed-users "$users" --scenario lookup
        elif [[ $scenario == bulk ]]; then
            CONNECTIONS=1 run_scimload "$label-$scenario" "${data_args[@]}" --scenario bulk --bulk-size 1000
        else
            run_scimload "$label-$scenario" "${data_args[@]}" --scenario "$scenario"
        fi
    done
    du -sh "$data" | awk '{ print "database: " $1 }'
    ps -o rss= -p "$pid" | awk '{ printf "scimbox RSS: %.0f MB\n", $1 / 1024 }'
    if [[ $label == large && $TOTAL_GROUPS -gt $GROUP_COUNT ]]; then
        local extra=$((TOTAL_GROUPS - GROUP_COUNT))
        echo "== $users users: adding $extra groups of 10 members ($TOTAL_GROUPS groups in all), then restarting"
        "$bin/scimload" --base-url "$base" --seed-users "$users" --seed-groups "$extra" --group-size 10 \
            --scenario okta-mix --seed-only --connections "$CONNECTIONS" --json "$work/seed-groups.json"
        kill "$pid"
        wait "$pid" || true
        start_scimbox "$data" restarted
        echo "$started_ms" >"$work/restart.ms"
        run_scimload restarted-lookup --base-url "$base" --seed-users "$users" --scenario lookup
        ps -o rss= -p "$pid" | awk '{ printf "%.0f\n", $1 / 1024 }' >"$work/restart.rss"
    fi
    kill "$pid" "$naive_pid"
    wait "$pid" || true
    wait "$naive_pid" || true
    rm -rf "$data" "$work/data-naive-$label"
}

# peer NAME URL: lookups and creates against a peer SCIM server at URL, seeded with USERS_SMALL users.
peer() {
    local name=$1 url=$2
    echo "== peer $name: $USERS_SMALL users seeded over SCIM"
    if ! "$bin/scimload" --base-url "$url" --token "$PEER_TOKEN" --seed-users "$USERS_SMALL" --scenario lookup \
        --seed-only --connections "$CONNECTIONS" --json "$work/peer-$name-seed.json"; then
        echo "(seeding $name failed; see above)"
        return
    fi
    run_scimload "peer-$name-lookup" --base-url "$url" --token "$PEER_TOKEN" --seed-users "$USERS_SMALL" --scenario lookup
    run_scimload "peer-$name-create" --base-url "$url" --token "$PEER_TOKEN" --scenario create
}

# scim2_server: scim2-server from PyPI in a virtualenv under target/peers/ (in memory: nothing durable),
# started on a free port; measured with `peer`, then stopped.
scim2_server() {
    local venv=target/peers/scim2-server-$SCIM2_SERVER_VERSION
    if [[ ! -x $venv/bin/scim2-server ]]; then
        echo "== installing scim2-server $SCIM2_SERVER_VERSION from PyPI into $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet "scim2-server==$SCIM2_SERVER_VERSION"
    fi
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$venv/bin/scim2-server" --hostname 127.0.0.1 --port "$port" --bearer-token "$PEER_TOKEN" \
        >"$work/scim2-server.out" 2>"$work/scim2-server.log" &
    local pid=$!
    pids+=("$pid")
    local line
    line=$(first_line "$work/scim2-server.out" "$pid")
    peer scim2-server "${line##* on }"
    kill "$pid"
    wait "$pid" || true
}

echo "== hello-world baseline ($CONNECTIONS connections)"
baseline hello-before hello -- --scenario hello
for name in $PEERS; do
    case $name in
        scim2-server) scim2_server ;;
        *) echo "unknown peer $name (PEERS knows scim2-server; give others with PEER_URLS)" >&2 ;;
    esac
done
for entry in $PEER_URLS; do
    peer "${entry%%=*}" "${entry#*=}"
done
level small "$USERS_SMALL" "$GROUP_SIZE_SMALL"
level large "$USERS_LARGE" "$GROUP_SIZE_LARGE"
echo "== hello-world baseline again (the machine may have drifted)"
baseline hello-after hello -- --scenario hello

rps() { jq -r '.requests_per_second // empty' "$work/$1.json" 2>/dev/null || true; }
before=$(rps hello-before | xargs printf '%.0f')
after=$(rps hello-after | xargs printf '%.0f')
baseline=$(awk -v a="${before:-0}" -v b="${after:-0}" 'BEGIN { if (a > 0 && b > 0) print (a + b) / 2; else print a + b }')

echo
echo "scimload, $CONNECTIONS connections, $DURATION measured after $WARMUP warm-up; generator and server share $(nproc) cores."
echo "hello-world: $before req/s before, $after req/s after; ratios are to their mean ($baseline req/s)."
echo "server µs, gen µs: CPU time per request of the server's process and of scimload, warm-up included."
printf '%-28s %9s %10s %9s %9s %8s %9s %11s %9s\n' scenario users "req/s" "p50 ms" "p99 ms" errors "vs hello" \
    "server µs" "gen µs"
row() {
    local name=$1 label=$2 users=$3 file="$work/$1.json" cpu=("?" "?")
    if [[ ! -s $file ]]; then
        printf '%-28s %9s %10s\n' "$label" "$users" "(failed)"
        return
    fi
    [[ -s $work/$name.cpu ]] && read -r -a cpu <"$work/$name.cpu"
    jq -r --arg name "$label" --arg count "$users" --argjson base "$baseline" '
        [$name, $count, .requests_per_second, .latency_ms.p50, .latency_ms.p99, .errors,
         (if $base > 0 then 100 * .requests_per_second / $base else 0 end)] | @tsv' "$file" |
        awk -F'\t' -v server="${cpu[0]}" -v gen="${cpu[1]}" \
            '{ printf "%-28s %9s %10.0f %9.2f %9.2f %8d %8.1f%% %10.1f %8.1f\n", $1, $2, $3, $4, $5, $6, $7, server, gen }'
}
row hello-before "hello (before)" -
peer_names="$PEERS"
for entry in $PEER_URLS; do peer_names="$peer_names ${entry%%=*}"; done
for name in $peer_names; do
    row "peer-$name-lookup" "lookup, $name" "$USERS_SMALL"
    row "peer-$name-create" "create, $name" "$USERS_SMALL"
done
for pair in "small:$USERS_SMALL:$GROUP_SIZE_SMALL" "large:$USERS_LARGE:$GROUP_SIZE_LARGE"; do
    IFS=: read -r label users group_size <<<"$pair"
    for scenario in $SCENARIOS; do
        name=$scenario
        if [[ $scenario == lookup ]]; then
            row "naive-$label-before" "lookup, naive (before)" "$users"
            row "$label-lookup" lookup "$users"
            row "naive-$label-after" "lookup, naive (after)" "$users"
            continue
        fi
        [[ $scenario == group-patch ]] && name="group-patch ($group_size/group)"
        [[ $scenario == import ]] && name="import (pages of 100)"
        [[ $scenario == bulk ]] && name="bulk (1,000 creates, 1 conn)"
        row "$label-$scenario" "$name" "$users"
    done
done
row hello-after "hello (after)" -
# DESIGN §9's lookup figure: scimbox's lookups against hello-world and the naive server at the same size.
for pair in "small:$USERS_SMALL" "large:$USERS_LARGE"; do
    IFS=: read -r label users <<<"$pair"
    mine=$(rps "$label-lookup")
    naive_before=$(rps "naive-$label-before")
    naive_after=$(rps "naive-$label-after")
    [[ -n $mine && -n $naive_before && -n $naive_after ]] || continue
    awk -v m="$mine" -v nb="$naive_before" -v na="$naive_after" -v b="$baseline" -v u="$users" 'BEGIN {
        n = (nb + na) / 2
        printf "lookups at %s users: %.0f req/s, %.1f%% of hello-world, %.1f%% of the naive server (%.0f req/s, the mean of %.0f before and %.0f after)\n", u, m, (b > 0 ? 100 * m / b : 0), 100 * m / n, n, nb, na
    }'
done
# A Bulk of 1,000 creates, durable: users created per second, not requests.
for pair in "small:$USERS_SMALL" "large:$USERS_LARGE"; do
    IFS=: read -r label users <<<"$pair"
    [[ -s $work/$label-bulk.json ]] || continue
    jq -r --arg users "$users" '"Bulk of 1,000 creates at \($users) users: \(.users_created_per_second | floor) users created/s, p50 \(.latency_ms.p50) ms per request"' \
        "$work/$label-bulk.json"
done
for label in small large; do
    [[ -s $work/seed-$label.json ]] || continue
    jq -r --arg level "$label" --arg wall "$(cat "$work/seed-$label.seconds" 2>/dev/null || echo '?')" '
        "seeding (\($level)): \(.seeding.users_created) users created at \((.seeding.users_per_second // 0) | floor)/s, \(.seeding.groups_created) groups; \($wall) s in all"' \
        "$work/seed-$label.json"
done
if [[ -s $work/restart.ms ]]; then
    echo "restart with $USERS_LARGE users and $TOTAL_GROUPS groups: listening after $(cat "$work/restart.ms") ms;" \
        "RSS $(cat "$work/restart.rss" 2>/dev/null || echo '?') MB after a lookup run" \
        "($(jq -r '.requests_per_second | floor' "$work/restarted-lookup.json" 2>/dev/null || echo '?') req/s)"
fi
echo "wall time: $((SECONDS - began)) s"
