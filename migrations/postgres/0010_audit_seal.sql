-- The audit chain holds against someone who can write to the database but has no key.
-- Entries from audit_head.keyed_from on carry an HMAC-SHA256 under a key kept outside the
-- database; the ones before it were written unkeyed (SHA-256) and are checked against anchors
-- only. The application sets keyed_from and seal (the keyed MAC of the switch-over) at its
-- first start with a key; after that the guard below refuses to change them.
ALTER TABLE audit_head ADD COLUMN keyed_from BIGINT;
ALTER TABLE audit_head ADD COLUMN seal TEXT;

-- The database checks each insert itself: the next number after the head and after the last
-- entry (so never 0 or below), linked to the hash of the entry before it.
CREATE FUNCTION audit_log_in_sequence() RETURNS trigger AS $$
DECLARE
    head_seq BIGINT;
    head_hash TEXT;
    last_seq BIGINT;
    last_hash TEXT;
BEGIN
    SELECT seq, hash INTO head_seq, head_hash FROM audit_head WHERE id = 1;
    SELECT seq, hash INTO last_seq, last_hash FROM audit_log ORDER BY seq DESC LIMIT 1;
    IF NEW.seq IS DISTINCT FROM head_seq + 1
       OR NEW.prev_hash IS DISTINCT FROM head_hash
       OR NEW.seq IS DISTINCT FROM COALESCE(last_seq, 0) + 1
       OR NEW.prev_hash IS DISTINCT FROM COALESCE(last_hash, repeat('0', 64)) THEN
        RAISE EXCEPTION 'audit_log: entry % out of sequence', NEW.seq;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_in_sequence BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_in_sequence();

-- The head follows the newest entry (one statement per append fewer than moving it by hand).
CREATE FUNCTION audit_log_advance_head() RETURNS trigger AS $$
BEGIN
    UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_advance_head AFTER INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_advance_head();

-- The head names the newest entry and nothing else; the switch-over, once set, stays.
CREATE FUNCTION audit_head_follows_log() RETURNS trigger AS $$
DECLARE
    last_seq BIGINT;
    last_hash TEXT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_head follows audit_log';
    END IF;
    SELECT seq, hash INTO last_seq, last_hash FROM audit_log ORDER BY seq DESC LIMIT 1;
    IF NEW.id IS DISTINCT FROM OLD.id
       OR NEW.seq IS DISTINCT FROM COALESCE(last_seq, 0)
       OR NEW.hash IS DISTINCT FROM COALESCE(last_hash, repeat('0', 64))
       OR (OLD.keyed_from IS NOT NULL AND (NEW.keyed_from IS DISTINCT FROM OLD.keyed_from
                                           OR NEW.seal IS DISTINCT FROM OLD.seal)) THEN
        RAISE EXCEPTION 'audit_head follows audit_log';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_head_follows_log BEFORE UPDATE OR DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_follows_log();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
