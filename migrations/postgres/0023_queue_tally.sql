-- The counts per state above the review queue, kept as counters: one row per state, kind,
-- organisation and assignee (the nil UUID when nobody has taken it) — the filters the queue
-- page offers — with the number of sealed submissions (receipt number set) in it. Triggers
-- keep it in the same transaction as every insert, change and delete of a submission, so no
-- write path can forget it, and reading the counts costs the rows of this table under the
-- filter: at most states x kinds x organisations x reviewers, however many submissions the
-- queue holds. `secportal check` compares it with a full count and `secportal recount`
-- rebuilds it; the server compares them at start.
CREATE TABLE queue_tally (
    state TEXT NOT NULL,
    kind TEXT NOT NULL,
    org_id UUID NOT NULL,
    assignee UUID NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (state, kind, org_id, assignee)
);
CREATE INDEX queue_tally_org ON queue_tally(org_id);
CREATE INDEX queue_tally_assignee ON queue_tally(assignee);

INSERT INTO queue_tally (state, kind, org_id, assignee, n)
SELECT state, kind, org_id, COALESCE(assigned_to, '00000000-0000-0000-0000-000000000000'), COUNT(*)
FROM submissions WHERE receipt_no IS NOT NULL GROUP BY 1, 2, 3, 4;

-- Once per statement, over the rows it changed (transition tables): one grouped upsert, its
-- counters in key order, so two transactions moving submissions in opposite directions
-- between the same counters lock them in the same order and never deadlock; a statement
-- touching a million rows (a bulk load) costs one grouped insert, not a million.
CREATE FUNCTION queue_tally_apply() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO queue_tally (state, kind, org_id, assignee, n)
        SELECT state, kind, org_id, COALESCE(assigned_to, '00000000-0000-0000-0000-000000000000'), COUNT(*)
        FROM queue_tally_new WHERE receipt_no IS NOT NULL
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (state, kind, org_id, assignee) DO UPDATE SET n = queue_tally.n + EXCLUDED.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO queue_tally (state, kind, org_id, assignee, n)
        SELECT state, kind, org_id, COALESCE(assigned_to, '00000000-0000-0000-0000-000000000000'), -COUNT(*)
        FROM queue_tally_old WHERE receipt_no IS NOT NULL
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (state, kind, org_id, assignee) DO UPDATE SET n = queue_tally.n + EXCLUDED.n;
    ELSE
        INSERT INTO queue_tally (state, kind, org_id, assignee, n)
        SELECT state, kind, org_id, assignee, SUM(d)
        FROM (
            SELECT state, kind, org_id, COALESCE(assigned_to, '00000000-0000-0000-0000-000000000000') AS assignee, -1 AS d
            FROM queue_tally_old WHERE receipt_no IS NOT NULL
            UNION ALL
            SELECT state, kind, org_id, COALESCE(assigned_to, '00000000-0000-0000-0000-000000000000'), 1
            FROM queue_tally_new WHERE receipt_no IS NOT NULL
        ) changes
        GROUP BY 1, 2, 3, 4 HAVING SUM(d) <> 0 ORDER BY 1, 2, 3, 4
        ON CONFLICT (state, kind, org_id, assignee) DO UPDATE SET n = queue_tally.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER queue_tally_insert AFTER INSERT ON submissions
    REFERENCING NEW TABLE AS queue_tally_new
    FOR EACH STATEMENT EXECUTE FUNCTION queue_tally_apply();
CREATE TRIGGER queue_tally_delete AFTER DELETE ON submissions
    REFERENCING OLD TABLE AS queue_tally_old
    FOR EACH STATEMENT EXECUTE FUNCTION queue_tally_apply();
CREATE TRIGGER queue_tally_update AFTER UPDATE ON submissions
    REFERENCING OLD TABLE AS queue_tally_old NEW TABLE AS queue_tally_new
    FOR EACH STATEMENT EXECUTE FUNCTION queue_tally_apply();
