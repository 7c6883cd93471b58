-- A number that moves on whenever a name the review queue shows changes: an organisation's
-- name or user code, a person's display name, a place's name or its office. A node keeps the
-- names it has read for the queue's lines and reads this number with every page (one value,
-- in the page's own statement): when it has moved, the kept names are dropped. So a page
-- reads `submissions` only, and a rename made on any node shows on the next page everywhere.
CREATE TABLE name_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);
INSERT INTO name_version (id, n) VALUES (1, 0);

CREATE FUNCTION name_version_bump() RETURNS trigger AS $$
BEGIN
    UPDATE name_version SET n = n + 1 WHERE id = 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER name_version_organisations AFTER UPDATE OF name, user_code ON organisations
FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.user_code IS DISTINCT FROM NEW.user_code)
EXECUTE FUNCTION name_version_bump();

CREATE TRIGGER name_version_users AFTER UPDATE OF display_name ON users
FOR EACH ROW WHEN (OLD.display_name IS DISTINCT FROM NEW.display_name)
EXECUTE FUNCTION name_version_bump();

CREATE TRIGGER name_version_locations AFTER UPDATE OF name, office_id ON locations
FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.office_id IS DISTINCT FROM NEW.office_id)
EXECUTE FUNCTION name_version_bump();
