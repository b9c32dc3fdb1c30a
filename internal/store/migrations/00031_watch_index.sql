-- +goose Up
-- The touches that carry a watch time (webinar attendances imported with
-- their minutes, collected video sessions), by campaign and time: the
-- events dashboard counts how many there are and how many reached 30
-- minutes, which the roll-ups (sums only) cannot tell. Only those touches
-- are indexed, a small share of all.
CREATE INDEX touchpoints_watched ON touchpoints(campaign_id, occurred_at, watch_seconds) WHERE watch_seconds > 0;

-- +goose Down
DROP INDEX touchpoints_watched;
