-- First-party analytics, only with performance consent: daily counts, never an IP address.
-- A visitor is a salted hash; the salt is random per day and deleted the next day, so
-- pseudonyms from different days cannot be linked, even by us.
CREATE TABLE analytics_salts (
    day TEXT PRIMARY KEY,
    salt TEXT NOT NULL
);

CREATE TABLE analytics_visitors (
    day TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    PRIMARY KEY (day, pseudonym)
);

CREATE TABLE analytics_counts (
    day TEXT NOT NULL,
    -- 'page_view', 'genre_click', 'prompt_time' (seconds in total) or 'buffering'.
    kind TEXT NOT NULL CHECK (kind IN ('page_view', 'genre_click', 'prompt_time', 'buffering')),
    label TEXT NOT NULL DEFAULT '',
    events INTEGER NOT NULL DEFAULT 0,
    total REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (day, kind, label)
);
