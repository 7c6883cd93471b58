#!/usr/bin/env bash
# The submissions export as CSV with N sealed submissions in SQLite: time against `sqlite3 -csv`
# of the same rows (the same joins, order and columns) in the same run, and the server's RSS
# growth while it streams. (The equipment workbook import is measured by bench/import.sh.)
# Usage: bench/export.sh [submissions] ; ROUNDS=3 by default (alternating, medians).
source "$(dirname "$0")/common.sh"
n="${1:-100000}"
rounds="${ROUNDS:-3}"
command -v sqlite3 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3 >/dev/null; }
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
db="$work/data/secportal.db"
python3 bench/seed_submissions.py "$db" "$n"
start_portal
sign_in_reviewer
sign_in
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
# Samples the server's RSS every 20 ms until the file $1 appears; prints the peak (KiB).
peak_until() {
  local peak=0 r
  while [ ! -e "$1" ]; do r=$(rss); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.02; done
  echo "$peak"
}
query="SELECT s.receipt_no, o.user_code, o.name, s.kind, s.scope_kind, l.name, s.version, s.state, s.submitted_at,
  d.decision, d.reason, u.display_name, d.decided_at
  FROM submissions s JOIN organisations o ON o.id = s.org_id LEFT JOIN locations l ON l.id = s.location_id
  LEFT JOIN decisions d ON d.submission_id = s.id LEFT JOIN users u ON u.id = d.reviewer_id
  WHERE s.receipt_no IS NOT NULL ORDER BY s.submitted_at, s.id"
# Warm-up (page cache, the first connection), not counted.
sqlite3 -csv "$db" "$query" > /dev/null
curl -s -o /dev/null -H "Cookie: $cookie" "$base/admin/exports/submissions/csv"
results="$work/results.txt"
: > "$results"
for r in $(seq 1 "$rounds"); do
  t0=$(date +%s.%N); sqlite3 -csv "$db" "$query" > "$work/sqlite.csv"; t1=$(date +%s.%N)
  base_rss=$(rss)
  rm -f "$work/done"
  peak_until "$work/done" > "$work/peak" &
  sampler=$!
  secs=$(curl -s -o "$work/portal.csv" -w '%{time_total}' -H "Cookie: $cookie" "$base/admin/exports/submissions/csv")
  touch "$work/done"; wait "$sampler"
  lines=$(($(wc -l < "$work/portal.csv") - 1))
  echo "$r $(echo "$t1 - $t0" | bc) $secs $base_rss $(cat "$work/peak") $lines $(wc -l < "$work/sqlite.csv")" >> "$results"
done
python3 - "$results" "$n" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
ratios, growths = [], []
for r, sq, portal, base, peak, lines, sqlines in rows:
    sq, portal, growth = float(sq), float(portal), (int(peak) - int(base)) / 1024
    ratios.append(portal / sq); growths.append(growth)
    print(f"round {r}: sqlite3 -csv {sq:.3f} s ({sqlines} lines); portal CSV {portal:.3f} s ({lines} rows); ratio {portal / sq:.2f}; RSS {int(base) // 1024} MiB -> peak {int(peak) // 1024} MiB (+{growth:.1f} MiB)")
overall = (max(int(r[4]) for r in rows) - int(rows[0][3])) / 1024
print(f"{sys.argv[2]} submissions: median ratio {statistics.median(ratios):.2f} (ceiling 2.0); RSS growth max per round {max(growths):.1f} MiB, highest peak over the first round's start {overall:.1f} MiB (ceiling 32)")
PY
