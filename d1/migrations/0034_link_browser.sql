-- The browser a sign-up came from: the SHA-256 of its anonymous CSRF secret (`__Host-csrf`),
-- kept with the verification link. Confirming the address logs in only that browser; any other
-- one is sent to the login page, so whoever chose the password is the one who gets in.
ALTER TABLE email_tokens ADD COLUMN browser_hash TEXT;
