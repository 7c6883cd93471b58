-- Passkeys and security keys (WebAuthn) as a second factor, besides or instead of TOTP.
-- At most ten per user: a slot 1..10 unique per user (a second insert into a taken slot fails).
CREATE TABLE passkeys (
    id UUID PRIMARY KEY NOT NULL,
    user_id UUID NOT NULL REFERENCES users(id),
    slot BIGINT NOT NULL CHECK (slot BETWEEN 1 AND 10),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    credential_id BYTEA NOT NULL UNIQUE,
    -- The COSE key as the authenticator sent it (ES256 or RS256).
    public_key BYTEA NOT NULL,
    algorithm BIGINT NOT NULL,
    -- The signature counter last seen; a non-zero counter must increase.
    sign_count BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    UNIQUE (user_id, slot)
);

-- The challenge of a WebAuthn ceremony under way: one per binding (the session's token hash
-- for a registration, the pending sign-in's for a sign-in) and purpose; taken (deleted) by
-- the first answer, right or wrong, and worthless after five minutes.
CREATE TABLE webauthn_challenges (
    binding BYTEA NOT NULL,
    purpose TEXT NOT NULL CHECK (purpose IN ('register', 'sign_in')),
    user_id UUID NOT NULL REFERENCES users(id),
    challenge BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (binding, purpose)
);
CREATE INDEX webauthn_challenges_created ON webauthn_challenges(created_at);

-- Unlock mails: when sign-in is throttled for an account and address, the owner asks for a
-- one-time link by mail. Requests are kept an hour for their limits (per address, per client
-- address); only a link's hash is kept.
CREATE TABLE unlock_requests (
    email TEXT NOT NULL,
    ip TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX unlock_requests_email ON unlock_requests(email, at);
CREATE INDEX unlock_requests_ip ON unlock_requests(ip, at);
CREATE TABLE unlock_links (
    token_hash BYTEA PRIMARY KEY NOT NULL,
    user_id UUID NOT NULL REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);
CREATE INDEX unlock_links_user ON unlock_links(user_id);
