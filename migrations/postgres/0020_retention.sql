-- Retention (保存期間) per record type, legal holds (法的保全), the daily purge's bookkeeping,
-- and the checkpoint that lets the audit chain verify after its oldest entries are purged.

-- How long each type of record is kept, in months; never below one year.
CREATE TABLE retention_periods (
    record_type TEXT PRIMARY KEY NOT NULL CHECK (record_type IN ('submissions', 'gateway_logs', 'audit')),
    months BIGINT NOT NULL CHECK (months >= 12 AND months <= 1200),
    updated_at TIMESTAMPTZ NOT NULL
);
INSERT INTO retention_periods (record_type, months, updated_at) VALUES
    ('submissions', 60, '2026-12-01T00:00:00+00:00'),
    ('gateway_logs', 12, '2026-12-01T00:00:00+00:00'),
    ('audit', 60, '2026-12-01T00:00:00+00:00');

-- One row. The scheduled purge claims its day here (a conditional update: one node runs it),
-- and purges and hold changes both update the row first, so they never overlap.
CREATE TABLE retention_state (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    last_purge_on DATE,
    last_purge_at TIMESTAMPTZ,
    hold_changes BIGINT NOT NULL
);
INSERT INTO retention_state (id, last_purge_on, last_purge_at, hold_changes) VALUES (1, NULL, NULL, 0);

-- A hold on an organisation (submission_id NULL) or on one submission; lifted holds stay as
-- history. At most one hold in force per target.
CREATE TABLE legal_holds (
    id UUID PRIMARY KEY NOT NULL,
    org_id UUID NOT NULL REFERENCES organisations(id),
    submission_id UUID REFERENCES submissions(id),
    reason TEXT NOT NULL,
    set_by UUID NOT NULL REFERENCES users(id),
    set_at TIMESTAMPTZ NOT NULL,
    lifted_by UUID REFERENCES users(id),
    lifted_at TIMESTAMPTZ,
    lift_reason TEXT,
    CHECK ((lifted_at IS NULL) = (lifted_by IS NULL))
);
CREATE UNIQUE INDEX legal_holds_in_force
    ON legal_holds(org_id, COALESCE(submission_id, '00000000-0000-0000-0000-000000000000'::uuid))
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
    at TIMESTAMPTZ NOT NULL
);
CREATE FUNCTION audit_checkpoint_guard() RETURNS trigger AS $$
DECLARE
    head_seq BIGINT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_checkpoint only moves forward';
    END IF;
    SELECT seq INTO head_seq FROM audit_head WHERE id = 1;
    IF NEW.through_seq < 1
       OR NEW.through_seq >= head_seq
       OR NEW.through_hash IS DISTINCT FROM (SELECT hash FROM audit_log WHERE seq = NEW.through_seq)
       OR (TG_OP = 'UPDATE' AND (NEW.id IS DISTINCT FROM OLD.id OR NEW.through_seq <= OLD.through_seq)) THEN
        RAISE EXCEPTION 'audit_checkpoint only moves forward to an entry before the head';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_checkpoint_guard BEFORE INSERT OR UPDATE OR DELETE ON audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoint_guard();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Still append-only, except the prefix up to the checkpoint.
DROP TRIGGER audit_log_no_update ON audit_log;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE FUNCTION audit_log_purged_prefix_only() RETURNS trigger AS $$
BEGIN
    IF OLD.seq > COALESCE((SELECT through_seq FROM audit_checkpoint WHERE id = 1), 0) THEN
        RAISE EXCEPTION 'audit_log is append-only';
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_purged_prefix_only();
