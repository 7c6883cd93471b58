-- Files stored once by SHA-256, their links to submissions, receipt numbers and sealed
-- snapshots.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY NOT NULL,
    size INTEGER NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE submission_files (
    id BLOB PRIMARY KEY NOT NULL,
    submission_id BLOB NOT NULL REFERENCES submissions(id),
    org_id BLOB NOT NULL REFERENCES organisations(id),
    sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    mime TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX submission_files_submission ON submission_files(submission_id);
CREATE INDEX submission_files_sha ON submission_files(sha256);

-- One row per year: the last receipt number handed out (gap-free: incremented in the
-- submitting transaction).
CREATE TABLE receipt_counters (
    year INTEGER PRIMARY KEY NOT NULL,
    last INTEGER NOT NULL
);

ALTER TABLE submissions ADD COLUMN receipt_no TEXT;
ALTER TABLE submissions ADD COLUMN snapshot TEXT;
ALTER TABLE submissions ADD COLUMN updated_at TEXT;
CREATE UNIQUE INDEX submissions_receipt ON submissions(receipt_no);

-- A sealed submission never changes its receipt, snapshot or submitter.
CREATE TRIGGER submissions_sealed BEFORE UPDATE OF receipt_no, snapshot, data, submitted_by, submitted_at ON submissions
WHEN OLD.snapshot IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a submitted version is sealed'); END;
