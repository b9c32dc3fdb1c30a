-- +goose Up
-- Scoring rule sets (JSON, validated by internal/scoring before they are
-- saved): the newest is active, older ones are history. The id is the rule
-- version that persons.score_version and stage_changes.rule_version name.
CREATE TABLE scoring_rule_sets (
    id         {{id}},
    rules      TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at {{timestamp}} NOT NULL
);

-- How far incremental rescoring has read: the highest event id and the
-- highest touchpoint id (of touchpoints without an event) already scored.
CREATE TABLE scoring_watermarks (
    name     TEXT PRIMARY KEY,
    value    BIGINT NOT NULL,
    moved_at {{timestamp}} NOT NULL
);

-- +goose Down
DROP TABLE scoring_watermarks;
DROP TABLE scoring_rule_sets;
