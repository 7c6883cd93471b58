-- A draft opened for a place that already has an accepted report starts from that report
-- (its data and its files, by reference to the same stored blobs); renewed_from names it, so
-- the page can say where the draft came from and mark what was carried over.
ALTER TABLE submissions ADD COLUMN renewed_from UUID REFERENCES submissions(id) ON DELETE SET NULL;
