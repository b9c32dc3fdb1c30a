-- +goose Up
-- A heartbeat row that /readyz commits to prove the database takes
-- writes: a ping does not notice a read-only or full database.
CREATE TABLE readiness (
    id         INTEGER PRIMARY KEY,
    checked_at DATETIME NOT NULL
);

-- +goose Down
DROP TABLE readiness;
