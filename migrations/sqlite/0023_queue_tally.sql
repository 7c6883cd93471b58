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
    org_id BLOB NOT NULL,
    assignee BLOB NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (state, kind, org_id, assignee)
) WITHOUT ROWID;
CREATE INDEX queue_tally_org ON queue_tally(org_id);
CREATE INDEX queue_tally_assignee ON queue_tally(assignee);

INSERT INTO queue_tally (state, kind, org_id, assignee, n)
SELECT state, kind, org_id, COALESCE(assigned_to, zeroblob(16)), COUNT(*)
FROM submissions WHERE receipt_no IS NOT NULL GROUP BY 1, 2, 3, 4;

CREATE TRIGGER queue_tally_insert AFTER INSERT ON submissions
WHEN NEW.receipt_no IS NOT NULL
BEGIN
    INSERT INTO queue_tally (state, kind, org_id, assignee, n)
    VALUES (NEW.state, NEW.kind, NEW.org_id, COALESCE(NEW.assigned_to, zeroblob(16)), 1)
    ON CONFLICT (state, kind, org_id, assignee) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER queue_tally_delete AFTER DELETE ON submissions
WHEN OLD.receipt_no IS NOT NULL
BEGIN
    INSERT INTO queue_tally (state, kind, org_id, assignee, n)
    VALUES (OLD.state, OLD.kind, OLD.org_id, COALESCE(OLD.assigned_to, zeroblob(16)), -1)
    ON CONFLICT (state, kind, org_id, assignee) DO UPDATE SET n = n - 1;
END;

CREATE TRIGGER queue_tally_update AFTER UPDATE OF state, kind, org_id, assigned_to, receipt_no ON submissions
WHEN OLD.state IS NOT NEW.state OR OLD.kind IS NOT NEW.kind OR OLD.org_id IS NOT NEW.org_id
    OR OLD.assigned_to IS NOT NEW.assigned_to OR (OLD.receipt_no IS NULL) <> (NEW.receipt_no IS NULL)
BEGIN
    INSERT INTO queue_tally (state, kind, org_id, assignee, n)
    SELECT OLD.state, OLD.kind, OLD.org_id, COALESCE(OLD.assigned_to, zeroblob(16)), -1
    WHERE OLD.receipt_no IS NOT NULL
    ON CONFLICT (state, kind, org_id, assignee) DO UPDATE SET n = n - 1;
    INSERT INTO queue_tally (state, kind, org_id, assignee, n)
    SELECT NEW.state, NEW.kind, NEW.org_id, COALESCE(NEW.assigned_to, zeroblob(16)), 1
    WHERE NEW.receipt_no IS NOT NULL
    ON CONFLICT (state, kind, org_id, assignee) DO UPDATE SET n = n + 1;
END;
