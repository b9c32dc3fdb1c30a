-- +goose Up
-- Consent per person and channel: the latest answer a person gave (or the
-- operator recorded), with where it came from. No row means unknown.
CREATE TABLE consents (
    person_id  BIGINT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    channel    TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('granted','denied')),
    source     TEXT NOT NULL DEFAULT '',
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at {{timestamp}} NOT NULL,
    PRIMARY KEY (person_id, channel)
);

-- Identifiers whose events the collector drops: keyed hashes of
-- "type:value" (HMAC-SHA256 with the database's own key), never the
-- values. An erasure leaves entries without a person; a withdrawn
-- tracking consent leaves entries of that person, removed when consent
-- is granted again.
CREATE TABLE suppressions (
    id         {{id}},
    hash       TEXT NOT NULL UNIQUE,
    id_type    TEXT NOT NULL,
    reason     TEXT NOT NULL CHECK (reason IN ('erased','consent')),
    person_id  BIGINT REFERENCES persons(id) ON DELETE SET NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at {{timestamp}} NOT NULL
);
CREATE INDEX suppressions_person ON suppressions(person_id);

-- Receipts of erasures: what was removed (counts per table), when and by
-- whom. The person's id is kept, nothing that identifies the human.
CREATE TABLE erasures (
    id          {{id}},
    person_id   BIGINT NOT NULL,
    actor       TEXT NOT NULL DEFAULT '',
    removed     TEXT NOT NULL DEFAULT '{}',
    started_at  {{timestamp}} NOT NULL,
    finished_at {{timestamp}}
);

-- An erasure finds the merge items that name its events without reading
-- them all.
CREATE INDEX person_merge_items_event ON person_merge_items(item_id) WHERE kind = 'event';

-- A new database anonymises client addresses from the start; one that
-- already holds data keeps what it had (off unless set).
INSERT INTO settings (key, value, updated_at)
SELECT 'collector.anonymize_ip', 'true', CURRENT_TIMESTAMP
WHERE NOT EXISTS (SELECT 1 FROM settings) AND NOT EXISTS (SELECT 1 FROM events)
  AND NOT EXISTS (SELECT 1 FROM persons) AND NOT EXISTS (SELECT 1 FROM users);

-- +goose Down
DROP INDEX person_merge_items_event;
DROP TABLE erasures;
DROP TABLE suppressions;
DROP TABLE consents;
