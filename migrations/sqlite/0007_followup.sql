-- The Center's follow-up: improvement instructions (改善措置の指示) with their history and
-- files, requests (提出依頼) for items 5 and 6, the in-app inbox, e-mail preferences, and the
-- bookkeeping that makes scheduled mail go out once even with two app instances.
CREATE TABLE instructions (
    id BLOB PRIMARY KEY NOT NULL,
    org_id BLOB NOT NULL REFERENCES organisations(id),
    submission_id BLOB REFERENCES submissions(id),
    item_key TEXT NOT NULL,
    location_id BLOB REFERENCES locations(id),
    problem TEXT NOT NULL,
    required_change TEXT NOT NULL,
    due_date TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'answered', 'closed')),
    extension_until TEXT,
    extension_reason TEXT,
    issued_by BLOB NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE INDEX instructions_org ON instructions(org_id, state);
CREATE INDEX instructions_due ON instructions(state, due_date);

CREATE TABLE instruction_events (
    id BLOB PRIMARY KEY NOT NULL,
    instruction_id BLOB NOT NULL REFERENCES instructions(id),
    org_id BLOB NOT NULL REFERENCES organisations(id),
    kind TEXT NOT NULL CHECK (kind IN ('issued', 'answered', 'extension_requested', 'extension_granted', 'extension_refused', 'closed', 'reopened')),
    body TEXT NOT NULL,
    due_date TEXT,
    actor_id BLOB NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL
);
CREATE INDEX instruction_events_instruction ON instruction_events(instruction_id, created_at);

CREATE TABLE instruction_files (
    id BLOB PRIMARY KEY NOT NULL,
    event_id BLOB NOT NULL REFERENCES instruction_events(id),
    instruction_id BLOB NOT NULL REFERENCES instructions(id),
    org_id BLOB NOT NULL REFERENCES organisations(id),
    sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    name TEXT NOT NULL,
    mime TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX instruction_files_instruction ON instruction_files(instruction_id);
CREATE INDEX instruction_files_sha ON instruction_files(sha256);

CREATE TABLE requests (
    id BLOB PRIMARY KEY NOT NULL,
    org_id BLOB NOT NULL REFERENCES organisations(id),
    item_key TEXT NOT NULL CHECK (item_key IN ('inhouse_measures', 'gateway_logs')),
    location_id BLOB REFERENCES locations(id),
    period_from TEXT,
    period_to TEXT,
    due_date TEXT NOT NULL,
    note TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'answered', 'withdrawn')),
    submission_id BLOB REFERENCES submissions(id),
    issued_by BLOB NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    answered_at TEXT
);
CREATE INDEX requests_org ON requests(org_id, state);
CREATE INDEX requests_due ON requests(state, due_date);

CREATE TABLE notifications (
    id BLOB PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    args TEXT NOT NULL,
    link TEXT NOT NULL,
    read_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX notifications_user ON notifications(user_id, created_at);

-- A row means: this user does not want e-mail of this kind (the inbox still shows it).
CREATE TABLE mail_optouts (
    user_id BLOB NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- Scheduled mail sent: one row per (what, for whom, which day or due date); the insert that
-- wins is the one that sends, so two instances never send the same reminder twice.
CREATE TABLE sent_reminders (
    key TEXT PRIMARY KEY NOT NULL,
    created_at TEXT NOT NULL
);

-- Who runs the scheduler now (a lease renewed while it runs).
CREATE TABLE job_leases (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    until TEXT NOT NULL
);
