-- Retention (保存期間) per record type, legal holds (法的保全), the daily purge's bookkeeping,
-- and the checkpoint that lets the audit chain verify after its oldest entries are purged.

-- How long each type of record is kept, in months; never below one year.
CREATE TABLE retention_periods (
    record_type TEXT PRIMARY KEY NOT NULL CHECK (record_type IN ('submissions', 'gateway_logs', 'audit')),
    months BIGINT NOT NULL CHECK (months >= 12 AND months <= 1200),
    updated_at TEXT NOT NULL
);
INSERT INTO retention_periods (record_type, months, updated_at) VALUES
    ('submissions', 60, '2026-12-01T00:00:00+00:00'),
    ('gateway_logs', 12, '2026-12-01T00:00:00+00:00'),
    ('audit', 60, '2026-12-01T00:00:00+00:00');

-- One row. The scheduled purge claims its day here (a conditional update: one node runs it),
-- and purges and hold changes both update the row first, so they never overlap.
CREATE TABLE retention_state (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    last_purge_on TEXT,
    last_purge_at TEXT,
    hold_changes BIGINT NOT NULL
);
INSERT INTO retention_state (id, last_purge_on, last_purge_at, hold_changes) VALUES (1, NULL, NULL, 0);

-- A hold on an organisation (submission_id NULL) or on one submission; lifted holds stay as
-- history. At most one hold in force per target.
CREATE TABLE legal_holds (
    id BLOB PRIMARY KEY NOT NULL,
    org_id BLOB NOT NULL REFERENCES organisations(id),
    submission_id BLOB REFERENCES submissions(id),
    reason TEXT NOT NULL,
    set_by BLOB NOT NULL REFERENCES users(id),
    set_at TEXT NOT NULL,
    lifted_by BLOB REFERENCES users(id),
    lifted_at TEXT,
    lift_reason TEXT,
    CHECK ((lifted_at IS NULL) = (lifted_by IS NULL))
);
CREATE UNIQUE INDEX legal_holds_in_force ON legal_holds(org_id, IFNULL(submission_id, X'00'))
    WHERE lifted_at IS NULL;
CREATE INDEX legal_holds_submission ON legal_holds(submission_id);

-- Entries 1..through_seq were removed by the retention purge; through_hash is the hash of
-- entry through_seq (what the first kept entry links to), seal a keyed MAC of both. It names
-- an entry still there when set (the purge sets it, then removes up to it), never the head,
-- and only moves forward.
CREATE TABLE audit_checkpoint (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    through_seq BIGINT NOT NULL,
    through_hash TEXT NOT NULL,
    seal TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TRIGGER audit_checkpoint_names_a_kept_entry BEFORE INSERT ON audit_checkpoint
WHEN NEW.through_seq < 1
  OR NEW.through_seq >= (SELECT seq FROM audit_head WHERE id = 1)
  OR NEW.through_hash IS NOT (SELECT hash FROM audit_log WHERE seq = NEW.through_seq)
BEGIN SELECT RAISE(ABORT, 'audit_checkpoint must name an entry before the head'); END;
CREATE TRIGGER audit_checkpoint_moves_forward BEFORE UPDATE ON audit_checkpoint
WHEN NEW.id IS NOT OLD.id
  OR NEW.through_seq <= OLD.through_seq
  OR NEW.through_seq >= (SELECT seq FROM audit_head WHERE id = 1)
  OR NEW.through_hash IS NOT (SELECT hash FROM audit_log WHERE seq = NEW.through_seq)
BEGIN SELECT RAISE(ABORT, 'audit_checkpoint only moves forward to an entry before the head'); END;
CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint
BEGIN SELECT RAISE(ABORT, 'audit_checkpoint only moves forward'); END;

-- Still append-only, except the prefix up to the checkpoint.
DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.seq > COALESCE((SELECT through_seq FROM audit_checkpoint WHERE id = 1), 0)
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
