-- Second factor (TOTP, RFC 6238). The secret is set when enrolment starts and counts only
-- once confirmed with a code (totp_enabled_at); the last step used refuses a replayed code.
ALTER TABLE users ADD COLUMN totp_secret BYTEA;
ALTER TABLE users ADD COLUMN totp_enabled_at TIMESTAMPTZ;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
-- A Center admin can require a second factor of every user of an organisation.
ALTER TABLE organisations ADD COLUMN require_second_factor BOOLEAN NOT NULL DEFAULT FALSE;

-- One-time recovery codes, stored as SHA-256 (each carries 50 random bits).
CREATE TABLE recovery_codes (
    user_id UUID NOT NULL REFERENCES users(id),
    code_hash BYTEA NOT NULL,
    used_at TIMESTAMPTZ,
    PRIMARY KEY (user_id, code_hash)
);

-- A sign-in whose password was right and whose second factor is still to come: never a session.
CREATE TABLE pending_logins (
    token_hash BYTEA PRIMARY KEY NOT NULL,
    user_id UUID NOT NULL REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next TEXT NOT NULL DEFAULT ''
);
CREATE INDEX pending_logins_user ON pending_logins(user_id);
