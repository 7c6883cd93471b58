-- Gateway send/receive logs (item 6): the Table 7-4-2 check made while a log uploads, kept
-- as JSON per organisation and file content, so pages read it instead of the log.
CREATE TABLE gateway_log_checks (
    org_id BLOB NOT NULL REFERENCES organisations(id),
    sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    result TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (org_id, sha256)
);

-- Request windows: a request opens on a date (none: when issued); an answer sealed after the
-- due date is marked late (期限後).
ALTER TABLE requests ADD COLUMN opens_on TEXT;
ALTER TABLE requests ADD COLUMN answered_late BOOLEAN NOT NULL DEFAULT FALSE;
