-- Review: versions of a submission share a series; decisions on each version.
ALTER TABLE submissions ADD COLUMN series_id BLOB;
UPDATE submissions SET series_id = id WHERE series_id IS NULL;
CREATE INDEX submissions_series ON submissions(series_id, version);
CREATE INDEX submissions_queue ON submissions(state, submitted_at, id);

CREATE TABLE decisions (
    id BLOB PRIMARY KEY NOT NULL,
    submission_id BLOB NOT NULL REFERENCES submissions(id),
    org_id BLOB NOT NULL REFERENCES organisations(id),
    decision TEXT NOT NULL CHECK (decision IN ('accepted', 'returned')),
    reason TEXT NOT NULL,
    reviewer_id BLOB NOT NULL REFERENCES users(id),
    decided_at TEXT NOT NULL
);
CREATE UNIQUE INDEX decisions_once ON decisions(submission_id);
