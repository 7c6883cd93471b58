-- What a reviewer needs to see in the queue before opening a submission, fixed when it is
-- sealed: a comma-separated list of flags (`late`: it answered a request after its due date;
-- `stale`: antivirus definitions older than the limit on the day of submission; `log`: a
-- gateway log check found problems). Read with the queue's row, so no query per row.
ALTER TABLE submissions ADD COLUMN flags TEXT NOT NULL DEFAULT '';
UPDATE submissions SET flags = 'late'
WHERE id IN (SELECT submission_id FROM requests WHERE answered_late AND submission_id IS NOT NULL);

-- Canned return reasons (差戻し理由の定型文) the Center's admins keep: a reviewer picks one on
-- the decision form. A retired one stays for the record; titles are unique among those in use.
CREATE TABLE return_reasons (
    id UUID PRIMARY KEY NOT NULL,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    body TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    active BOOLEAN NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX return_reasons_title ON return_reasons(title) WHERE active;
