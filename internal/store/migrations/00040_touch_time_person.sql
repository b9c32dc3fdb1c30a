-- +goose Up
-- The cohort lift (docs/lift.md) reads every person active in an event's
-- window, the channels of their touches in the 90 days before it, and the
-- persons a campaign touched in the window: through (occurred_at,
-- channel) and (campaign_id) each of those cost a row lookup per touch.
-- These indexes answer them alone. Each replaces the index it extends
-- (same leading columns), so that no query loses one and a touch costs
-- no more indexes to write.
CREATE INDEX touchpoints_time_person ON touchpoints(occurred_at, channel, person_id);
DROP INDEX touchpoints_time;
CREATE INDEX touchpoints_campaign_time ON touchpoints(campaign_id, occurred_at, person_id);
DROP INDEX touchpoints_campaign;

-- +goose Down
CREATE INDEX touchpoints_campaign ON touchpoints(campaign_id);
DROP INDEX touchpoints_campaign_time;
CREATE INDEX touchpoints_time ON touchpoints(occurred_at, channel);
DROP INDEX touchpoints_time_person;
