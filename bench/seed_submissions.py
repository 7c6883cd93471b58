# Inserts N sealed submissions (200 organisations, six kinds, a third accepted) straight into
# the portal's database: SQLite at PATH, or PostgreSQL at URL when given.
# Usage: python3 bench/seed_submissions.py PATH N [URL]
import datetime, random, sys, uuid
path, n = sys.argv[1], int(sys.argv[2])
url = sys.argv[3] if len(sys.argv) > 3 else ""
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
