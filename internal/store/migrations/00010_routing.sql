-- +goose Up
-- Routing and follow-up SLAs: assignment rule sets (newest is active), the
-- round-robin cursor of each rule, assignments with their SLA clock, and
-- logged sales activities (calls, emails, meetings, WeChat, notes).
CREATE TABLE routing_rule_sets (
    id         {{id}},
    rules      TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at {{timestamp}} NOT NULL
);

-- The user a rule handed its last lead to: the next turn starts after it,
-- so that a restart keeps round robin fair.
CREATE TABLE routing_cursors (
    rule         TEXT PRIMARY KEY,
    last_user_id BIGINT NOT NULL,
    updated_at   {{timestamp}} NOT NULL
);

CREATE TABLE assignments (
    id                 {{id}},
    person_id          BIGINT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    user_id            BIGINT NOT NULL REFERENCES users(id),
    rule               TEXT NOT NULL DEFAULT '',
    reason             TEXT NOT NULL DEFAULT '',
    rule_set_id        BIGINT,
    assigned_by        TEXT NOT NULL DEFAULT '',
    assigned_at        {{timestamp}} NOT NULL,
    due_at             {{timestamp}} NOT NULL,
    first_follow_up_at {{timestamp}},
    breached_at        {{timestamp}},
    escalation_task_id BIGINT REFERENCES tasks(id) ON DELETE SET NULL,
    superseded_at      {{timestamp}}
);
CREATE INDEX assignments_person ON assignments(person_id, assigned_at);
CREATE INDEX assignments_user ON assignments(user_id, assigned_at);
CREATE INDEX assignments_due ON assignments(due_at);

CREATE TABLE activities (
    id          {{id}},
    person_id   BIGINT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users(id),
    kind        TEXT NOT NULL CHECK (kind IN ('call','email','meeting','wechat','note')),
    occurred_at {{timestamp}} NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  {{timestamp}} NOT NULL
);
CREATE INDEX activities_person ON activities(person_id, occurred_at);
CREATE INDEX activities_user ON activities(user_id, occurred_at);

-- +goose Down
DROP TABLE activities;
DROP TABLE assignments;
DROP TABLE routing_cursors;
DROP TABLE routing_rule_sets;
