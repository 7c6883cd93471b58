-- Mail for a notice is recorded with the notice (in the transaction that changed state) and
-- marked once it went out, so a crash or a mail server outage between commit and sending
-- leaves the mail to be retried instead of lost.
ALTER TABLE notifications ADD COLUMN mail_to TEXT;
ALTER TABLE notifications ADD COLUMN mailed_at TEXT;
ALTER TABLE notifications ADD COLUMN mail_attempts INTEGER NOT NULL DEFAULT 0;
-- The navigation counts a user's unread notices on every page.
CREATE INDEX notifications_unread ON notifications(user_id) WHERE read_at IS NULL;
CREATE INDEX notifications_unmailed ON notifications(created_at) WHERE mail_to IS NOT NULL AND mailed_at IS NULL;
