-- Account security (issue #12): the outgoing mail queue, password reset requests for rate
-- limiting, and the hard stop on password login after 100 failures in a row.

-- Every account email waits here until it is sent, so a request never waits for the mail
-- provider. `idempotency_key` makes queueing the same message twice a no-op. A message with a
-- `link_account_id` carries a single-use link: its body holds a placeholder, and the sender
-- issues the token (an HMAC of `id` under APP_SECRET, stored hashed in `email_tokens`) just
-- before sending, so no usable link is ever stored; bodies are blanked once sent.
-- A row with an empty `recipient` is born sent: it records a request that mailed nobody (an
-- unknown or rate-limited address), written so that such a request does the same D1 work as
-- one that queues a mail.
CREATE TABLE mail_queue (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    link_account_id TEXT,
    link_purpose TEXT,
    created_at REAL NOT NULL,
    -- Set by the sender that took the message; another sender leaves it alone for a while.
    claimed_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at REAL,
    last_error TEXT
);

CREATE INDEX mail_queue_unsent ON mail_queue (sent_at, created_at);

-- One row per "forgot password" request, known address or not. The address is kept only as
-- a SHA-256 digest; `mailed` says whether this request queued a mail.
CREATE TABLE reset_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email_hash TEXT NOT NULL,
    ip TEXT NOT NULL,
    at REAL NOT NULL,
    mailed INTEGER NOT NULL
);

CREATE INDEX reset_requests_by_email ON reset_requests (email_hash, at);
CREATE INDEX reset_requests_by_ip ON reset_requests (ip, at);
CREATE INDEX reset_requests_by_time ON reset_requests (at);

-- Set after 100 failed logins in a row (NIST SP 800-63B 5.2.2); only a password reset by
-- email clears it.
ALTER TABLE accounts ADD COLUMN password_locked_at REAL;
