-- +goose Up
-- Campaign reviews: a campaign's (or a programme's) targets for the
-- review metrics that have no column of their own on campaigns (leads,
-- MQLs, opportunities and won revenue stay in target_leads, target_mqls,
-- target_opportunities and target_revenue_fen), in hundredths of the
-- metric's unit (fen for money); and the action items reviews decide on,
-- each also a task of its owner.
CREATE TABLE campaign_targets (
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    metric      TEXT NOT NULL,
    value       BIGINT NOT NULL CHECK (value >= 0),
    PRIMARY KEY (campaign_id, metric)
);

CREATE TABLE campaign_actions (
    id          {{id}},
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    task_id     BIGINT REFERENCES tasks(id) ON DELETE SET NULL,
    action      TEXT NOT NULL,
    owner_id    BIGINT NOT NULL REFERENCES users(id),
    due_date    DATE NOT NULL,
    due_at      {{timestamp}} NOT NULL,
    success     TEXT NOT NULL DEFAULT '',
    finding     TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','done','dropped')),
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  {{timestamp}} NOT NULL,
    updated_at  {{timestamp}} NOT NULL,
    closed_at   {{timestamp}}
);
CREATE INDEX campaign_actions_campaign ON campaign_actions(campaign_id, id);
CREATE INDEX campaign_actions_task ON campaign_actions(task_id);

-- +goose Down
DROP TABLE campaign_actions;
DROP TABLE campaign_targets;
