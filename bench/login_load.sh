#!/usr/bin/env bash
# /healthz p99 while a second client performs 20 logins per second (release build, SQLite).
# Usage: bench/login_load.sh [seconds] [logins_per_second]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/secportal-target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/secportal"
work="$(mktemp -d)"
export SECPORTAL_DATA_DIR="$work/data" SECPORTAL_LOG=warn SECPORTAL_ADDR=127.0.0.1:18182
pw="bench-password-2026-secportal"
echo "$pw" | "$bin" user add --email bench@example.jp --role center_admin --password-stdin >/dev/null
"$bin" serve & pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
until curl -sf http://127.0.0.1:18182/readyz >/dev/null; do sleep 0.05; done
python3 bench/login_load.py http://127.0.0.1:18182 bench@example.jp "$pw" "${1:-20}" "${2:-20}"
