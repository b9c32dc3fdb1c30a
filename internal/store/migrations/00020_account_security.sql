-- +goose Up
-- Failed sign-ins per account (lower-cased email) and per client address,
-- kept in the database so that every node and every restart sees the same
-- counts. A row is deleted once it has been quiet for a day.
CREATE TABLE login_throttle (
    scope           TEXT NOT NULL CHECK (scope IN ('account','ip')),
    subject         TEXT NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    window_start    {{timestamp}} NOT NULL,
    lockouts        INTEGER NOT NULL DEFAULT 0,
    locked_until    {{timestamp}},
    last_attempt_at {{timestamp}} NOT NULL,
    PRIMARY KEY (scope, subject)
);

-- An API key acts for its owner and stops working when the owner is
-- disabled. Keys from before this version belong to the first admin.
ALTER TABLE api_keys ADD COLUMN user_id BIGINT REFERENCES users(id);
UPDATE api_keys SET user_id = (SELECT MIN(id) FROM users WHERE role = 'admin') WHERE user_id IS NULL;
CREATE INDEX api_keys_user ON api_keys(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

-- +goose Down
DROP INDEX sessions_expires;
DROP INDEX api_keys_user;
ALTER TABLE api_keys DROP COLUMN user_id;
DROP TABLE login_throttle;
