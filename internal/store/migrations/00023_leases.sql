-- +goose Up
-- Leases: one holder at a time of a named run (the stored credits, the
-- scores, the lifecycle rules, routing) across every node sharing the
-- database. A holder renews its lease while it works; a lease that
-- expired (its node died) is free for the next one.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at {{timestamp}} NOT NULL
);

-- +goose Down
DROP TABLE leases;
