-- Plans and payments: the plan ids of `billing/plans.py`, Stripe customers, subscriptions,
-- checkout sessions, payments for the billing history, processed webhook events, and the
-- licence each track was made under.

-- The wallet again, for the new plan ids and a named overdraft constraint: a failed debit is
-- recognised by the constraint's name, never by the wording of the error.
CREATE TABLE wallets_new (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    plan TEXT NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'creator', 'pro')),
    balance INTEGER NOT NULL DEFAULT 0 CONSTRAINT wallet_no_overdraft CHECK (balance >= 0),
    -- The month (YYYY-MM) of the last free monthly grant, so it is given once a month.
    granted_for TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
);

INSERT INTO wallets_new (account_id, plan, balance, granted_for, updated_at)
SELECT account_id, CASE plan WHEN 'paid' THEN 'pro' ELSE plan END, balance, granted_for, updated_at
FROM wallets;

DROP TABLE wallets;

ALTER TABLE wallets_new RENAME TO wallets;

-- One Stripe customer per account, created at its first checkout.
CREATE TABLE billing_customers (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    customer_id TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

-- Stripe's subscriptions as last read from Stripe. `synced_at` orders the reads, so a slower
-- read of an older state never overwrites a newer one, whatever order the events came in.
CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    plan TEXT NOT NULL CHECK (plan IN ('creator', 'pro')),
    status TEXT NOT NULL,
    current_period_end INTEGER,
    cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
    -- Set when a renewal fails: the plan stays in force until then while Stripe retries.
    grace_until INTEGER,
    -- A smaller plan chosen mid-period starts when the period paid for ends: until then the
    -- plan paid for stays in force.
    held_plan TEXT CHECK (held_plan IN ('creator', 'pro')),
    held_until INTEGER,
    synced_at REAL NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE INDEX subscriptions_by_account ON subscriptions (account_id);

-- Every checkout we start, so the return page can tell the truth before the webhook arrives.
CREATE TABLE checkout_sessions (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    mode TEXT NOT NULL CHECK (mode IN ('subscription', 'payment')),
    item TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'processing', 'fulfilled', 'failed')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE INDEX checkout_sessions_by_account ON checkout_sessions (account_id, created_at);

-- The billing history: subscription invoices (`in_...`) and one-off top-ups (`cs_...`).
-- Amounts are in the currency's minor unit, as Stripe gives them.
CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('invoice', 'top_up')),
    item TEXT NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    credits INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0),
    -- The charge (invoices) or PaymentIntent (top-ups) that paid it; refunds find it by either.
    paid_by TEXT,
    amount_refunded INTEGER NOT NULL DEFAULT 0,
    url TEXT,
    created_at INTEGER NOT NULL
);

CREATE INDEX payments_by_account ON payments (account_id, created_at);

CREATE INDEX payments_by_payer ON payments (paid_by) WHERE paid_by IS NOT NULL;

-- Webhook events already applied: each is recorded in the batch that applies it, so a
-- repeated delivery changes nothing.
CREATE TABLE stripe_events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    created INTEGER NOT NULL,
    received_at INTEGER NOT NULL
);

-- A ledger note is an English template (`N_`); its values, as JSON, fill it in the reader's
-- language where it is shown.
ALTER TABLE credit_ledger ADD COLUMN note_params TEXT NOT NULL DEFAULT '{}';

-- The licence a track was made under, fixed at creation and never changed afterwards.
ALTER TABLE tracks ADD COLUMN licence TEXT NOT NULL DEFAULT 'personal'
    CHECK (licence IN ('personal', 'commercial'));

ALTER TABLE tracks ADD COLUMN licence_plan TEXT NOT NULL DEFAULT 'free';

ALTER TABLE tracks ADD COLUMN licensed_at INTEGER NOT NULL DEFAULT 0;

UPDATE tracks SET licensed_at = created_at;

UPDATE tracks SET licence = 'commercial', licence_plan = 'pro' WHERE retention = 'paid';

-- Kept tracks whose audio still waits under `tracks/free/`: the upgrade move's work list.
CREATE INDEX tracks_awaiting_move ON tracks (account_id, id)
    WHERE retention = 'free' AND expires_at IS NULL;
