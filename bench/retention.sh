#!/usr/bin/env bash
# The daily retention purge on a large old database (SQLite, release build): 500 organisations
# × 11 versions of a report (10 superseded in 2019, 1 in force), 1,000 gateway-log submissions
# from 2019 (one file each, 4 KiB, every file its own blob), and 100,000 keyed audit entries
# from 2019. Times `retention purge --dry-run`, `audit verify` before, `retention purge`
# (rows, the audit prefix behind its checkpoint, then the blobs), `audit verify` after and
# `check`, against the ceiling the scheduler sets: its lease lasts 5 minutes.
# Usage: bench/retention.sh [organisations] [audit_entries]
#        bench/retention.sh --million   (see bench/retention_million.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--million" ]; then
  exec bench/retention_million.sh
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/secportal-target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/secportal"
mkdir -p target
work="$(mktemp -d -p "$PWD/target" bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
orgs="${1:-500}"
entries="${2:-100000}"
key=$(python3 -c "import secrets; print(secrets.token_hex(32))")
export SECPORTAL_DATA_DIR="$work/data" SECPORTAL_LOG=warn SECPORTAL_AUDIT_KEY="$key"
"$bin" migrate >/dev/null
python3 - "$work/data" "$orgs" "$entries" "$key" <<'PY'
import datetime, hashlib, hmac, os, struct, sqlite3, sys, uuid
data, orgs, entries, key = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), bytes.fromhex(sys.argv[4])
db = sqlite3.connect(os.path.join(data, "secportal.db"))
old = datetime.datetime(2019, 1, 1, tzinfo=datetime.timezone.utc)
now = datetime.datetime.now(datetime.timezone.utc)
def blob(i):
    body = os.urandom(4096)
    sha = hashlib.sha256(body).hexdigest()
    d = os.path.join(data, "files", "blobs", sha[:2])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, sha), "wb") as f:
        f.write(body)
    db.execute("INSERT INTO blobs (sha256, size, created_at) VALUES (?, ?, ?)", (sha, len(body), old.isoformat()))
    return sha, len(body)
n = 0
def submission(org, kind, at, loc=None):
    global n
    n += 1
    sid = uuid.uuid4().bytes
    db.execute("INSERT INTO submissions (id, org_id, kind, scope_kind, location_id, state, version, data, catalogue_revision, submitted_at, created_at, receipt_no, snapshot) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
               (sid, org, kind, "organisation" if loc is None else "gateway_site", loc, "accepted", 1, "{}", 1, at.isoformat(), at.isoformat(), f"SR-{at.year}-{n:06d}", "{}"))
    sha, size = blob(n)
    db.execute("INSERT INTO submission_files (id, submission_id, org_id, sha256, role, name, mime, size, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
               (uuid.uuid4().bytes, sid, org, sha, "logs" if kind == "gateway_logs" else "evidence", f"f{n}.csv", "text/csv", size, at.isoformat()))
for o in range(orgs):
    oid = uuid.uuid4().bytes
    db.execute("INSERT INTO organisations (id, name, user_code, created_at) VALUES (?, ?, ?, ?)", (oid, f"Org {o}", f"R{o:04d}", old.isoformat()))
    for v in range(10):
        submission(oid, "antivirus", old + datetime.timedelta(days=v, seconds=o))
    submission(oid, "antivirus", now - datetime.timedelta(days=1))
    if o < 500:
        for g in range(2):
            submission(oid, "gateway_logs", old + datetime.timedelta(days=g, seconds=o))
def digest(parts):
    buf = b"".join(struct.pack(">Q", len(p.encode())) + p.encode() for p in parts)
    return hmac.new(key, buf, hashlib.sha256).hexdigest()
prev = "0" * 64
rows = []
for seq in range(1, entries + 1):
    at = old + datetime.timedelta(seconds=seq)
    at_hash = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    detail = "null"
    h = digest([prev, str(seq), at_hash, "", "bench@example.jp", "", "login.success", "bench@example.jp", "127.0.0.1", detail])
    rows.append((seq, at.isoformat(), None, "bench@example.jp", None, "login.success", "bench@example.jp", "127.0.0.1", detail, prev, h))
    prev = h
db.executemany("INSERT INTO audit_log (seq, at, actor_id, actor, org_id, action, target, ip, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
db.commit()
print(f"seeded {n} submissions with one file each, {entries} audit entries")
PY
# Each round purges a fresh copy of the seeded folder; medians over the rounds.
rounds="${ROUNDS:-3}"
t() { local s e; s=$(date +%s.%N); "$@" > "$work/out.txt"; e=$(date +%s.%N); python3 -c "print(f'{$e - $s:.3f}')"; }
cp -a "$work/data" "$work/seed"
: > "$work/times.txt"
for r in $(seq 1 "$rounds"); do
  rm -rf "$work/data"; cp -a "$work/seed" "$work/data"
  dry=$(t "$bin" retention purge --dry-run); dry_out=$(tail -1 "$work/out.txt")
  before=$(t "$bin" audit verify); before_out=$(cat "$work/out.txt")
  mib_before=$(du -sm "$work/data/files" | cut -f1)
  purge=$(t "$bin" retention purge); purge_out=$(cat "$work/out.txt")
  mib_after=$(du -sm "$work/data/files" | cut -f1)
  after=$(t "$bin" audit verify); after_out=$(cat "$work/out.txt")
  check=$(t "$bin" check); check_out=$(tail -1 "$work/out.txt")
  echo "round $r: dry run ${dry}s, audit verify before ${before}s, purge ${purge}s, audit verify after ${after}s, check ${check}s; files ${mib_before} → ${mib_after} MiB"
  echo "$dry $before $purge $after $check" >> "$work/times.txt"
done
echo "dry run: $dry_out"
echo "before: $before_out"
echo "purge: $purge_out"
echo "after: $after_out"
echo "check: $check_out"
python3 - "$work/times.txt" <<'PY'
import statistics, sys
cols = list(zip(*[map(float, l.split()) for l in open(sys.argv[1]) if l.strip()]))
names = ["dry run", "audit verify before", "purge", "audit verify after", "check"]
med = [statistics.median(c) for c in cols]
print("medians: " + ", ".join(f"{n} {m:.3f} s" for n, m in zip(names, med)))
print(f"purge / scheduler lease (300 s): {med[2] / 300:.4f}")
PY
