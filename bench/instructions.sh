#!/bin/sh
# Instructions executed by mapctl and by the typed-Rust baseline on the first N deals of the
# reference job (default 20,000), counted by valgrind. Unlike wall time on a shared machine
# (which varies by 30% between runs), the count is the same on every run, so it shows the
# effect of a change of 1%. Needs valgrind; run bench/run.py once first (data and builds).
#   sh bench/instructions.sh [N]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
count=${1:-20000}
data="$root/bench/data/deals-200000-42.ndjson"
sample=$(mktemp)
out=$(mktemp -d)
trap 'rm -rf "$sample" "$out"' EXIT
head -n "$count" "$data" > "$sample"
instructions() {
    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
        sed -n 's/.*I *refs: *//p' | tr -d ','
}
typed=$(instructions "$root/bench/typed/target/release/typed-baseline" "$sample")
mapctl=$(instructions "$root/target/release/mapctl" apply "$root/bench/reference.map" "$sample" \
    --out "$out/out.ndjson" --rejects "$out/rejects.ndjson")
echo "typed Rust: $typed instructions ($((typed / count)) a deal)"
echo "mapctl:     $mapctl instructions ($((mapctl / count)) a deal)"
awk -v t="$typed" -v m="$mapctl" 'BEGIN { printf "mapctl does %.2fx the typed program'"'"'s work (%.2fx its throughput at equal speed per instruction)\n", m / t, t / m }'
