-- +goose Up
-- PostgreSQL drops the foreign keys of events and touchpoints to persons,
-- events and write keys in this version (00016_hot_path_keys-postgres.sql);
-- SQLite keeps them: its checks are cheap lookups without row locks, and
-- dropping them would rebuild both tables. The version exists so that both
-- engines stay at the same schema version.
SELECT 1;

-- +goose Down
SELECT 1;
