-- The audit chain holds against someone who can write to the database but has no key.
-- Entries from audit_head.keyed_from on carry an HMAC-SHA256 under a key kept outside the
-- database; the ones before it were written unkeyed (SHA-256) and are checked against anchors
-- only. The application sets keyed_from and seal (the keyed MAC of the switch-over) at its
-- first start with a key; after that the guard below refuses to change them.
ALTER TABLE audit_head ADD COLUMN keyed_from INTEGER;
ALTER TABLE audit_head ADD COLUMN seal TEXT;

-- The database checks each insert itself: the next number after the head and after the last
-- entry (so never 0 or below), linked to the hash of the entry before it.
CREATE TRIGGER audit_log_in_sequence BEFORE INSERT ON audit_log
WHEN NEW.seq IS NOT (SELECT seq + 1 FROM audit_head WHERE id = 1)
  OR NEW.prev_hash IS NOT (SELECT hash FROM audit_head WHERE id = 1)
  OR NEW.seq IS NOT COALESCE((SELECT MAX(seq) FROM audit_log), 0) + 1
  OR NEW.prev_hash IS NOT COALESCE((SELECT hash FROM audit_log WHERE seq = NEW.seq - 1), '0000000000000000000000000000000000000000000000000000000000000000')
BEGIN SELECT RAISE(ABORT, 'audit_log: entry out of sequence'); END;

-- The head follows the newest entry (one statement per append fewer than moving it by hand).
CREATE TRIGGER audit_log_advance_head AFTER INSERT ON audit_log
BEGIN UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1; END;

-- The head names the newest entry and nothing else; the switch-over, once set, stays.
CREATE TRIGGER audit_head_follows_log BEFORE UPDATE ON audit_head
WHEN NEW.id IS NOT OLD.id
  OR NEW.seq IS NOT COALESCE((SELECT MAX(seq) FROM audit_log), 0)
  OR NEW.hash IS NOT COALESCE((SELECT hash FROM audit_log WHERE seq = NEW.seq), '0000000000000000000000000000000000000000000000000000000000000000')
  OR (OLD.keyed_from IS NOT NULL AND (NEW.keyed_from IS NOT OLD.keyed_from OR NEW.seal IS NOT OLD.seal))
BEGIN SELECT RAISE(ABORT, 'audit_head follows audit_log'); END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN SELECT RAISE(ABORT, 'audit_head follows audit_log'); END;
