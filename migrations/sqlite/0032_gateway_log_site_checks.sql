-- Gateway-log checks per gateway site (issue 11): the check of a log depends on its bytes and
-- on the column mapping of the site it was uploaded for, so the same content uploaded for two
-- sites has a check for each. A row is also the re-check job of a mapping saved on that log:
-- 'pending' until a node claims it ('running', with its holder and lease, taken again once
-- the lease has passed, so a restart loses nothing), then 'done' (result replaced), 'refused'
-- (the log does not read with the mapping; reason) or 'failed' (the store could not be read).
-- `result` is always the latest finished check (the mapping form's preview reads it), and
-- `version` the site's mapping version the row is (or is being) made with. No references:
-- the rows go with the organisation's files of that content (retention), like
-- gateway_log_checks; the older table stays for logs checked before this one.
CREATE TABLE gateway_log_site_checks (
    org_id BLOB NOT NULL,
    site_id BLOB NOT NULL,
    sha256 TEXT NOT NULL,
    result TEXT NOT NULL,
    state TEXT NOT NULL,
    version BIGINT NOT NULL,
    mapping TEXT,
    reason TEXT,
    file_name TEXT NOT NULL,
    requested_by BLOB,
    holder TEXT,
    lease_until TEXT,
    attempts BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (org_id, site_id, sha256)
);
CREATE INDEX gateway_log_site_checks_state ON gateway_log_site_checks (state, lease_until);
