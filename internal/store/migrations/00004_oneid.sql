-- +goose Up
-- OneID: a person merged into another stays as a tombstone pointing at the
-- survivor, so that a merge can be undone.
ALTER TABLE persons ADD COLUMN merged_into_id BIGINT REFERENCES persons(id);
CREATE INDEX persons_merged_into ON persons(merged_into_id);

-- Accounts named by explicit `group` calls.
ALTER TABLE accounts ADD COLUMN group_id TEXT NOT NULL DEFAULT '';
CREATE INDEX accounts_group ON accounts(group_id);

-- Which person an event was resolved to (set by processing), and why a
-- message could not be processed, if it could not.
ALTER TABLE events ADD COLUMN person_id BIGINT REFERENCES persons(id);
ALTER TABLE events ADD COLUMN process_error TEXT NOT NULL DEFAULT '';
CREATE INDEX events_person_time ON events(person_id, ts);

-- Channel grouping rule sets, newest is active; older ones are history.
CREATE TABLE channel_rule_sets (
    id         {{id}},
    rules      TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at {{timestamp}} NOT NULL
);

-- Two persons that look like one but each hold a different identifier of the
-- same kind: never merged automatically, listed for review. person_a < person_b.
CREATE TABLE identity_conflicts (
    id          {{id}},
    person_a    BIGINT NOT NULL REFERENCES persons(id),
    person_b    BIGINT NOT NULL REFERENCES persons(id),
    type        TEXT NOT NULL,
    value_a     TEXT NOT NULL DEFAULT '',
    value_b     TEXT NOT NULL DEFAULT '',
    event_id    BIGINT REFERENCES events(id),
    reason      TEXT NOT NULL DEFAULT '',
    created_at  {{timestamp}} NOT NULL,
    resolved_at {{timestamp}},
    UNIQUE (person_a, person_b, type)
);

-- Every merge, with what it moved, so that it can be undone.
CREATE TABLE person_merges (
    id         {{id}},
    into_id    BIGINT NOT NULL REFERENCES persons(id),
    from_id    BIGINT NOT NULL REFERENCES persons(id),
    reason     TEXT NOT NULL DEFAULT '',
    event_id   BIGINT REFERENCES events(id),
    actor      TEXT NOT NULL DEFAULT '',
    snapshot   TEXT NOT NULL DEFAULT '{}',
    created_at {{timestamp}} NOT NULL,
    undone_at  {{timestamp}}
);
CREATE INDEX person_merges_into ON person_merges(into_id);
CREATE INDEX person_merges_from ON person_merges(from_id);

CREATE TABLE person_merge_items (
    merge_id BIGINT NOT NULL REFERENCES person_merges(id) ON DELETE CASCADE,
    kind     TEXT NOT NULL,
    item_id  BIGINT NOT NULL DEFAULT 0,
    id_type  TEXT NOT NULL DEFAULT '',
    id_value TEXT NOT NULL DEFAULT ''
);
CREATE INDEX person_merge_items_merge ON person_merge_items(merge_id, kind);

-- +goose Down
DROP TABLE person_merge_items;
DROP TABLE person_merges;
DROP TABLE identity_conflicts;
DROP TABLE channel_rule_sets;
DROP INDEX events_person_time;
ALTER TABLE events DROP COLUMN process_error;
ALTER TABLE events DROP COLUMN person_id;
DROP INDEX accounts_group;
ALTER TABLE accounts DROP COLUMN group_id;
DROP INDEX persons_merged_into;
ALTER TABLE persons DROP COLUMN merged_into_id;
