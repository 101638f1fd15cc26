-- Talking to people (issue #16): the mail queue grows into the outbox of every email (service
-- notices, policy notices, marketing, support), with HTML, headers, priorities, backoff and a
-- shared send rate; marketing consent proven by double opt-in; policy versions acknowledged;
-- operators' campaigns; support tickets; the devices each account signed in from.

-- What a message is (a notice type such as 'sign_in', or 'marketing', 'policy', 'support') and
-- whose it is, for frequency caps, the account's erasure and the operators' counts.
ALTER TABLE mail_queue ADD COLUMN kind TEXT NOT NULL DEFAULT 'account';
ALTER TABLE mail_queue ADD COLUMN account_id TEXT;
-- The HTML alternative of `body`, and extra headers as a JSON object (List-Unsubscribe ...);
-- both blanked with the body once sent.
ALTER TABLE mail_queue ADD COLUMN html TEXT NOT NULL DEFAULT '';
ALTER TABLE mail_queue ADD COLUMN headers TEXT NOT NULL DEFAULT '{}';
-- 0 for mail a person waits for (links, notices), 1 for bulk (policy notices, campaigns): a
-- campaign never holds up a password reset.
ALTER TABLE mail_queue ADD COLUMN priority INTEGER NOT NULL DEFAULT 0 CHECK (priority IN (0, 1));
-- 'campaign:<id>' or 'policy:<document>:<version>': the counters in `mail_topics` it feeds.
ALTER TABLE mail_queue ADD COLUMN topic TEXT;
-- Retries wait with exponential backoff; a message given up on is failed, one the provider
-- reported undeliverable is bounced; `provider_id` is the provider's id for that report.
ALTER TABLE mail_queue ADD COLUMN next_attempt_at REAL NOT NULL DEFAULT 0;
ALTER TABLE mail_queue ADD COLUMN failed_at REAL;
ALTER TABLE mail_queue ADD COLUMN bounced_at REAL;
ALTER TABLE mail_queue ADD COLUMN provider_id TEXT;
-- For a message carrying a link: the SHA-256 of the CSRF secret of the browser that asked for
-- it, stored with the token the sender issues (only that browser is logged in by the link).
ALTER TABLE mail_queue ADD COLUMN link_browser_hash TEXT;

CREATE INDEX mail_queue_due ON mail_queue (priority, next_attempt_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_queue_by_account ON mail_queue (account_id, kind, created_at);
CREATE INDEX mail_queue_by_provider ON mail_queue (provider_id) WHERE provider_id IS NOT NULL;
CREATE INDEX mail_queue_by_topic ON mail_queue (topic) WHERE topic IS NOT NULL;

-- The provider's send rate is shared by every sender (requests, cron, Durable Objects): one
-- row holds the time the next send may go (virtual scheduling); a sender reserves several
-- sends with one guarded UPDATE. `strikes` counts the provider's 429s in a row.
CREATE TABLE mail_rate (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    next_free_at REAL NOT NULL,
    strikes INTEGER NOT NULL
);
INSERT INTO mail_rate (id, next_free_at, strikes) VALUES (1, 0, 0);

-- Counts per bulk send (a campaign, a policy notice), kept after the queue rows are gone.
CREATE TABLE mail_topics (
    topic TEXT PRIMARY KEY,
    queued INTEGER NOT NULL DEFAULT 0,
    sent INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    bounced INTEGER NOT NULL DEFAULT 0,
    -- Queued, then not sent because consent was withdrawn before its turn came.
    withheld INTEGER NOT NULL DEFAULT 0,
    unsubscribed INTEGER NOT NULL DEFAULT 0,
    -- Recipients who reported the message as spam (their marketing consent is withdrawn too).
    complained INTEGER NOT NULL DEFAULT 0
);

-- Marketing email: on only after the address confirmed it (double opt-in). The column is the
-- state every send checks; `marketing_consents` is the proof, append-only while the account
-- lives (the account's erasure deletes it).
ALTER TABLE accounts ADD COLUMN marketing_opt_in_at INTEGER;
-- Only the opted-in accounts: a campaign's recipient count reads these, not every account.
CREATE INDEX accounts_marketing ON accounts (marketing_opt_in_at)
    WHERE marketing_opt_in_at IS NOT NULL;
-- The oldest account, so policy announcements skip a change no account predates.
CREATE INDEX accounts_by_created ON accounts (created_at);

CREATE TABLE marketing_consents (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('requested', 'confirmed', 'withdrawn')),
    source TEXT NOT NULL CHECK (
        source IN ('email_settings', 'confirmation_link', 'unsubscribe_page', 'one_click',
                   'complaint', 'objection')
    ),
    wording_version TEXT NOT NULL,
    campaign_id TEXT,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    recorded_at REAL NOT NULL
);

CREATE INDEX marketing_consents_by_account ON marketing_consents (account_id, recorded_at);
CREATE INDEX marketing_consents_by_campaign ON marketing_consents (campaign_id)
    WHERE campaign_id IS NOT NULL;

CREATE TRIGGER marketing_consents_no_update BEFORE UPDATE ON marketing_consents
BEGIN
    SELECT RAISE(ABORT, 'marketing_consents is append-only');
END;

-- Significant policy changes: who was emailed the notice and who acknowledged the banner.
CREATE TABLE policy_notices (
    document TEXT NOT NULL CHECK (document IN ('privacy', 'cookies', 'terms')),
    version TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    notified_at REAL,
    acknowledged_at REAL,
    PRIMARY KEY (document, version, account_id)
);

CREATE INDEX policy_notices_by_account ON policy_notices (account_id);

-- Operators' marketing emails: one text per language, sent in batches to consenting accounts.
CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_by TEXT REFERENCES accounts (id) ON DELETE SET NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'sending', 'sent')),
    -- Batches go out in account id order; the last account queued so far.
    queued_through TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    send_started_at REAL,
    send_finished_at REAL
);

CREATE TABLE campaign_texts (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    language TEXT NOT NULL CHECK (language IN ('en', 'de', 'fr')),
    subject TEXT NOT NULL,
    body_markdown TEXT NOT NULL,
    PRIMARY KEY (campaign_id, language)
);

-- Support from the dashboard: a ticket and its thread of messages.
CREATE TABLE support_tickets (
    id TEXT PRIMARY KEY,
    -- The number people quote ("ticket 1042"), allocated in the INSERT itself.
    number INTEGER NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    category TEXT NOT NULL CHECK (category IN ('billing', 'track', 'account', 'privacy', 'other')),
    subject TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'answered', 'closed')),
    job_id TEXT,
    track_id TEXT,
    language TEXT NOT NULL,
    -- Privacy requests: the statutory deadline to answer (epoch seconds).
    due_at INTEGER,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    closed_at REAL
);

-- The last ticket number given out: numbers are never reused, even after the ticket with the
-- highest one is erased with its account. One row; the first ticket is 1001.
CREATE TABLE support_ticket_counter (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_number INTEGER NOT NULL
);
INSERT INTO support_ticket_counter (id, last_number) VALUES (1, 1000);

CREATE INDEX support_tickets_by_account ON support_tickets (account_id, updated_at);
CREATE INDEX support_tickets_by_status ON support_tickets (status, updated_at);

CREATE TABLE support_messages (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES support_tickets (id) ON DELETE CASCADE,
    author TEXT NOT NULL CHECK (author IN ('customer', 'operator')),
    operator_id TEXT REFERENCES accounts (id) ON DELETE SET NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL
);

CREATE INDEX support_messages_by_ticket ON support_messages (ticket_id, created_at);

-- The browsers and devices an account signed in from ('Firefox on Windows'), so a sign-in
-- from a new one is told to the owner.
CREATE TABLE sign_in_devices (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    device TEXT NOT NULL,
    first_seen_at REAL NOT NULL,
    last_seen_at REAL NOT NULL,
    PRIMARY KEY (account_id, device)
);
