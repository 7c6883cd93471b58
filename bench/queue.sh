#!/usr/bin/env bash
# The review queue with N submissions (default 100,000), as a ratio to /healthz in the same
# run, on SQLite — or on PostgreSQL when BENCH_DATABASE_URL names a scratch database (it is
# filled; give an empty one). Three targets, alternated for $ROUNDS rounds (median taken):
#   /healthz        wrk, 2 threads, 64 connections;
#   repeated page   wrk, 2 threads, 64 connections, one reviewer's cookie, the first page
#                   (the portal reuses a rendered page for a second: the cached figure);
#   16 reviewers    wrk, 16 threads x 1 connection, 16 reviewers each signed in with TOTP,
#                   every request a different keyset cursor under one of ten filters
#                   (bench/queue_reviewers.lua): no request is answered from the page cache.
# QUEUE_FILTERS=unfiltered: the 16 reviewers ask for the unfiltered queue only (new cursors still).
# PERF_OUT=<file>: also records the server's profile (perf record -g) during round 1's reviewers.
# Usage: bench/queue.sh [submissions] [seconds]
source "$(dirname "$0")/common.sh"
n="${1:-100000}"
secs="${2:-10}"
first_epoch=1767225600 # 2026-01-01T00:00:00Z, the first seeded submission; one a second after
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
if [ -n "${BENCH_DATABASE_URL:-}" ]; then export DATABASE_URL="$BENCH_DATABASE_URL"; fi
reviewers=16
for r in $(seq -w 1 $reviewers); do
  echo "$pw" | "$bin" user add --email "reviewer$r@center.example.jp" --role reviewer --password-stdin >/dev/null
done
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
t0=$(date +%s)
python3 - "$work/data/secportal.db" "$n" "${DATABASE_URL:-}" <<'PY'
import datetime, os, sys, uuid
path, n, url = sys.argv[1], int(sys.argv[2]), sys.argv[3]
kinds = ["system_configuration", "antivirus", "id_management", "router_ports", "outside_connections", "inhouse_measures"]
forms = ["peer_to_peer", "router", "gateway"]
start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
# What the trigger submissions_replaced_on_insert sets, for all the seeded rows at once.
REPLACED = """UPDATE submissions SET replaced_at = x.next FROM (
  SELECT id, LEAD(submitted_at) OVER (PARTITION BY org_id, kind, location_id ORDER BY submitted_at) AS next
  FROM submissions WHERE submitted_at IS NOT NULL AND state <> 'draft' AND kind <> 'gateway_logs') x
  WHERE x.id = submissions.id AND x.next IS NOT NULL"""
# 200 organisations Q0000..Q0199, each with one office and one active connection of form k % 3;
# submission i: organisation i % 200, kind i % 6, accepted when i % 3 == 0 (else waiting),
# taken by reviewer01 when i % 5 == 0.
if url:
    import subprocess
    kinds_sql = ", ".join(f"'{k}'" for k in kinds)
    forms_sql = ", ".join(f"'{f}'" for f in forms)
    sql = f"""BEGIN;
INSERT INTO organisations (id, name, user_code, created_at)
  SELECT gen_random_uuid(), 'Org ' || i, 'Q' || lpad(i::text, 4, '0'), now() FROM generate_series(0, 199) i;
INSERT INTO locations (id, org_id, kind, name, address, active, version, created_at, updated_at)
  SELECT gen_random_uuid(), id, 'office', 'HQ', '-', TRUE, 1, now(), now() FROM organisations WHERE user_code LIKE 'Q%';
INSERT INTO connections (id, org_id, location_id, form, router_id, active, created_at)
  SELECT gen_random_uuid(), l.org_id, l.id, (ARRAY[{forms_sql}])[1 + substr(o.user_code, 2)::int % 3], 'R', TRUE, now()
  FROM locations l JOIN organisations o ON o.id = l.org_id WHERE o.user_code LIKE 'Q%';
ALTER TABLE submissions DISABLE TRIGGER submissions_replaced_on_insert;
WITH o AS (SELECT array_agg(id ORDER BY user_code) a FROM organisations WHERE user_code LIKE 'Q%'),
     r AS (SELECT id FROM users WHERE email = 'reviewer01@center.example.jp')
INSERT INTO submissions (id, org_id, kind, scope_kind, state, version, data, catalogue_revision, submitted_at, created_at,
  receipt_no, snapshot, assigned_to)
  SELECT gen_random_uuid(), o.a[1 + i % 200], (ARRAY[{kinds_sql}])[1 + i % 6], 'organisation',
  CASE WHEN i % 3 = 0 THEN 'accepted' ELSE 'submitted' END, 1, '{{}}', 1, timestamptz '2026-01-01' + i * interval '1 second', now(),
  'SR-' || lpad(i::text, 8, '0'), '{{}}', CASE WHEN i % 5 = 0 THEN (SELECT id FROM r) END
  FROM generate_series(0, {n} - 1) i, o;
{REPLACED};
ALTER TABLE submissions ENABLE TRIGGER submissions_replaced_on_insert;
COMMIT;
VACUUM ANALYZE;"""
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url], input=sql.encode(), check=True)
else:
    import sqlite3
    db = sqlite3.connect(path)
    # The whole database in the page cache while it fills: a million rows and their indexes
    # otherwise spill pages to the WAL again and again (session 11: not done after 21 min).
    db.execute("PRAGMA cache_size = -4000000")
    db.execute("PRAGMA synchronous = OFF")
    me = db.execute("SELECT id FROM users WHERE email = 'reviewer01@center.example.jp'").fetchone()[0]
    orgs = []
    for i in range(200):
        oid, lid = uuid.uuid4().bytes, uuid.uuid4().bytes
        orgs.append(oid)
        db.execute("INSERT INTO organisations (id, name, user_code, created_at) VALUES (?, ?, ?, ?)", (oid, f"Org {i}", f"Q{i:04d}", start.isoformat()))
        db.execute("INSERT INTO locations (id, org_id, kind, name, address, active, version, created_at, updated_at) VALUES (?, ?, 'office', 'HQ', '-', 1, 1, ?, ?)", (lid, oid, start.isoformat(), start.isoformat()))
        db.execute("INSERT INTO connections (id, org_id, location_id, form, router_id, active, created_at) VALUES (?, ?, ?, ?, 'R', 1, ?)", (uuid.uuid4().bytes, oid, lid, forms[i % 3], start.isoformat()))
    base_ms = int(start.timestamp() * 1000)
    def rows():
        for i in range(n):
            at = (start + datetime.timedelta(seconds=i)).isoformat()
            # Time-ordered ids, as the portal's UUIDv7.
            sid = (((base_ms + i * 1000) << 80) | int.from_bytes(os.urandom(10), "big")).to_bytes(16, "big")
            yield (sid, orgs[i % 200], kinds[i % 6], "organisation", "accepted" if i % 3 == 0 else "submitted", 1, "{}", 1, at, at, f"SR-{i:08d}", "{}", me if i % 5 == 0 else None)
    # The trigger that marks a submission replaced by the next of its organisation and kind
    # looks at every earlier one of the group per row inserted (5,000 a group at a million):
    # set aside while the rows go in, the same marks are set once from the next row's time.
    trigger = db.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'submissions_replaced_on_insert'").fetchone()[0]
    db.execute("DROP TRIGGER submissions_replaced_on_insert")
    db.executemany("INSERT INTO submissions (id, org_id, kind, scope_kind, state, version, data, catalogue_revision, submitted_at, created_at, receipt_no, snapshot, assigned_to) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows())
    db.execute(REPLACED)
    db.execute(trigger)
    db.commit()
    db.execute("ANALYZE")
    db.close()
print(f"inserted {n} submissions")
PY
echo "seeded in $(( $(date +%s) - t0 )) s"
# Reviewers must sign in with a second factor: the bench reviewers have TOTP set up (the RFC
# 6238 test key) and the second step is answered with a code computed here.
secret_hex=3132333435363738393031323334353637383930
if [ -n "${DATABASE_URL:-}" ]; then
  psql -q "$DATABASE_URL" -c "UPDATE users SET totp_secret = '\\x$secret_hex'::bytea, totp_enabled_at = created_at WHERE email LIKE 'reviewer%'"
else
  python3 -c "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute(\"UPDATE users SET totp_secret = ?, totp_enabled_at = created_at WHERE email LIKE 'reviewer%'\", (bytes.fromhex(sys.argv[2]),)); d.commit()" "$work/data/secportal.db" "$secret_hex"
fi
start_portal
: > "$work/cookies"
for r in $(seq -w 1 $reviewers); do
  j="$work/jar.$r"
  t=$(curl -s -c "$j" -b "$j" "$base/login" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"$//')
  curl -s -o /dev/null -c "$j" -b "$j" -H "Origin: $base" --data-urlencode "email=reviewer$r@center.example.jp" \
    --data-urlencode "password=$pw" --data-urlencode "csrf_token=$t" "$base/login"
  code=$(python3 -c "import hmac,hashlib,struct,time,sys; k=bytes.fromhex(sys.argv[1]); h=hmac.new(k, struct.pack('>Q', int(time.time())//30), hashlib.sha1).digest(); o=h[-1]&15; print('%06d' % ((struct.unpack('>I', h[o:o+4])[0] & 0x7fffffff) % 1000000))" "$secret_hex")
  curl -s -o /dev/null -c "$j" -b "$j" -H "Origin: $base" --data-urlencode "code=$code" \
    --data-urlencode "csrf_token=$t" "$base/login/second-factor"
  awk '$6 == "secportal_session" {print "secportal_session=" $7}' "$j" >> "$work/cookies"
done
echo "signed in: $(grep -c . "$work/cookies") of $reviewers reviewers"
cookie=$(head -1 "$work/cookies")
rows=$(curl -s -H "Cookie: $cookie" "$base/review" | grep -c 'href="/review/[0-9a-f]')
echo "queue page rows: $rows; $(curl -s -H "Cookie: $cookie" "$base/review" | wc -c) bytes"
mid=$(python3 -c "import datetime,sys; print(datetime.datetime.fromtimestamp($first_epoch + $n // 2, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.000000Z'))")
echo "a page from the middle: $(curl -s -H "Cookie: $cookie" "$base/review?after=${mid}_00000000-0000-7000-8000-000000000000" | grep -c 'href="/review/[0-9a-f]') rows"
# The machine is noisy: alternate the targets for $rounds rounds and take the median ratio.
rounds="${ROUNDS:-3}"
lua="$(dirname "$0")/queue_reviewers.lua"
for r in $(seq 1 "$rounds"); do
  wrk -t2 -c64 -d"${secs}s" --latency "$base/healthz" > "$work/health.$r.txt"
  # PERF_OUT=<file>: the server's profile (perf record -g) during the first round's 16 reviewers.
  if [ -n "${PERF_OUT:-}" ] && [ "$r" = 1 ]; then
    perf record -q -g -o "$PERF_OUT" -p "$pid" -- sleep "$secs" 2>/dev/null &
    perf_pid=$!
  fi
  wrk -t16 -c16 -d"${secs}s" --latency -s "$lua" "$base" -- "$work/cookies" "$n" "$first_epoch" "${QUEUE_FILTERS:-}" > "$work/fresh.$r.txt"
  if [ -n "${perf_pid:-}" ]; then wait "$perf_pid" || true; perf_pid=; fi
  wrk -t2 -c64 -d"${secs}s" --latency -H "Cookie: $cookie" "$base/review" > "$work/queue.$r.txt"
  echo "round $r done; load average $(cut -d' ' -f1-3 /proc/loadavg)"
done
python3 - "$work" "$rounds" "$n" "${DATABASE_URL:+postgres}" <<'PY'
import re, statistics, sys
def parse(p):
    t = open(p).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    def pct(q):
        m = re.search(q + r"%\s+([\d.]+)(us|ms|s)", t)
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    return rps, pct("50"), pct("99"), int(non2xx.group(1)) if non2xx else 0
work, rounds, n, backend = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] or "sqlite"
fr, rr, fp99, fp50 = [], [], [], []
for r in range(1, rounds + 1):
    h, f, q = (parse(f"{work}/{k}.{r}.txt") for k in ("health", "fresh", "queue"))
    fr.append(f[0] / h[0]); rr.append(q[0] / h[0]); fp99.append(f[2]); fp50.append(f[1])
    print(f"round {r}: /healthz {h[0]:.0f} req/s | 16 reviewers, a new cursor each: {f[0]:.0f} req/s, p50 {f[1]:.2f} ms, p99 {f[2]:.2f} ms, "
          f"non-2xx {f[3]}, ratio {f[0]/h[0]:.3f} | repeated page: {q[0]:.0f} req/s, p99 {q[2]:.2f} ms, non-2xx {q[3]}, ratio {q[0]/h[0]:.3f}")
print(f"RESULT {backend} n={n}: uncached ratio {statistics.median(fr):.3f}, p50 {statistics.median(fp50):.2f} ms, p99 {statistics.median(fp99):.2f} ms; "
      f"repeated-page ratio {statistics.median(rr):.3f} (medians of {rounds} rounds)")
PY
