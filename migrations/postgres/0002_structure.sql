-- Organisation structure (offices and gateway sites, connections), the revisioned requirement
-- catalogue, administrator appointments and submissions.
ALTER TABLE organisations ADD COLUMN name_kana TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN postal_code TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN contact_name TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN contact_phone TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN contact_email TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

-- Every NACCS user code of an organisation, the primary one (organisations.user_code) included.
CREATE TABLE org_user_codes (
    code TEXT PRIMARY KEY NOT NULL,
    org_id UUID NOT NULL REFERENCES organisations(id),
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX org_user_codes_org ON org_user_codes(org_id);
INSERT INTO org_user_codes (code, org_id, created_at) SELECT user_code, id, created_at FROM organisations;

-- 事業所 (kind 'office') and ゲートウェイコンピュータ等の設置場所 (kind 'gateway_site', under an office).
-- Deactivated, never deleted, so history holds.
CREATE TABLE locations (
    id UUID PRIMARY KEY NOT NULL,
    org_id UUID NOT NULL REFERENCES organisations(id),
    kind TEXT NOT NULL CHECK (kind IN ('office', 'gateway_site')),
    office_id UUID REFERENCES locations(id),
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CHECK ((kind = 'gateway_site') = (office_id IS NOT NULL))
);
CREATE INDEX locations_org ON locations(org_id);

CREATE TABLE connections (
    id UUID PRIMARY KEY NOT NULL,
    org_id UUID NOT NULL REFERENCES organisations(id),
    location_id UUID NOT NULL REFERENCES locations(id),
    form TEXT NOT NULL CHECK (form IN ('peer_to_peer', 'router', 'gateway')),
    router_id TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX connections_org ON connections(org_id);

CREATE TABLE catalogue_revisions (
    revision BIGINT PRIMARY KEY NOT NULL,
    published_at TIMESTAMPTZ NOT NULL,
    published_by TEXT NOT NULL,
    note TEXT NOT NULL
);

CREATE TABLE catalogue_items (
    revision BIGINT NOT NULL REFERENCES catalogue_revisions(revision),
    key TEXT NOT NULL,
    position BIGINT NOT NULL,
    number TEXT NOT NULL,
    title_ja TEXT NOT NULL,
    title_en TEXT NOT NULL,
    explanation_ja TEXT NOT NULL,
    explanation_en TEXT NOT NULL,
    forms TEXT NOT NULL,
    scopes TEXT NOT NULL,
    trigger_kind TEXT NOT NULL CHECK (trigger_kind IN ('always', 'on_change', 'on_request')),
    renewal_days BIGINT,
    PRIMARY KEY (revision, key)
);

-- 管理責任者: one row per appointment; a change of person is a new row.
CREATE TABLE appointments (
    id UUID PRIMARY KEY NOT NULL,
    org_id UUID NOT NULL REFERENCES organisations(id),
    location_id UUID NOT NULL REFERENCES locations(id),
    name TEXT NOT NULL,
    name_kana TEXT NOT NULL,
    department TEXT NOT NULL,
    title TEXT NOT NULL,
    phone TEXT NOT NULL,
    emergency_contact TEXT NOT NULL,
    email TEXT NOT NULL,
    effective_from DATE NOT NULL,
    created_by UUID NOT NULL REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX appointments_location ON appointments(location_id, effective_from);

-- A report to the Center; the review flow owns states beyond `submitted`.
CREATE TABLE submissions (
    id UUID PRIMARY KEY NOT NULL,
    org_id UUID NOT NULL REFERENCES organisations(id),
    kind TEXT NOT NULL,
    scope_kind TEXT NOT NULL CHECK (scope_kind IN ('organisation', 'office', 'gateway_site')),
    location_id UUID REFERENCES locations(id),
    state TEXT NOT NULL CHECK (state IN ('draft', 'submitted', 'under_review', 'accepted', 'returned')),
    version BIGINT NOT NULL,
    data TEXT NOT NULL,
    catalogue_revision BIGINT NOT NULL REFERENCES catalogue_revisions(revision),
    submitted_by UUID REFERENCES users(id),
    submitted_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX submissions_org ON submissions(org_id, kind);
