-- The conversation between reviewer and organisation on a submission.
CREATE TABLE comments (
    id UUID PRIMARY KEY NOT NULL,
    submission_id UUID NOT NULL REFERENCES submissions(id),
    org_id UUID NOT NULL REFERENCES organisations(id),
    author_id UUID NOT NULL REFERENCES users(id),
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX comments_submission ON comments(submission_id, created_at);
