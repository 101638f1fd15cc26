-- Erasure of an account (issue #15, beatbun.privacy.erasure).

-- What tax law makes us keep of an erased account's payments (HGB §257, AO §147: ten years
-- from the end of the calendar year of the payment): the payment itself, with nothing that
-- names or reaches the person. `reference` is Stripe's invoice (`in_...`) or Checkout session
-- (`cs_...`), `charge` the charge or PaymentIntent that paid it; the Stripe customer is
-- deleted with the account.
CREATE TABLE retained_payments (
    reference TEXT PRIMARY KEY,
    paid_at INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('invoice', 'top_up')),
    item TEXT NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    amount_refunded INTEGER NOT NULL DEFAULT 0,
    charge TEXT,
    kept_until INTEGER NOT NULL
);

CREATE INDEX retained_payments_by_expiry ON retained_payments (kept_until);

-- The append-only evidence of an account (its consent records and credit ledger) goes with
-- the account: a delete is allowed only while the erasure holds its claim on the account
-- (`accounts.erasure_due_at` set to 0), and refused as before in every other case.
DROP TRIGGER consent_records_no_delete;

CREATE TRIGGER consent_records_no_delete BEFORE DELETE ON consent_records
WHEN NOT EXISTS (
    SELECT 1 FROM accounts
    WHERE OLD.subject = 'account:' || accounts.id AND accounts.id = substr(OLD.subject, 9)
        AND accounts.erasure_due_at = 0
)
BEGIN
    SELECT RAISE(ABORT, 'consent_records is append-only');
END;

DROP TRIGGER credit_ledger_no_delete;

CREATE TRIGGER credit_ledger_no_delete BEFORE DELETE ON credit_ledger
WHEN NOT EXISTS (
    SELECT 1 FROM accounts WHERE accounts.id = OLD.account_id AND accounts.erasure_due_at = 0
)
BEGIN
    SELECT RAISE(ABORT, 'credit_ledger is append-only');
END;

-- Set on mail that must not keep its address once sent (the confirmation that an account was
-- erased): the sender blanks recipient and subject with the body.
ALTER TABLE mail_queue ADD COLUMN forget_recipient INTEGER NOT NULL DEFAULT 0
    CHECK (forget_recipient IN (0, 1));
