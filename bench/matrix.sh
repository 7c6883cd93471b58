#!/usr/bin/env bash
# The Center's compliance matrix (コンプライアンス一覧) for many organisations: N organisations,
# each with an office and one active connection (form by k % 3; every third also a gateway
# site), and one sealed report per catalogue kind (a third accepted, the rest waiting).
# Sequential requests as one reviewer, nothing cached between them: the whole matrix, a
# filtered one, beside /healthz and the first queue page in the same run; median and p90.
# Usage: bench/matrix.sh [organisations] [requests]
source "$(dirname "$0")/common.sh"
n="${1:-3000}"
requests="${2:-15}"
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
"$bin" migrate >/dev/null
python3 - "$work/data/secportal.db" "$n" <<'PY'
import datetime, sqlite3, sys, uuid
path, n = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(path)
db.execute("PRAGMA synchronous = OFF")
kinds = ["administrator", "id_management", "antivirus", "system_configuration", "router_ports", "outside_connections"]
forms = ["peer_to_peer", "router", "gateway"]
start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
t = start.isoformat()
k = 0
for i in range(n):
    oid, lid = uuid.uuid4().bytes, uuid.uuid4().bytes
    db.execute("INSERT INTO organisations (id, name, user_code, created_at) VALUES (?, ?, ?, ?)", (oid, f"株式会社テスト物流{i:04d}", f"M{i:04d}", t))
    db.execute("INSERT INTO locations (id, org_id, kind, name, address, active, version, created_at, updated_at) VALUES (?, ?, 'office', '本社', '東京都港区', 1, 1, ?, ?)", (lid, oid, t, t))
    db.execute("INSERT INTO connections (id, org_id, location_id, form, router_id, active, created_at) VALUES (?, ?, ?, ?, 'R', 1, ?)", (uuid.uuid4().bytes, oid, lid, forms[i % 3], t))
    if i % 3 == 2:
        gid = uuid.uuid4().bytes
        db.execute("INSERT INTO locations (id, org_id, kind, name, address, active, version, created_at, updated_at, office_id) VALUES (?, ?, 'gateway_site', 'GW室', '東京都港区', 1, 1, ?, ?, ?)", (gid, oid, t, t, lid))
    for kind in kinds:
        k += 1
        at = (start + datetime.timedelta(seconds=k)).isoformat()
        loc = lid if kind in ("administrator", "router_ports") else None
        db.execute("INSERT INTO submissions (id, org_id, kind, scope_kind, location_id, state, version, data, catalogue_revision, submitted_at, created_at, receipt_no, snapshot) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   (uuid.uuid4().bytes, oid, kind, "office" if loc else "organisation", loc, "accepted" if k % 3 == 0 else "submitted", 1, "{}", 1, at, at, f"SR-M-{k:07d}", "{}"))
db.commit()
db.execute("ANALYZE")
print(f"seeded {n} organisations, {k} reports")
PY
"$bin" recount >/dev/null 2>&1 || true
start_portal
sign_in_reviewer
measure() { # label, path
  local times
  times=$(for _ in $(seq 1 "$requests"); do curl -s -o /dev/null -w '%{time_total}\n' -H "Cookie: $cookie" "$base$2"; done | sort -n)
  local med p90 size code
  med=$(echo "$times" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  p90=$(echo "$times" | awk '{a[NR]=$1} END {i=int(NR*0.9+0.5); if (i<1) i=1; print a[i]}')
  size=$(curl -s -H "Cookie: $cookie" "$base$2" | wc -c)
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$base$2")
  printf '%-28s status %s  median %6.1f ms  p90 %6.1f ms  %8d bytes\n' "$1" "$code" "$(echo "$med*1000" | bc -l)" "$(echo "$p90*1000" | bc -l)" "$size"
}
echo "organisations: $n; $requests sequential requests each"
measure "/healthz" "/healthz"
measure "queue, first page" "/review"
measure "matrix, all" "/admin/matrix"
measure "matrix, gateway form" "/admin/matrix?form=gateway"
measure "matrix, status returned" "/admin/matrix?status=returned"
