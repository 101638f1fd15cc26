-- Privacy rights people use themselves: export, erasure, restriction and objection, the
-- optional public profile, and a parent's own consent for accounts of 13 to 17 year olds.

-- The ticked box this recorded was the teen's own word; it now only says when the sign-up
-- named a parent. The parent's consent is `parent_consented_at`, given through their link.
ALTER TABLE accounts RENAME COLUMN parental_consent_at TO parent_named_at;
ALTER TABLE accounts ADD COLUMN parent_consented_at INTEGER;

-- Optional profile details, shown on the public page of a shared track.
ALTER TABLE accounts ADD COLUMN artist_name TEXT;
ALTER TABLE accounts ADD COLUMN bio TEXT;
ALTER TABLE accounts ADD COLUMN link TEXT;

-- The objections in force (1 = the person objects); privacy_choices keeps every change.
ALTER TABLE accounts ADD COLUMN objects_to_analytics INTEGER NOT NULL DEFAULT 0
    CHECK (objects_to_analytics IN (0, 1));
ALTER TABLE accounts ADD COLUMN objects_to_marketing INTEGER NOT NULL DEFAULT 0
    CHECK (objects_to_marketing IN (0, 1));
ALTER TABLE accounts ADD COLUMN objects_to_prompt_use INTEGER NOT NULL DEFAULT 0
    CHECK (objects_to_prompt_use IN (0, 1));
-- Set while processing is restricted to storage; the reason is on the privacy request.
ALTER TABLE accounts ADD COLUMN restricted_at INTEGER;
-- Set while an erasure is scheduled: the account is locked until it runs or is cancelled.
ALTER TABLE accounts ADD COLUMN erasure_due_at INTEGER;

-- The parent or guardian of a 13 to 17 year old: their link, and their consent once given.
CREATE TABLE guardians (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    -- SHA-256 of the parent's link token; the link stays theirs while the account exists.
    access_hash TEXT NOT NULL UNIQUE,
    link_sent_at REAL NOT NULL,
    consent_name TEXT,
    declaration_version TEXT,
    consented_at REAL,
    CHECK ((consented_at IS NULL) = (consent_name IS NULL))
);

-- What people asked of us about their data, with its state: the privacy page's history.
CREATE TABLE privacy_requests (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('export', 'erasure', 'restriction')),
    -- export: pending, building, ready, expired, failed; erasure: scheduled, cancelled, done;
    -- restriction: active, lifted.
    status TEXT NOT NULL CHECK (status IN ('pending', 'building', 'ready', 'expired', 'failed',
        'scheduled', 'cancelled', 'done', 'active', 'lifted')),
    requested_by TEXT NOT NULL DEFAULT 'owner' CHECK (requested_by IN ('owner', 'parent')),
    created_at INTEGER NOT NULL,
    -- erasure: when it takes effect; export: when its download is deleted.
    due_at INTEGER,
    finished_at INTEGER,
    -- export: the zip in the bucket and its size.
    blob_key TEXT,
    size INTEGER,
    -- restriction: the person's reason, in their words.
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX privacy_requests_by_account ON privacy_requests (account_id, created_at);
CREATE INDEX privacy_requests_due ON privacy_requests (kind, status, due_at);
-- One scheduled erasure and one active restriction per account at most.
CREATE UNIQUE INDEX privacy_requests_one_erasure ON privacy_requests (account_id)
    WHERE kind = 'erasure' AND status = 'scheduled';
CREATE UNIQUE INDEX privacy_requests_one_restriction ON privacy_requests (account_id)
    WHERE kind = 'restriction' AND status = 'active';

-- Every objection made or withdrawn, recorded like consent so it can be proven.
CREATE TABLE privacy_choices (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('analytics', 'marketing', 'prompt_use')),
    objects INTEGER NOT NULL CHECK (objects IN (0, 1)),
    -- The version of the wording the person saw when choosing.
    wording_version TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('privacy_page', 'parent')),
    recorded_at REAL NOT NULL
);
CREATE INDEX privacy_choices_by_account ON privacy_choices (account_id, recorded_at);
