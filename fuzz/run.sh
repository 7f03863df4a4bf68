#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 60 s each) from the committed seeds in
# fuzz/corpus/<target>; any crash, panic or input slower than 30 s fails the script, and
# libFuzzer leaves the input in fuzz/artifacts/<target>/. New inputs found go to a temporary
# folder, so the committed seeds stay as they are.
#
#   bash fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
# Beside, not inside, the main crate's persistent build folder when CI sets one.
if [ -n "${CARGO_TARGET_DIR:-}" ]; then export CARGO_TARGET_DIR="$CARGO_TARGET_DIR-fuzz"; fi

# cargo-fuzz needs a nightly toolchain (for -Zsanitizer and coverage instrumentation).
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

# --dev: dependencies at opt-level 1 (fuzz/Cargo.toml); a release build of polars would take
# ~18 min on two cores.
cargo +nightly fuzz build --dev
for target in grid_reader record_reader pipeline_file crs_text; do
  work="$(mktemp -d)"
  echo "fuzzing $target for ${secs}s"
  cargo +nightly fuzz run --dev "$target" "$work" "corpus/$target" -- \
    -max_total_time="$secs" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1
  rm -rf "$work"
done
