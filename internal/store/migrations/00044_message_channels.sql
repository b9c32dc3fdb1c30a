-- +goose Up
-- Messaging channels (docs/messaging.md). message_sends holds one row per
-- message counted against a frequency cap: a person's messages on a
-- channel (email, wecom), and the messages a WeCom member sent (scope
-- "wecom.member", the member's id as subject). A row is written as a
-- reservation when the gate lets a message through, in the transaction
-- that counted the earlier ones, and confirmed when the message went; a
-- reservation not confirmed by expires_at no longer counts. The key is
-- the message's key, so that a retried message reuses its reservation.
CREATE TABLE message_sends (
    scope      TEXT NOT NULL,
    msg_key    TEXT NOT NULL,
    subject    TEXT NOT NULL,
    sent_at    {{timestamp}} NOT NULL,
    confirmed  BOOLEAN NOT NULL DEFAULT {{bool false}},
    expires_at {{timestamp}} NOT NULL,
    -- the provider's id of a confirmed send (WeCom's msgid), when it gave one
    provider_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (scope, msg_key)
);
-- The cap check reads one range of this index: a subject's rows of the
-- last week, with what it needs to count them.
CREATE INDEX message_sends_subject ON message_sends(scope, subject, sent_at, confirmed, expires_at);

-- The WeCom access token of each corp and app, shared by every node:
-- sealed with the secret key, with its expiry; refreshing_until is the
-- claim of the node refreshing it (compare-and-set, so that nodes do not
-- all ask WeCom at once).
CREATE TABLE wecom_tokens (
    app_key          TEXT PRIMARY KEY,
    token_sealed     TEXT NOT NULL DEFAULT '',
    expires_at       {{timestamp}},
    refreshing_until {{timestamp}},
    updated_at       {{timestamp}} NOT NULL
);

-- The WeCom member id (userid) of a revloop user: the sender of external
-- contact messages to the persons they own, the recipient of app
-- messages about them.
CREATE TABLE wecom_members (
    user_id    BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    member_id  TEXT NOT NULL,
    updated_at {{timestamp}} NOT NULL
);

-- +goose Down
DROP TABLE wecom_members;
DROP TABLE wecom_tokens;
DROP TABLE message_sends;
