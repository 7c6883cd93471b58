-- The retention purge reads its candidates through indexes instead of asking, per submission,
-- whether a later version exists: each sealed report version carries replaced_at, the moment
-- the next version of the same organisation, kind and place was sealed (kept by the trigger
-- below, whatever path seals or inserts a version), and gateway logs are read by
-- (kind, submitted_at). The links the purge clears get their own indexes.
ALTER TABLE submissions ADD COLUMN replaced_at TIMESTAMPTZ;
CREATE INDEX submissions_versions ON submissions(org_id, kind, location_id, submitted_at);
CREATE INDEX submissions_replaced ON submissions(replaced_at, id) WHERE replaced_at IS NOT NULL;
CREATE INDEX submissions_logs ON submissions(kind, submitted_at, id);
CREATE INDEX instructions_submission ON instructions(submission_id);
CREATE INDEX requests_submission ON requests(submission_id);

UPDATE submissions s SET replaced_at = (
    SELECT MIN(n.submitted_at) FROM submissions n
    WHERE n.org_id = s.org_id AND n.kind = s.kind
      AND n.location_id IS NOT DISTINCT FROM s.location_id
      AND n.state <> 'draft' AND n.submitted_at > s.submitted_at)
WHERE s.kind <> 'gateway_logs' AND s.state <> 'draft' AND s.submitted_at IS NOT NULL;

-- A version sealed (or inserted sealed): the earlier versions of its place not yet replaced by
-- an earlier one are replaced at its moment; it is itself replaced by the first later one.
CREATE FUNCTION submissions_replaced() RETURNS trigger AS $$
BEGIN
    IF NEW.submitted_at IS NULL OR NEW.state = 'draft' OR NEW.kind = 'gateway_logs'
       OR (TG_OP = 'UPDATE' AND OLD.submitted_at IS NOT NULL) THEN
        RETURN NULL;
    END IF;
    UPDATE submissions SET replaced_at = NEW.submitted_at
    WHERE org_id = NEW.org_id AND kind = NEW.kind
      AND (location_id = NEW.location_id OR (location_id IS NULL AND NEW.location_id IS NULL))
      AND state <> 'draft' AND submitted_at < NEW.submitted_at
      AND (replaced_at IS NULL OR replaced_at > NEW.submitted_at);
    UPDATE submissions SET replaced_at = (
        SELECT MIN(n.submitted_at) FROM submissions n
        WHERE n.org_id = NEW.org_id AND n.kind = NEW.kind
          AND (n.location_id = NEW.location_id OR (n.location_id IS NULL AND NEW.location_id IS NULL))
          AND n.state <> 'draft' AND n.submitted_at > NEW.submitted_at)
    WHERE id = NEW.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER submissions_replaced_on_seal AFTER UPDATE OF submitted_at ON submissions
    FOR EACH ROW EXECUTE FUNCTION submissions_replaced();
CREATE TRIGGER submissions_replaced_on_insert AFTER INSERT ON submissions
    FOR EACH ROW EXECUTE FUNCTION submissions_replaced();
