-- +goose Up
-- Email: the addresses that must not be mailed again (a hard bounce, a
-- complaint, repeated soft bounces, an administrator's entry), every
-- bounce, complaint and reply reported (soft bounces are counted from
-- them), and what became of each message sent (opened, clicked, replied,
-- bounced, complained, unsubscribed), first time only, by the message's
-- key (the journey ledger's key, the local part of its Message-ID).
CREATE TABLE email_suppressions (
    email      TEXT PRIMARY KEY,
    reason     TEXT NOT NULL CHECK (reason IN ('hard_bounce','complaint','soft_bounce','manual')),
    detail     TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL DEFAULT '',
    created_at {{timestamp}} NOT NULL
);

CREATE TABLE email_reports (
    id          {{id}},
    email       TEXT NOT NULL,
    type        TEXT NOT NULL CHECK (type IN ('hard','soft','complaint','reply')),
    message_key TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '',
    reported_at {{timestamp}} NOT NULL
);
CREATE INDEX email_reports_email ON email_reports(email, type, reported_at);

CREATE TABLE message_events (
    message_key TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('opened','clicked','replied','bounced','complained','unsubscribed')),
    person_id   BIGINT REFERENCES persons(id) ON DELETE SET NULL,
    detail      TEXT NOT NULL DEFAULT '',
    at          {{timestamp}} NOT NULL,
    PRIMARY KEY (message_key, kind)
);
CREATE INDEX message_events_person ON message_events(person_id, at);

-- +goose Down
DROP TABLE message_events;
DROP TABLE email_reports;
DROP TABLE email_suppressions;
