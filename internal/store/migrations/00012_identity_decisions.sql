-- +goose Up
-- Decisions on identity conflicts: who resolved one, how (merge or
-- keep_apart), why, and the merge it made; and the pairs of persons a
-- person declared different people, which are never merged automatically
-- nor raised as a conflict again. person_a < person_b.

ALTER TABLE identity_conflicts ADD COLUMN decision TEXT NOT NULL DEFAULT '';
ALTER TABLE identity_conflicts ADD COLUMN decided_by TEXT NOT NULL DEFAULT '';
ALTER TABLE identity_conflicts ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE identity_conflicts ADD COLUMN merge_id BIGINT REFERENCES person_merges(id);

CREATE TABLE identity_kept_apart (
    person_a    BIGINT NOT NULL REFERENCES persons(id),
    person_b    BIGINT NOT NULL REFERENCES persons(id),
    conflict_id BIGINT REFERENCES identity_conflicts(id),
    decided_by  TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    created_at  {{timestamp}} NOT NULL,
    PRIMARY KEY (person_a, person_b)
);

-- +goose Down
DROP TABLE identity_kept_apart;
ALTER TABLE identity_conflicts DROP COLUMN merge_id;
ALTER TABLE identity_conflicts DROP COLUMN note;
ALTER TABLE identity_conflicts DROP COLUMN decided_by;
ALTER TABLE identity_conflicts DROP COLUMN decision;
