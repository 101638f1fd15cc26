-- What the studio and the player measure, only with performance consent: per day, per
-- measurement and label, how many values fell into each bucket of a logarithmic scale (eight
-- buckets per doubling), and their sum. Counts per day, as the cookie policy says: no visitor,
-- pseudonym or single value is kept; medians and 90th percentiles are read off the buckets.
CREATE TABLE analytics_measurements (
    day TEXT NOT NULL,
    name TEXT NOT NULL CHECK (name IN ('genre_tag_click', 'prompt_dwell_ms', 'player_start_ms',
        'player_stall_ms', 'download_ms', 'download_bytes')),
    label TEXT NOT NULL DEFAULT '',
    bucket INTEGER NOT NULL,
    events INTEGER NOT NULL DEFAULT 0,
    total REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (day, name, label, bucket)
);
