-- +goose Up
-- The reviews' facts kept between requests (docs/reviews.md, "Speed"):
-- what the promotion leaderboard, the content review and the cohort lift
-- read from touches, persons, stage changes and credits, summed, under a
-- key that says what was asked. An entry is good while its generation is
-- the current one; the roll-up refresh moves the generation on whenever
-- it changed a roll-up, i.e. whenever those facts changed, and then
-- computes again the entries read lately.
CREATE TABLE report_facts (
    report      TEXT NOT NULL,
    key         TEXT NOT NULL,
    params      TEXT NOT NULL,
    generation  BIGINT NOT NULL,
    body        TEXT NOT NULL,
    computed_at {{timestamp}} NOT NULL,
    read_at     {{timestamp}} NOT NULL,
    PRIMARY KEY (report, key)
);
CREATE INDEX report_facts_read ON report_facts(read_at);
CREATE TABLE report_facts_state (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO report_facts_state (id, generation) VALUES (1, 1);

-- In-app notifications: the reminders of action items' tasks (due soon,
-- overdue), one per task and reminder kind (dedup_key), for the task's
-- owner; read_at once they marked it read, notified_at once the
-- notification hook (e.g. email) accepted it.
CREATE TABLE notifications (
    id          {{id}},
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    dedup_key   TEXT NOT NULL UNIQUE,
    task_id     BIGINT REFERENCES tasks(id) ON DELETE CASCADE,
    title       TEXT NOT NULL DEFAULT '',
    href        TEXT NOT NULL DEFAULT '',
    due_at      {{timestamp}},
    created_at  {{timestamp}} NOT NULL,
    read_at     {{timestamp}},
    notified_at {{timestamp}}
);
CREATE INDEX notifications_user ON notifications(user_id, read_at, id);

-- Period reviews: a group of campaigns by date (a quarter or any range of
-- team days), optionally narrowed to a channel or a kind, with targets of
-- its own, in hundredths of the metric's unit as campaign_targets.
CREATE TABLE period_groups (
    id         {{id}},
    from_date  DATE NOT NULL,
    to_date    DATE NOT NULL,
    channel    TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL DEFAULT '',
    created_at {{timestamp}} NOT NULL,
    UNIQUE (from_date, to_date, channel, kind)
);
CREATE TABLE period_group_targets (
    group_id BIGINT NOT NULL REFERENCES period_groups(id) ON DELETE CASCADE,
    metric   TEXT NOT NULL,
    value    BIGINT NOT NULL CHECK (value >= 0),
    PRIMARY KEY (group_id, metric)
);

-- +goose Down
DROP TABLE period_group_targets;
DROP TABLE period_groups;
DROP TABLE notifications;
DROP TABLE report_facts_state;
DROP TABLE report_facts;
