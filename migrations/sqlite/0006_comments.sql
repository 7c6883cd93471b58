-- The conversation between reviewer and organisation on a submission.
CREATE TABLE comments (
    id BLOB PRIMARY KEY NOT NULL,
    submission_id BLOB NOT NULL REFERENCES submissions(id),
    org_id BLOB NOT NULL REFERENCES organisations(id),
    author_id BLOB NOT NULL REFERENCES users(id),
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX comments_submission ON comments(submission_id, created_at);
