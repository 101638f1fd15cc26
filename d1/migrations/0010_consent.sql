-- Cookie consent (append-only, so each choice can be proven later), display preferences kept
-- with an account, and the operator flag for the analytics page.
CREATE TABLE consent_records (
    id TEXT PRIMARY KEY,
    -- 'account:<id>' for a logged-in choice, or 'device:<random>' from the consent cookie.
    subject TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    performance INTEGER NOT NULL CHECK (performance IN (0, 1)),
    functionality INTEGER NOT NULL CHECK (functionality IN (0, 1)),
    marketing INTEGER NOT NULL CHECK (marketing IN (0, 1)),
    source TEXT NOT NULL CHECK (source IN ('banner', 'preferences', 'gpc', 'sync')),
    gpc_override INTEGER NOT NULL DEFAULT 0 CHECK (gpc_override IN (0, 1)),
    recorded_at REAL NOT NULL
);

CREATE INDEX consent_records_by_subject ON consent_records (subject, recorded_at);

CREATE TRIGGER consent_records_no_update BEFORE UPDATE ON consent_records
BEGIN
    SELECT RAISE(ABORT, 'consent_records is append-only');
END;

CREATE TRIGGER consent_records_no_delete BEFORE DELETE ON consent_records
BEGIN
    SELECT RAISE(ABORT, 'consent_records is append-only');
END;

CREATE TABLE account_preferences (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    theme TEXT NOT NULL CHECK (theme IN ('system', 'light', 'dark')),
    language TEXT NOT NULL,
    updated_at REAL NOT NULL
);

ALTER TABLE accounts ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1));
