-- Idempotency-Key (IETF draft): one row per token and key. The first request inserts it
-- (the primary key decides which of several parallel retries runs), the answer is stored
-- when it is done, and retries get that answer back. Rows are pruned after a day.
CREATE TABLE api_idempotency (
    token_id UUID NOT NULL REFERENCES api_tokens(id),
    idem_key TEXT NOT NULL,
    -- SHA-256 of method, path and body: the same key with another request is refused (422).
    fingerprint BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    -- NULL while the first request is still running.
    status INTEGER,
    content_type TEXT,
    location TEXT,
    body BYTEA,
    PRIMARY KEY (token_id, idem_key)
);
CREATE INDEX api_idempotency_created ON api_idempotency(created_at);
