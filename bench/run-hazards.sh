#!/usr/bin/env bash
# The hidden-danger benchmarks of issue 15 (bench/src/hazards.rs) on one backend or both:
# bench/run-hazards.sh [sqlite|postgres]. Builds like bench/run.sh; prints Markdown tables.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/beacon/target}"
if [ ! -f web/dist/index.html ]; then
  (cd web && npm ci --no-audit --no-fund && npm run build)
fi
cargo build --release --locked -p beacon -p beacon-bench
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
for backend in ${1:-sqlite postgres}; do
  "$CARGO_TARGET_DIR/release/beacon-bench" --beacon "$CARGO_TARGET_DIR/release/beacon" --hazards-only "$backend"
done
