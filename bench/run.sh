#!/usr/bin/env bash
# Benchmarks of Beacon (see bench/src/main.rs). Needs PostgreSQL at 127.0.0.1:5432 (or
# BEACON_TEST_POSTGRES_URL) for the PostgreSQL column. Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/beacon/target}"
if [ ! -f web/dist/index.html ]; then
  (cd web && npm ci --no-audit --no-fund && npm run build)
fi
cargo build --release --locked -p beacon -p beacon-bench
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
"$CARGO_TARGET_DIR/release/beacon-bench" --beacon "$CARGO_TARGET_DIR/release/beacon"
