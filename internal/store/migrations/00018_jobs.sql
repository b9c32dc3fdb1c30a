-- +goose Up
-- A record of long operations (imports, erasures, ...): their state,
-- progress and outcome, readable by every node through the database.
-- A job with a lock_name holds that name while queued or running: a second
-- job of the same name is refused until the first ends (one import at a
-- time per database). updated_at is the job's heartbeat, so that a job
-- whose node died can be told from one still working.
CREATE TABLE jobs (
    id             {{id}},
    kind           TEXT NOT NULL,
    state          TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued','running','succeeded','failed')),
    lock_name      TEXT,
    subject        TEXT NOT NULL DEFAULT '',
    progress_done  BIGINT NOT NULL DEFAULT 0,
    progress_total BIGINT NOT NULL DEFAULT 0,
    progress_unit  TEXT NOT NULL DEFAULT '',
    checkpoint     TEXT NOT NULL DEFAULT '',
    result         TEXT,
    error          TEXT NOT NULL DEFAULT '',
    created_by     TEXT NOT NULL DEFAULT '',
    created_at     {{timestamp}} NOT NULL,
    started_at     {{timestamp}},
    finished_at    {{timestamp}},
    updated_at     {{timestamp}} NOT NULL
);
CREATE INDEX jobs_kind ON jobs(kind, id);
CREATE INDEX jobs_subject ON jobs(kind, subject, id);
CREATE UNIQUE INDEX jobs_lock ON jobs(lock_name) WHERE lock_name IS NOT NULL AND state IN ('queued','running');

-- +goose Down
DROP INDEX jobs_lock;
DROP INDEX jobs_subject;
DROP INDEX jobs_kind;
DROP TABLE jobs;
