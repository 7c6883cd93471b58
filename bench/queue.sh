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
python3 - "$work/data/secportal.db" "$n" "${DATABASE_URL:-}" <<'PY'
import datetime, random, sys, uuid
path, n, url = sys.argv[1], int(sys.argv[2]), sys.argv[3]
kinds = ["system_configuration", "antivirus", "id_management", "router_ports", "outside_connections", "inhouse_measures"]
start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
if url:
    import subprocess
    rows = []
    sql = ["BEGIN;"]
    sql.append("INSERT INTO organisations (id, name, user_code, created_at) SELECT gen_random_uuid(), 'Org ' || i, 'Q' || lpad(i::text, 4, '0'), now() FROM generate_series(1, 200) i;")
    sql.append(f"""INSERT INTO submissions (id, org_id, kind, scope_kind, state, version, data, catalogue_revision, submitted_at, created_at, receipt_no, snapshot, series_id)
      SELECT gen_random_uuid(), (SELECT id FROM organisations ORDER BY user_code OFFSET (i % 200) LIMIT 1), (ARRAY{kinds})[1 + i % 6], 'organisation',
      CASE WHEN i % 3 = 0 THEN 'accepted' ELSE 'submitted' END, 1, '{{}}', 1, timestamptz '2026-01-01' + (i || ' seconds')::interval, now(),
      'SR-2026-' || lpad(i::text, 6, '0'), '{{}}', NULL FROM generate_series(1, {n}) i;""")
    sql.append("COMMIT; ANALYZE;")
    subprocess.run(["psql", "-q", url], input="\n".join(sql).encode(), check=True)
else:
    import sqlite3
    db = sqlite3.connect(path)
    orgs = []
    for i in range(200):
        oid = uuid.uuid4().bytes
        orgs.append(oid)
        db.execute("INSERT INTO organisations (id, name, user_code, created_at) VALUES (?, ?, ?, ?)", (oid, f"Org {i}", f"Q{i:04d}", start.isoformat()))
    def rows():
        for i in range(n):
            at = (start + datetime.timedelta(seconds=i)).isoformat()
            yield (uuid.uuid4().bytes, orgs[i % 200], kinds[i % 6], "organisation", "accepted" if i % 3 == 0 else "submitted", 1, "{}", 1, at, at, f"SR-2026-{i:06d}", "{}")
    db.executemany("INSERT INTO submissions (id, org_id, kind, scope_kind, state, version, data, catalogue_revision, submitted_at, created_at, receipt_no, snapshot) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows())
    db.commit()
    db.execute("ANALYZE")
    db.close()
print(f"inserted {n} submissions")
PY
start_portal
reviewer_sign_in
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
