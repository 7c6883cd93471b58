#!/usr/bin/env bash
# The review queue with 100,000 submissions in the database: requests per second of the first
# page (50 rows) as a ratio to /healthz, and p99, with 64 connections (wrk), on SQLite —
# or on PostgreSQL when BENCH_DATABASE_URL is set (a scratch database; it is filled).
# Usage: bench/queue.sh [submissions] [seconds]
source "$(dirname "$0")/common.sh"
n="${1:-100000}"
secs="${2:-10}"
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
if [ -n "${BENCH_DATABASE_URL:-}" ]; then export DATABASE_URL="$BENCH_DATABASE_URL"; fi
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
python3 bench/seed_submissions.py "$work/data/secportal.db" "$n" "${DATABASE_URL:-}"
start_portal
sign_in_reviewer
rows=$(curl -s -H "Cookie: $cookie" "$base/review" | grep -c '/review/0\|href="/review/[0-9a-f]')
echo "queue page rows: $rows"
size=$(curl -s -H "Cookie: $cookie" "$base/review" | wc -c)
echo "queue page: $size bytes"
# The machine is noisy: alternate the two targets for $rounds rounds and take the median ratio.
rounds="${ROUNDS:-3}"
for r in $(seq 1 "$rounds"); do
  wrk -t2 -c64 -d"${secs}s" --latency "$base/healthz" > "$work/health.$r.txt"
  wrk -t2 -c64 -d"${secs}s" --latency -H "Cookie: $cookie" "$base/review" > "$work/queue.$r.txt"
done
python3 - "$work" "$rounds" <<'PY'
import re, statistics, sys
def parse(p):
    t = open(p).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", t)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    return rps, p99, int(non2xx.group(1)) if non2xx else 0
work, rounds = sys.argv[1], int(sys.argv[2])
ratios, p99s = [], []
for r in range(1, rounds + 1):
    h, q = parse(f"{work}/health.{r}.txt"), parse(f"{work}/queue.{r}.txt")
    ratios.append(q[0] / h[0])
    p99s.append(q[1])
    print(f"round {r}: /healthz {h[0]:.0f} req/s, p99 {h[1]:.2f} ms; /review (50 rows of the waiting queue) {q[0]:.0f} req/s, p99 {q[1]:.2f} ms, non-2xx {q[2]}; ratio {q[0]/h[0]:.3f}")
print(f"median ratio queue/healthz: {statistics.median(ratios):.3f}; median /review p99: {statistics.median(p99s):.2f} ms")
PY
