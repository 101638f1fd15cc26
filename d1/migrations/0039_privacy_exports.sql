-- Building exports in the background: who holds a request being built, how often it was tried,
-- and the language the person asked in (the summary page and the emails are written in it).

-- Set when a builder claims an export; a claim older than the longest run (a cron's 15 minutes)
-- belongs to a builder that died, and the export is built again.
ALTER TABLE privacy_requests ADD COLUMN claimed_at INTEGER;
ALTER TABLE privacy_requests ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE privacy_requests ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
