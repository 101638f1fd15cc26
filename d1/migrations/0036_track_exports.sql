-- Exports of a finished track (issue #14): FLAC, MIDI and stems, bought once and stored in R2
-- next to the track's audio (`tracks/<retention>/<owner>/<track>.flac`, `.mid`,
-- `.stems/<stem>.wav`), so they follow its retention and go when it is deleted.
--
-- A row is inserted in the same D1 batch as its debit, whose ledger row carries the export's
-- id as `job_id`: no row without a charge, and the batch aborts (NOT NULL on `track_id`) when
-- the track is not the buyer's live track, so no charge without a row. A failed or stale
-- pending export is refunded once (the ledger's one-refund-per-job index). Rows outlive their
-- track as a record of what was bought; they go with the account.
CREATE TABLE track_exports (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    track_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('flac', 'midi', 'stems')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'failed')),
    cost INTEGER NOT NULL CHECK (cost > 0),
    -- Bytes stored: the file, or the five stems together; 0 until ready.
    size_bytes INTEGER NOT NULL DEFAULT 0,
    error_code TEXT,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
);

-- One live export of each kind per track: buying again returns it. A failed one steps aside,
-- so the export can be bought again after its refund.
CREATE UNIQUE INDEX track_exports_one_per_kind ON track_exports (track_id, kind)
    WHERE status != 'failed';

-- The cron's work list: exports whose request died before it finished.
CREATE INDEX track_exports_pending ON track_exports (created_at) WHERE status = 'pending';
