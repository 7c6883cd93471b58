-- Personal access tokens for /api/v1 (個人用アクセストークン): the secret itself is never stored,
-- only its SHA-256 and a short prefix to tell tokens apart. A token acts as its owner, within
-- the owner's organisation and role at the time of each use, and within its scopes.
CREATE TABLE api_tokens (
    id BLOB PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL REFERENCES users(id),
    org_id BLOB REFERENCES organisations(id),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- Space-separated, e.g. 'reports:read reports:write'.
    scopes TEXT NOT NULL CHECK (length(scopes) > 0),
    secret_hash BLOB NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    last_used_at TEXT,
    last_used_ip TEXT,
    -- When a read through the token was last written to the audit trail (reads are audited
    -- once per token per period; writes always).
    read_audited_at TEXT,
    revoked_at TEXT,
    revoked_by BLOB REFERENCES users(id),
    -- The rate limit's current window and the requests counted in it (a conditional update).
    window_start TEXT,
    window_count BIGINT NOT NULL DEFAULT 0,
    CHECK (expires_at > created_at)
);
CREATE INDEX api_tokens_user ON api_tokens(user_id, created_at);
CREATE INDEX api_tokens_created ON api_tokens(created_at);
