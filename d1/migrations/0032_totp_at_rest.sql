-- Re-authentication and TOTP keys at rest (security review, issue #12).
--
-- When the password was last confirmed in a session ("sudo mode"): two-step changes and new
-- recovery codes need it within the last 5 minutes (beatbun.accounts.reauth).
ALTER TABLE sessions ADD COLUMN reauthenticated_at REAL;

-- accounts.totp_secret and accounts.totp_pending_secret now hold AES-256-GCM sealed values,
-- 'v1:<key id>:<base64url(nonce + ciphertext + tag)>' under a key of the DATA_KEYS secret.
-- SQL has no key, so rows written before this migration keep their plaintext base32: the code
-- still reads them, reseals one at its next accepted code, and the cron reseals the rest
-- (beatbun.accounts.secondfactor.reseal_totp_secrets). Nothing to change in the schema.
