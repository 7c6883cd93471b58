-- The review queue reads one page in (submitted_at, id) order under any set of filters: one
-- index per equality filter, each ending in the keyset columns, so the planner walks an index
-- from the cursor and stops after a page instead of sorting the queue. submissions_queue
-- (state, submitted_at, id) serves no filter, the age limit and the connection form.
CREATE INDEX submissions_queue_kind ON submissions(state, kind, submitted_at, id);
CREATE INDEX submissions_queue_org ON submissions(org_id, state, submitted_at, id);
-- "Mine" and "nobody's" (assigned_to IS NULL is an equality to an index); it also serves
-- every lookup by assignee, so the single-column index goes.
CREATE INDEX submissions_queue_assignee ON submissions(assigned_to, state, submitted_at, id);
DROP INDEX submissions_assigned;
-- The form filter asks which organisations have an active connection of a form.
CREATE INDEX connections_form ON connections(form, org_id) WHERE active;
