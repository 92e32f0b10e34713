#!/usr/bin/env bash
# Fuzz campaign over scimbox's cargo-fuzz targets (fuzz/fuzz_targets/).
#
# For each target (all of them, in `cargo fuzz list` order, or only the ones named as arguments) this
# runs, one target at a time with a single libFuzzer process:
#
#   cargo +nightly fuzz run TARGET target/fuzz-corpus/TARGET -- -runs=$FUZZ_RUNS -print_final_stats=1
#
# The corpus lives under target/fuzz-corpus/TARGET (ignored by git), so a later campaign starts from
# what the earlier ones found. The full output of each run goes to target/fuzz-logs/TARGET.log. After
# each target it prints one summary line: executions, exec/s, final cov and ft, corpus size (files and
# libFuzzer's `corp:` figure), wall time, and whether it crashed.
#
# If a target crashes (or hits a timeout / OOM / leak), the input libFuzzer wrote is copied into
# fuzz/regressions/TARGET/ and the campaign goes on with the next target; the script then exits 1 at
# the end. Reproduce a saved input with `cargo +nightly fuzz run TARGET fuzz/regressions/TARGET/FILE`.
#
# Usage (from anywhere; the script works from the repository root it lives in):
#   fuzz/campaign.sh                       # every target, 10,000,000 executions each
#   fuzz/campaign.sh filter patch_path     # only these targets
#   FUZZ_RUNS=100000 fuzz/campaign.sh      # a quick pass
#   nice -n 15 fuzz/campaign.sh            # be kind to a shared machine
#
# Environment:
#   FUZZ_RUNS        executions per target (default 10000000)
#   FUZZ_CARGO_ARGS  extra options for `cargo fuzz run`, e.g. "--sanitizer none" (default none)
#   FUZZ_LIBFUZZER_ARGS  extra libFuzzer options after `--`, e.g. "-max_len=8192" (default none)
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`); nothing outside the repository.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

runs=${FUZZ_RUNS:-10000000}
read -r -a cargo_args <<<"${FUZZ_CARGO_ARGS:-}"
read -r -a libfuzzer_args <<<"${FUZZ_LIBFUZZER_ARGS:-}"

if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

corpus_root="$root/target/fuzz-corpus"
log_root="$root/target/fuzz-logs"
mkdir -p "$corpus_root" "$log_root"

# One figure from libFuzzer's final stats (-print_final_stats=1) in a log.
final_stat() { sed -n "s/^stat::$2: *//p" "$1" | tail -n 1; }

failed=0
summaries=()

for target in "${targets[@]}"; do
    corpus="$corpus_root/$target"
    log="$log_root/$target.log"
    mkdir -p "$corpus"

    echo "=== $target: $runs executions, corpus $corpus, log $log" >&2
    start=$(date +%s)
    set +e
    cargo +nightly fuzz run "${cargo_args[@]}" "$target" "$corpus" -- \
        -runs="$runs" -print_final_stats=1 "${libfuzzer_args[@]}" 2>&1 | tee "$log" >&2
    status=${PIPESTATUS[0]}
    set -e
    wall=$(($(date +%s) - start))

    # libFuzzer's final stats, and its last status line (e.g. "#10000000 DONE cov: 812 ft: 3120 corp: 402/...").
    execs=$(final_stat "$log" number_of_executed_units)
    exec_per_sec=$(final_stat "$log" average_exec_per_sec)
    last=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -n 1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<<"$last")
    files=$(find "$corpus" -maxdepth 1 -type f | wc -l)

    # An input libFuzzer saved because of a crash, timeout, OOM or leak.
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    if [[ $status -eq 0 ]]; then
        result="no crash"
    elif [[ -n $artifact ]]; then
        [[ $artifact = /* ]] || artifact="$root/$artifact"
        mkdir -p "fuzz/regressions/$target"
        cp "$artifact" "fuzz/regressions/$target/"
        result="CRASHED (exit $status), input saved as fuzz/regressions/$target/$(basename "$artifact")"
        failed=1
    else
        result="FAILED (exit $status, no input saved; see $log)"
        failed=1
    fi

    line="$target: execs=${execs:-?} exec/s=${exec_per_sec:-?} cov=${cov:-?} ft=${ft:-?} corpus=${files} files (corp: ${corp:-?}) wall=${wall}s $result"
    summaries+=("$line")
    echo "$line"
done

echo "=== summary" >&2
printf '%s\n' "${summaries[@]}" >&2
exit "$failed"
