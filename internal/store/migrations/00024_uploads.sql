-- +goose Up
-- Files uploaded for a job (an import), kept in the database so that the
-- job can run on any node, survive a restart and resume: the file in
-- parts of at most a MiB each, deleted when the job ends.
CREATE TABLE uploads (
    id         {{id}},
    name       TEXT NOT NULL,
    size       BIGINT NOT NULL,
    part_size  INTEGER NOT NULL,
    created_at {{timestamp}} NOT NULL
);
CREATE INDEX uploads_created ON uploads(created_at);

CREATE TABLE upload_parts (
    upload_id BIGINT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    data      {{blob}} NOT NULL,
    PRIMARY KEY (upload_id, seq)
);

-- +goose Down
DROP TABLE upload_parts;
DROP TABLE uploads;
