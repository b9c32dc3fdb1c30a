-- +goose Up
-- Segments: saved filters over persons or over accounts (docs/segments.md
-- describes the condition language). Membership is stored, kept current
-- as persons change, and every enter and leave is logged in
-- segment_changes in the same transaction as the membership change, so
-- that a reader (a journey's segment trigger) keeping the highest id it
-- has read never misses one. An id is never used twice: SQLite needs
-- AUTOINCREMENT for that.
CREATE TABLE segments (
    id           {{id}},
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    kind         TEXT NOT NULL CHECK (kind IN ('person','account')),
    filter       TEXT NOT NULL,
    timed        BOOLEAN NOT NULL DEFAULT {{bool false}}, -- the filter asks about "the last D days": re-evaluated as time passes
    version      BIGINT NOT NULL DEFAULT 1,               -- the filter's version; built_version is the one membership follows
    built_version BIGINT NOT NULL DEFAULT 0,
    member_count BIGINT NOT NULL DEFAULT 0,
    built_at     {{timestamp}},
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   {{timestamp}} NOT NULL,
    updated_at   {{timestamp}} NOT NULL
);

-- member_id is a person's id or, for an account segment, an account's.
CREATE TABLE segment_members (
    segment_id BIGINT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    member_id  BIGINT NOT NULL,
    entered_at {{timestamp}} NOT NULL,
    PRIMARY KEY (segment_id, member_id)
);
-- A person's segments (a journey's branch on membership, the person page).
CREATE INDEX segment_members_member ON segment_members(member_id, segment_id);

-- Append-only: entered true when the member entered, false when it left.
CREATE TABLE segment_changes (
    id         {{id}}{{sqlite " AUTOINCREMENT"}},
    segment_id BIGINT NOT NULL,
    member_id  BIGINT NOT NULL,
    entered    BOOLEAN NOT NULL,
    at         {{timestamp}} NOT NULL
);
CREATE INDEX segment_changes_segment ON segment_changes(segment_id, id);

-- How far incremental evaluation has read each log of person changes
-- (events, touchpoints, person_changes, stage_changes,
-- qualification_changes, assignments ids; consents as a time in
-- microseconds since 1970).
CREATE TABLE segment_watermarks (
    name     TEXT PRIMARY KEY,
    value    BIGINT NOT NULL,
    moved_at {{timestamp}} NOT NULL
);

-- A build asks of the touches of a type in a window which persons they
-- belong to: this answers from the index alone (touches by channel use
-- touchpoints_time_person).
CREATE INDEX touchpoints_type_time ON touchpoints(type, occurred_at, person_id);

-- +goose Down
DROP INDEX touchpoints_type_time;
DROP TABLE segment_watermarks;
DROP TABLE segment_changes;
DROP TABLE segment_members;
DROP TABLE segments;
