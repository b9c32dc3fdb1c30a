-- +goose Up
-- A heartbeat row that /readyz commits to prove the database takes
-- writes: a ping does not notice a read-only or full database. Its one
-- row has id 1, so the id is a plain INTEGER on both engines.
CREATE TABLE readiness (
    id         INTEGER PRIMARY KEY,
    checked_at {{timestamp}} NOT NULL
);

-- +goose Down
DROP TABLE readiness;
