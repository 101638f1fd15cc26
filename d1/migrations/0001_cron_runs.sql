-- Every run of the scheduled handler, so operators (and /healthz) can see cron is alive.
CREATE TABLE cron_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cron TEXT NOT NULL,
    scheduled_at INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    tasks INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX cron_runs_by_time ON cron_runs (scheduled_at);
