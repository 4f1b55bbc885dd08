#!/usr/bin/env bash
# A long mixed load against a release beacon (bench/src/soak.rs): reads, writes, event streams
# and the clocks they start. Usage: bench/soak.sh [MINUTES] [sqlite|postgres]  (default 60 sqlite).
# Reports requests, errors and resident memory after the warm-up and at the end; exits non-zero
# when there were errors or memory grew by 10 % or more.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/beacon/target}"
if [ ! -f web/dist/index.html ]; then
  (cd web && npm ci --no-audit --no-fund && npm run build)
fi
cargo build --release --locked -p beacon -p beacon-bench
"$CARGO_TARGET_DIR/release/beacon-bench" --beacon "$CARGO_TARGET_DIR/release/beacon" \
  --soak "${1:-60}" "${2:-sqlite}"
