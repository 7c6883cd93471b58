#!/usr/bin/env bash
# The retention purge at 1,000,000 submissions (SQLite, release build), generated with SQL:
# 20,000 organisations × (40 versions of a report — 39 replaced in 2019, 1 in force — and
# 10 gateway-log submissions from 2019), each submission with one file row (1,000 blobs of
# 4 KiB shared between them), 100,000 keyed audit entries from 2019. Measures:
#  1. a running server (`serve`, SECPORTAL_PURGE_HOUR=0 so its scheduler purges at its first
#     tick, a minute after start) told to stop (SIGTERM) while its purge runs: seconds from
#     the signal to the process's exit, and how far the purge got;
#  2. on a fresh copy: `retention purge --dry-run`, then `retention purge` to the end (what is
#     left after the interrupted one is the same work, so this is the full purge's time),
#     `audit verify` after.
# Usage: bench/retention_million.sh [organisations]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/secportal-target}"
# SECPORTAL_BIN: a binary already built (a trial run of this script), else the release build.
if [ -z "${SECPORTAL_BIN:-}" ]; then cargo build --release --quiet; fi
bin="${SECPORTAL_BIN:-$CARGO_TARGET_DIR/release/secportal}"
mkdir -p target
work="$(mktemp -d -p "$PWD/target" bench.XXXXXX)"
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
orgs="${1:-20000}"
key=$(python3 -c "import secrets; print(secrets.token_hex(32))")
export SECPORTAL_DATA_DIR="$work/data" SECPORTAL_LOG=warn SECPORTAL_AUDIT_KEY="$key"
"$bin" migrate >/dev/null
db="$work/data/secportal.db"
t0=$(date +%s.%N)
# 1,000 blobs on disk and in the table.
python3 - "$work/data" <<'PY'
import hashlib, os, sqlite3, sys
data = sys.argv[1]
db = sqlite3.connect(os.path.join(data, "secportal.db"))
for i in range(1000):
    body = os.urandom(4096)
    sha = hashlib.sha256(body).hexdigest()
    d = os.path.join(data, "files", "blobs", sha[:2])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, sha), "wb") as f:
        f.write(body)
    db.execute("INSERT INTO blobs (sha256, size, created_at) VALUES (?, ?, '2019-01-01T00:00:00+00:00')", (sha, len(body)))
db.commit()
PY
sqlite3 "$db" <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
CREATE TEMP TABLE o AS
  WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $orgs - 1)
  SELECT i, randomblob(16) AS id FROM n;
INSERT INTO organisations (id, name, user_code, created_at)
  SELECT id, 'Org ' || i, printf('R%05d', i), '2019-01-01T00:00:00+00:00' FROM o;
CREATE TEMP TABLE v AS
  WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 49) SELECT i FROM n;
-- In submitted order per place, as a portal seals them (the triggers keep replaced_at).
INSERT INTO submissions (id, org_id, kind, scope_kind, location_id, state, version, data,
    catalogue_revision, submitted_at, created_at, receipt_no, snapshot)
  SELECT randomblob(16), o.id,
    CASE WHEN v.i < 40 THEN 'antivirus' ELSE 'gateway_logs' END, 'organisation', NULL, 'accepted',
    1, '{}', 1,
    CASE WHEN v.i = 39 THEN strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-1 day', '+' || o.i || ' seconds')
         ELSE strftime('%Y-%m-%dT%H:%M:%S+00:00', '2019-01-01', '+' || (v.i % 40) || ' days', '+' || o.i || ' seconds') END,
    '2019-01-01T00:00:00+00:00', printf('SR-2019-%08d', o.i * 50 + v.i), '{}'
  FROM o CROSS JOIN v ORDER BY o.i, v.i;
CREATE TEMP TABLE b AS SELECT row_number() OVER (ORDER BY sha256) - 1 AS i, sha256 FROM blobs;
INSERT INTO submission_files (id, submission_id, org_id, sha256, role, name, mime, size, created_at)
  SELECT randomblob(16), s.id, s.org_id, b.sha256,
    CASE WHEN s.kind = 'gateway_logs' THEN 'logs' ELSE 'evidence' END,
    'f.csv', 'text/csv', 4096, s.created_at
  FROM submissions s JOIN b ON b.i = (s.rowid % 1000);
COMMIT;
SQL
python3 - "$work/data" 100000 "$key" <<'PY'
import datetime, hashlib, hmac, os, struct, sqlite3, sys
data, entries, key = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
db = sqlite3.connect(os.path.join(data, "secportal.db"))
old = datetime.datetime(2019, 1, 1, tzinfo=datetime.timezone.utc)
def digest(parts):
    buf = b"".join(struct.pack(">Q", len(p.encode())) + p.encode() for p in parts)
    return hmac.new(key, buf, hashlib.sha256).hexdigest()
prev, rows = "0" * 64, []
for seq in range(1, entries + 1):
    at = old + datetime.timedelta(seconds=seq)
    h = digest([prev, str(seq), at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "", "bench@example.jp", "", "login.success", "bench@example.jp", "127.0.0.1", "null"])
    rows.append((seq, at.isoformat(), None, "bench@example.jp", None, "login.success", "bench@example.jp", "127.0.0.1", "null", prev, h))
    prev = h
db.executemany("INSERT INTO audit_log (seq, at, actor_id, actor, org_id, action, target, ip, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
db.commit()
PY
t1=$(date +%s.%N)
subs=$(sqlite3 "$db" "SELECT COUNT(*) FROM submissions")
files=$(sqlite3 "$db" "SELECT COUNT(*) FROM submission_files")
echo "seeded $subs submissions, $files file rows in $(python3 -c "print(f'{$t1 - $t0:.1f}')") s; database $(du -sm "$db" | cut -f1) MiB"
cp -a "$work/data" "$work/seed"

# 1. The server stops while its purge runs (SKIP_SERVER=1 leaves it out).
if [ -z "${SKIP_SERVER:-}" ]; then
port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
SECPORTAL_PURGE_HOUR=0 SECPORTAL_ADDR="127.0.0.1:$port" "$bin" serve > "$work/serve.log" 2>&1 &
server=$!
started=$(date +%s.%N)
waited=0
until [ "$(sqlite3 "$db" "SELECT COUNT(*) FROM audit_log WHERE action = 'retention.purged'" 2>/dev/null || echo 0)" -ge 3 ]; do
  sleep 0.5; waited=$((waited + 1))
  if [ "$waited" -gt 600 ]; then echo "no purge within 5 minutes"; exit 1; fi
  if ! kill -0 "$server" 2>/dev/null; then echo "server died"; cat "$work/serve.log"; exit 1; fi
done
running=$(date +%s.%N)
kill -TERM "$server"
sent=$(date +%s.%N)
wait "$server" || true
gone=$(date +%s.%N)
server=""
batches=$(sqlite3 "$db" "SELECT COUNT(*) FROM audit_log WHERE action = 'retention.purged'")
left=$(sqlite3 "$db" "SELECT COUNT(*) FROM submissions")
claim=$(sqlite3 "$db" "SELECT IFNULL(last_purge_on, '-') FROM retention_state")
echo "server: purge running $(python3 -c "print(f'{$running - $started:.1f}')") s after start; SIGTERM → exit in $(python3 -c "print(f'{$gone - $sent:.3f}')") s; $batches batch(es) committed, $left submissions left, day claim after stop: $claim"
fi

# 2. The whole purge from the command line on a fresh copy.
rm -rf "$work/data"; cp -a "$work/seed" "$work/data"
t() { local s e; s=$(date +%s.%N); "$@" > "$work/out.txt"; e=$(date +%s.%N); python3 -c "print(f'{$e - $s:.3f}')"; }
dry=$(t "$bin" retention purge --dry-run); echo "dry run ${dry} s: $(tail -1 "$work/out.txt")"
purge=$(t "$bin" retention purge); echo "purge ${purge} s: $(cat "$work/out.txt" | cut -c1-200)"
echo "left: $(sqlite3 "$db" "SELECT COUNT(*) FROM submissions") submissions, $(sqlite3 "$db" "SELECT COUNT(*) FROM submission_files") file rows, $(find "$work/data/files/blobs" -type f | wc -l) blobs; $(sqlite3 "$db" "SELECT COUNT(*) FROM audit_log WHERE action = 'retention.purged'") purge entries"
after=$(t "$bin" audit verify); echo "audit verify after ${after} s: $(cat "$work/out.txt")"
