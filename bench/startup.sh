#!/usr/bin/env bash
# Cold start to /readyz answering, on an already-migrated SQLite database, and idle RSS.
# Usage: bench/startup.sh [runs]   (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-15}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/secportal-target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/secportal"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
export SECPORTAL_DATA_DIR="$work/data" SECPORTAL_LOG=warn
port=18181
export SECPORTAL_ADDR="127.0.0.1:$port"
"$bin" migrate >/dev/null
echo "$(printf 'bench-password-%s' 2026-secportal)" | "$bin" user add --email bench@example.jp --role center_admin --password-stdin >/dev/null

python3 - "$bin" "$runs" "$port" <<'PY'
import statistics, subprocess, sys, time, urllib.request
bin_, runs, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
url = f"http://127.0.0.1:{port}/readyz"
starts, rss = [], []
for _ in range(runs):
    t0 = time.perf_counter()
    p = subprocess.Popen([bin_, "serve"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    break
        except Exception:
            time.sleep(0.002)
    starts.append((time.perf_counter() - t0) * 1000)
    time.sleep(1.0)
    with open(f"/proc/{p.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss.append(int(line.split()[1]) / 1024)
    p.terminate(); p.wait(timeout=10)
print(f"cold start to /readyz: median {statistics.median(starts):.1f} ms, min {min(starts):.1f}, max {max(starts):.1f} ({runs} runs)")
print(f"idle RSS after start: median {statistics.median(rss):.1f} MiB, max {max(rss):.1f} MiB")
PY
