-- The browser a session was opened from, so its owner can tell their sessions apart.
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
