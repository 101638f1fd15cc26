-- Accounts, sessions, one-time email links, second factor, API keys, throttling, security log.
-- Times are epoch seconds (REAL where sub-second order matters); secrets are stored hashed.
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    -- 'adult' (18+) or 'minor' (13 to 17, admitted with a parent's confirmation).
    age_group TEXT NOT NULL CHECK (age_group IN ('adult', 'minor')),
    parent_email TEXT,
    parental_consent_at INTEGER,
    email_verified_at INTEGER,
    password_hash TEXT NOT NULL,
    totp_secret TEXT,
    totp_pending_secret TEXT,
    totp_enabled_at INTEGER,
    -- The last RFC 6238 time step accepted, so a code cannot be replayed in its window.
    totp_last_step INTEGER,
    created_at INTEGER NOT NULL,
    CHECK (age_group = 'adult' OR (parent_email IS NOT NULL AND parental_consent_at IS NOT NULL))
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    -- 'mfa' while only the password was checked, 'full' once every factor was.
    stage TEXT NOT NULL CHECK (stage IN ('mfa', 'full')),
    user_agent TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    last_seen_at REAL NOT NULL,
    revoked_at REAL
);

CREATE INDEX sessions_by_account ON sessions (account_id, revoked_at);

CREATE TABLE email_tokens (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('verify', 'reset', 'change_email')),
    -- The address being verified (a new one for 'change_email').
    email TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    used_at REAL
);

CREATE TABLE recovery_codes (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at REAL,
    PRIMARY KEY (account_id, code_hash)
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    -- Space-separated subset of 'generate read'.
    scopes TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_used_at REAL,
    revoked_at REAL
);

CREATE INDEX api_keys_by_account ON api_keys (account_id, created_at);

-- Failed logins per subject ('account:<hash>' or 'ip:<address>'), for growing delays.
CREATE TABLE login_failures (
    subject TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at REAL NOT NULL
);

CREATE TABLE security_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    at REAL NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);

CREATE INDEX security_events_by_account ON security_events (account_id, at);
