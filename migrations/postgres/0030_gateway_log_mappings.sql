-- Gateway-log column mappings (列の対応づけ, issue 11 item 2): which column of a gateway
-- site's logs holds each field of Table 7-4-2, as the organisation said it once (JSON), used
-- for the site's next logs. `version` makes each change a conditional write.
CREATE TABLE gateway_log_mappings (
    org_id UUID NOT NULL REFERENCES organisations(id),
    site_id UUID NOT NULL REFERENCES locations(id),
    mapping TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_by UUID REFERENCES users(id),
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, site_id)
);
