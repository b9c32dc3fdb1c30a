-- +goose Up
-- A log of changes to persons that their scores and attribution credits
-- depend on besides new events and touches: a merge (both persons), an
-- undone merge (both persons), traits or account changed by an identify.
-- Incremental scoring and incremental credits each keep the highest id
-- they have read (scoring_watermarks 'person_changes',
-- attribution_state.change_watermark) and recompute the persons above it,
-- so that a merge made by hand, whose moved touches and events keep their
-- old ids, reaches scores and credits in the next incremental run. Rows
-- every reader has passed are pruned after a week. An id is never used
-- twice, even once the newest rows are pruned, so that no change ever
-- falls below a watermark already stored: SQLite needs AUTOINCREMENT for
-- that, a PostgreSQL sequence never goes back anyway.
CREATE TABLE person_changes (
    id         {{id}}{{sqlite " AUTOINCREMENT"}},
    person_id  BIGINT NOT NULL REFERENCES persons(id),
    reason     TEXT NOT NULL,
    created_at {{timestamp}} NOT NULL
);
-- What changed of one person, and why it was rescored.
CREATE INDEX person_changes_person ON person_changes(person_id);

ALTER TABLE attribution_state ADD COLUMN change_watermark BIGINT NOT NULL DEFAULT 0; -- highest person_changes id seen

-- +goose Down
ALTER TABLE attribution_state DROP COLUMN change_watermark;
DROP TABLE person_changes;
