#!/usr/bin/env bash
# The handoff runtime in release: issue 19's full-size acceptance runs (1,000 deals run twice;
# 1,000 deals with 20% injected faults and three kill -9s) and the benchmark, a 10,000-deal
# backfill from an NDJSON file to the loopback fake target (zero latency, keep-alive) with the
# ledger on disk (target/tmp, not tmpfs). Prints deals/s; docs/performance.md records it.
#
#   bash bench/runtime.sh            # all three
#   bash bench/runtime.sh backfill   # only the benchmark
set -euo pipefail
cd "$(dirname "$0")/.."
filter="${1:-}"
cargo test --release --locked --test runtime_acceptance -- --ignored --nocapture --test-threads 1 $filter \
  2>&1 | grep -E "^(backfill:|test |test result)"
