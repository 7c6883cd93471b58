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

CREATE TRIGGER name_version_organisations AFTER UPDATE OF name, user_code ON organisations
WHEN OLD.name IS NOT NEW.name OR OLD.user_code IS NOT NEW.user_code
BEGIN
    UPDATE name_version SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER name_version_users AFTER UPDATE OF display_name ON users
WHEN OLD.display_name IS NOT NEW.display_name
BEGIN
    UPDATE name_version SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER name_version_locations AFTER UPDATE OF name, office_id ON locations
WHEN OLD.name IS NOT NEW.name OR OLD.office_id IS NOT NEW.office_id
BEGIN
    UPDATE name_version SET n = n + 1 WHERE id = 1;
END;
