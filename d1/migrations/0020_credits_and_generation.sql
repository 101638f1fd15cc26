-- Credits, generation jobs, tracks and the global render capacity.
-- Times are epoch seconds. Every money-like number is an integer count of credits.

-- One wallet per account. The CHECK makes a debit that would overdraw fail, which rolls back
-- the whole batch it is in: a job is never created without its debit, nor a debit without its job.
CREATE TABLE wallets (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    plan TEXT NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'paid')),
    balance INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
    -- The month (YYYY-MM) of the last monthly grant, so it is given once a month.
    granted_for TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
);

-- The ledger is append-only evidence: the triggers refuse updates and deletes.
CREATE TABLE credit_ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('grant', 'debit', 'refund', 'purchase', 'adjustment')),
    amount INTEGER NOT NULL,
    balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
    job_id TEXT,
    idempotency_key TEXT,
    note TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    CHECK (
        (kind = 'debit' AND amount < 0)
        OR (kind IN ('grant', 'refund', 'purchase') AND amount > 0)
        OR kind = 'adjustment'
    )
);

CREATE UNIQUE INDEX credit_ledger_idempotency ON credit_ledger (account_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- A job is refunded at most once, whatever retries or races happen.
CREATE UNIQUE INDEX credit_ledger_one_refund_per_job ON credit_ledger (job_id)
    WHERE kind = 'refund';

CREATE INDEX credit_ledger_by_account ON credit_ledger (account_id, id);

CREATE TRIGGER credit_ledger_no_update BEFORE UPDATE ON credit_ledger
BEGIN
    SELECT RAISE(ABORT, 'credit_ledger is append-only');
END;

CREATE TRIGGER credit_ledger_no_delete BEFORE DELETE ON credit_ledger
BEGIN
    SELECT RAISE(ABORT, 'credit_ledger is append-only');
END;

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'canceled')),
    -- The validated request as JSON, and its hash to tell a retry from a new request.
    request TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    cost INTEGER NOT NULL CHECK (cost > 0),
    provider TEXT NOT NULL,
    correlation_id TEXT NOT NULL UNIQUE,
    idempotency_key TEXT NOT NULL,
    plan TEXT,
    track_id TEXT,
    error_code TEXT,
    error_message TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    deadline_at INTEGER NOT NULL,
    UNIQUE (account_id, idempotency_key)
);

CREATE INDEX jobs_by_account ON jobs (account_id, created_at);

CREATE TABLE tracks (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    job_id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    prompt TEXT NOT NULL,
    plan TEXT NOT NULL,
    media_type TEXT NOT NULL,
    duration_seconds REAL NOT NULL,
    size_bytes INTEGER NOT NULL,
    blob_key TEXT NOT NULL UNIQUE,
    -- About 1,000 [min, max] pairs as JSON, for the waveform player.
    peaks TEXT NOT NULL,
    retention TEXT NOT NULL CHECK (retention IN ('free', 'paid')),
    created_at INTEGER NOT NULL,
    -- NULL for paid-tier tracks, which are kept.
    expires_at INTEGER
);

CREATE INDEX tracks_by_account ON tracks (account_id, created_at);

CREATE INDEX tracks_by_expiry ON tracks (expires_at) WHERE expires_at IS NOT NULL;

-- The global line for render slots shared by every user. `rank` orders it: the time the job
-- joined, minus a head start for paid plans, so paid jobs go first but a waiting free job is
-- overtaken only by paid jobs that joined less than the head start after it.
CREATE TABLE render_line (
    job_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    rank REAL NOT NULL,
    joined_at INTEGER NOT NULL
);

CREATE INDEX render_line_by_rank ON render_line (rank, job_id);

CREATE TABLE render_slots (
    job_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    leased_until INTEGER NOT NULL
);
