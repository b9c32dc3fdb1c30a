-- +goose Up
-- The processing backlog (/metrics, /api/v1/stats) is the count and the
-- oldest received_at of the events not yet processed. With received_at in
-- the partial index that serves the processor's "next events by id", both
-- are read from the index alone, a scan of the backlog and nothing else,
-- and intake maintains no extra index. SQLite uses a partial index as a
-- covering one only when it holds the columns of its own WHERE clause too,
-- hence processed_at there (always NULL in it).
DROP INDEX events_unprocessed;
CREATE INDEX events_unprocessed ON events(id, received_at{{sqlite ", processed_at"}}) WHERE processed_at IS NULL;

-- +goose Down
DROP INDEX events_unprocessed;
CREATE INDEX events_unprocessed ON events(id) WHERE processed_at IS NULL;
