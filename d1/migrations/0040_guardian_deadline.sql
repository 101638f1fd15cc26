-- A teen's sign-up that no parent or guardian agrees to is deleted (issue #15,
-- beatbun.privacy.guardians.erase_unconsented_sign_ups): 30 days after the first link we
-- mailed the parent. A new link does not move the date.
ALTER TABLE guardians ADD COLUMN consent_due_at REAL;

-- Links mailed before this column: 30 days from the latest one.
UPDATE guardians SET consent_due_at = link_sent_at + 30 * 86400 WHERE consented_at IS NULL;

CREATE INDEX guardians_consent_due ON guardians (consent_due_at) WHERE consented_at IS NULL;
