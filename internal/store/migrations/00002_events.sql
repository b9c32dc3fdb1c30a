-- +goose Up
CREATE TABLE write_keys (
    id         {{id}},
    name       TEXT NOT NULL,
    key        TEXT NOT NULL UNIQUE,
    created_at {{timestamp}} NOT NULL,
    revoked_at {{timestamp}}
);

-- Raw events, append-only. (write_key_id, message_id) is unique forever, so a
-- retried message is stored once.
CREATE TABLE events (
    id            {{id}},
    write_key_id  BIGINT NOT NULL REFERENCES write_keys(id),
    message_id    TEXT NOT NULL,
    type          TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    user_id       TEXT NOT NULL DEFAULT '',
    anonymous_id  TEXT NOT NULL DEFAULT '',
    group_id      TEXT NOT NULL DEFAULT '',
    previous_id   TEXT NOT NULL DEFAULT '',
    ts            {{timestamp}} NOT NULL,
    received_at   {{timestamp}} NOT NULL,
    sent_at       {{timestamp}},
    ip            TEXT NOT NULL DEFAULT '',
    user_agent    TEXT NOT NULL DEFAULT '',
    bot           BOOLEAN NOT NULL DEFAULT {{bool false}},
    url           TEXT NOT NULL DEFAULT '',
    referrer      TEXT NOT NULL DEFAULT '',
    source        TEXT NOT NULL DEFAULT '',
    medium        TEXT NOT NULL DEFAULT '',
    campaign      TEXT NOT NULL DEFAULT '',
    term          TEXT NOT NULL DEFAULT '',
    content       TEXT NOT NULL DEFAULT '',
    click_id_type TEXT NOT NULL DEFAULT '',
    click_id      TEXT NOT NULL DEFAULT '',
    payload       TEXT NOT NULL,
    processed_at  {{timestamp}},
    UNIQUE (write_key_id, message_id)
);
CREATE INDEX events_unprocessed ON events(id) WHERE processed_at IS NULL;

-- Touchpoints made from events point back to them.
ALTER TABLE touchpoints ADD COLUMN event_id BIGINT REFERENCES events(id);
CREATE UNIQUE INDEX touchpoints_event ON touchpoints(event_id);

-- Settings that administrators change at run time (IP anonymisation,
-- default phone region, ...), as key → JSON value.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at {{timestamp}} NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP INDEX touchpoints_event;
ALTER TABLE touchpoints DROP COLUMN event_id;
DROP TABLE events;
DROP TABLE write_keys;
