-- Files stored once by SHA-256, their links to submissions, receipt numbers and sealed
-- snapshots.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY NOT NULL,
    size BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE submission_files (
    id UUID PRIMARY KEY NOT NULL,
    submission_id UUID NOT NULL REFERENCES submissions(id),
    org_id UUID NOT NULL REFERENCES organisations(id),
    sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    mime TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX submission_files_submission ON submission_files(submission_id);
CREATE INDEX submission_files_sha ON submission_files(sha256);

-- One row per year: the last receipt number handed out (gap-free: incremented in the
-- submitting transaction).
CREATE TABLE receipt_counters (
    year INTEGER PRIMARY KEY NOT NULL,
    last BIGINT NOT NULL
);

ALTER TABLE submissions ADD COLUMN receipt_no TEXT;
ALTER TABLE submissions ADD COLUMN snapshot TEXT;
ALTER TABLE submissions ADD COLUMN updated_at TIMESTAMPTZ;
CREATE UNIQUE INDEX submissions_receipt ON submissions(receipt_no);

-- A sealed submission never changes its receipt, snapshot or submitter.
CREATE FUNCTION submissions_sealed() RETURNS trigger AS $$
BEGIN
    IF OLD.snapshot IS NOT NULL AND (
        NEW.receipt_no IS DISTINCT FROM OLD.receipt_no OR NEW.snapshot IS DISTINCT FROM OLD.snapshot
        OR NEW.data IS DISTINCT FROM OLD.data OR NEW.submitted_by IS DISTINCT FROM OLD.submitted_by
        OR NEW.submitted_at IS DISTINCT FROM OLD.submitted_at) THEN
        RAISE EXCEPTION 'a submitted version is sealed';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER submissions_sealed BEFORE UPDATE ON submissions
    FOR EACH ROW EXECUTE FUNCTION submissions_sealed();
