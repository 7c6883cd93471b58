-- A reviewer takes a waiting submission; it stays `submitted` (the queue's index keeps its
-- order) and counts as under review while assigned.
ALTER TABLE submissions ADD COLUMN assigned_to BLOB REFERENCES users(id);
CREATE INDEX submissions_assigned ON submissions(assigned_to);
