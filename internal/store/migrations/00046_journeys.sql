-- +goose Up
-- Nurture journeys (docs/journeys.md). A journey has versions, each a
-- definition (model.JourneyDef in JSON); one version is live. A person
-- who enters gets an entry (numbered per journey and person, for
-- re-entry), and every step the entry reaches is one row of the ledger:
-- the only record of what happened. A step is claimed from the ledger
-- (a lease: claimed_by, lease_until), run, and completed together with
-- the insertion of the next step's row, in one transaction; a scheduled
-- wait is a row whose due_at lies ahead.
CREATE TABLE journeys (
    id             {{id}},
    name           TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft','live','paused','archived')),
    live_version   INTEGER NOT NULL DEFAULT 0,
    latest_version INTEGER NOT NULL DEFAULT 1,
    created_by     TEXT NOT NULL DEFAULT '',
    created_at     {{timestamp}} NOT NULL,
    updated_at     {{timestamp}} NOT NULL
);

CREATE TABLE journey_versions (
    journey_id   BIGINT NOT NULL REFERENCES journeys(id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    definition   TEXT NOT NULL,
    created_at   {{timestamp}} NOT NULL,
    activated_at {{timestamp}},
    PRIMARY KEY (journey_id, version)
);

-- The triggers of the live journeys, read inside event processing and
-- stage moves: small, and cached by the counter in journey_meta.
CREATE TABLE journey_triggers (
    journey_id BIGINT PRIMARY KEY REFERENCES journeys(id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('event','stage','segment','date_trait')),
    value      TEXT NOT NULL,
    reentry    TEXT NOT NULL,
    first_step TEXT NOT NULL,
    first_type TEXT NOT NULL
);
CREATE INDEX journey_triggers_kind ON journey_triggers(kind, value);

-- Counters and cursors: "triggers" (bumped whenever the live triggers or
-- the events waits listen for change), "segment_feed" (the last segment
-- change taken), "date_pass" (the last day of the date-trait pass, as
-- yyyymmdd).
CREATE TABLE journey_meta (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE journey_entries (
    id           {{id}},
    journey_id   BIGINT NOT NULL REFERENCES journeys(id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    person_id    BIGINT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    entry_no     INTEGER NOT NULL,
    entered_at   {{timestamp}} NOT NULL,
    state        TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active','completed','exited')),
    current_step TEXT NOT NULL DEFAULT '',
    ended_at     {{timestamp}},
    reason       TEXT NOT NULL DEFAULT '',
    UNIQUE (journey_id, person_id, entry_no)
);
CREATE INDEX journey_entries_state ON journey_entries(journey_id, state, version, current_step);
CREATE INDEX journey_entries_person ON journey_entries(person_id);

CREATE TABLE journey_ledger (
    id          {{id}},
    entry_id    BIGINT NOT NULL REFERENCES journey_entries(id) ON DELETE CASCADE,
    journey_id  BIGINT NOT NULL,
    version     INTEGER NOT NULL,
    step_id     TEXT NOT NULL,
    person_id   BIGINT NOT NULL,
    entry_no    INTEGER NOT NULL,
    step_type   TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'due' CHECK (status IN ('due','running','done','skipped','failed')),
    due_at      {{timestamp}} NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    claimed_by  TEXT NOT NULL DEFAULT '',
    lease_until {{timestamp}},
    wait_until  {{timestamp}},
    wait_event  TEXT NOT NULL DEFAULT '',
    result      TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    message_key TEXT NOT NULL,
    next_step   TEXT NOT NULL DEFAULT '',
    created_at  {{timestamp}} NOT NULL,
    started_at  {{timestamp}},
    finished_at {{timestamp}},
    UNIQUE (journey_id, version, step_id, person_id, entry_no)
);
CREATE INDEX journey_ledger_due ON journey_ledger(due_at, id) WHERE status = 'due';
CREATE INDEX journey_ledger_lease ON journey_ledger(lease_until) WHERE status = 'running';
CREATE INDEX journey_ledger_wait ON journey_ledger(person_id, wait_event) WHERE status = 'due' AND wait_event <> '';
CREATE INDEX journey_ledger_entry ON journey_ledger(entry_id, id);

-- +goose Down
DROP TABLE journey_ledger;
DROP TABLE journey_entries;
DROP TABLE journey_meta;
DROP TABLE journey_triggers;
DROP TABLE journey_versions;
DROP TABLE journeys;
