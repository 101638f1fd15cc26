-- The library (issue #11): favourites, soft delete with undo, public share links, the genre as
-- a column to filter by, and the indexes of the library's list queries.

-- The genre the plan resolved to, copied out of `plan` (JSON) when the track is recorded.
ALTER TABLE tracks ADD COLUMN genre TEXT NOT NULL DEFAULT '';

UPDATE tracks SET genre = COALESCE(json_extract(plan, '$.genre'), '');

ALTER TABLE tracks ADD COLUMN favourite INTEGER NOT NULL DEFAULT 0 CHECK (favourite IN (0, 1));

-- Set when the owner deletes the track: every list and route hides it at once, and undo clears
-- it within 30 seconds (beatbun.tracks.deletion). After that the cron erases the audio, then the
-- row; it first sets `deleted_at` to 0, so no undo can bring back a track whose audio is going.
ALTER TABLE tracks ADD COLUMN deleted_at INTEGER;

-- The public link's token (32 random bytes, base64url), NULL while the track is not shared.
-- Revoking clears it and sharing again makes a new one, so a revoked link never works again.
ALTER TABLE tracks ADD COLUMN share_token TEXT;

CREATE UNIQUE INDEX tracks_by_share_token ON tracks (share_token) WHERE share_token IS NOT NULL;

-- The library's orders (date, length, name), each with the id as the tie-break of its keyset.
CREATE INDEX tracks_library_by_date ON tracks (account_id, created_at, id)
    WHERE deleted_at IS NULL;

CREATE INDEX tracks_library_by_length ON tracks (account_id, duration_seconds, id)
    WHERE deleted_at IS NULL;

CREATE INDEX tracks_library_by_name ON tracks (account_id, title COLLATE NOCASE, id)
    WHERE deleted_at IS NULL;

-- The cron's work list: deleted tracks whose undo window has passed.
CREATE INDEX tracks_deleted ON tracks (deleted_at) WHERE deleted_at IS NOT NULL;
