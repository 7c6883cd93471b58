-- "One open draft per organisation, kind and place" and "one next version per returned
-- submission" become rules of the database, so parallel requests cannot split a draft's
-- files between several drafts or open several versions 2.

-- Drafts duplicated by the race before this rule: the newest is the one the pages showed;
-- the files of the older ones move into it (each was acknowledged to its uploader) and the
-- older ones go.
UPDATE submission_files SET submission_id = (
    SELECT k.id FROM submissions d JOIN submissions k
      ON k.org_id = d.org_id AND k.kind = d.kind AND k.location_id IS d.location_id AND k.state = 'draft'
    WHERE d.id = submission_files.submission_id
    ORDER BY k.created_at DESC, k.id DESC LIMIT 1)
WHERE submission_id IN (
    SELECT s.id FROM submissions s WHERE s.state = 'draft' AND EXISTS (
        SELECT 1 FROM submissions n WHERE n.state = 'draft' AND n.org_id = s.org_id AND n.kind = s.kind
          AND n.location_id IS s.location_id AND (n.created_at > s.created_at OR (n.created_at = s.created_at AND n.id > s.id))));
DELETE FROM submissions WHERE state = 'draft' AND EXISTS (
    SELECT 1 FROM submissions n WHERE n.state = 'draft' AND n.org_id = submissions.org_id AND n.kind = submissions.kind
      AND n.location_id IS submissions.location_id
      AND (n.created_at > submissions.created_at OR (n.created_at = submissions.created_at AND n.id > submissions.id)));

CREATE UNIQUE INDEX submissions_one_draft ON submissions(org_id, kind, IFNULL(location_id, X'00'))
    WHERE state = 'draft';

-- The returned submission a version was opened from; each is revised once.
ALTER TABLE submissions ADD COLUMN revised_from BLOB REFERENCES submissions(id);
CREATE UNIQUE INDEX submissions_revised_once ON submissions(revised_from);
