-- +goose Up
-- A server write key is held by a backend the operator controls, not
-- embedded in web pages: its identify calls may attach a new email or
-- phone to a person who already holds another one (docs/identity.md).
-- Browser keys (the default) may not. The built-in imports key carries
-- what an administrator imported, so it is a server key.
ALTER TABLE write_keys ADD COLUMN server BOOLEAN NOT NULL DEFAULT {{bool false}};
UPDATE write_keys SET server = {{bool true}} WHERE name = 'revloop:imports';

-- +goose Down
ALTER TABLE write_keys DROP COLUMN server;
