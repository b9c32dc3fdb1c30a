-- +goose Up
-- The promotion leaderboard counts a window's touches per promoter (the
-- employee a touch names) and the visitors they brought; this index
-- answers that alone, led by the time as touchpoints_link_time (00037) and
-- holding only the touches that name a promoter, a small share of all.
CREATE INDEX touchpoints_promoter_time ON touchpoints(occurred_at, promoter_id, person_id, campaign_id) WHERE promoter_id IS NOT NULL;
-- The content review reads a window's downloads and who made them: the
-- touches that name a content asset, by time, likewise.
CREATE INDEX touchpoints_content_time ON touchpoints(occurred_at, content_id, type, person_id) WHERE content_id IS NOT NULL;
-- An employee's own share links: "my share link" finds the caller's live
-- link of a campaign, and the leaderboard counts the links shared.
CREATE INDEX tracked_links_promoter ON tracked_links(promoter_id, campaign_id) WHERE promoter_id IS NOT NULL;

-- +goose Down
DROP INDEX tracked_links_promoter;
DROP INDEX touchpoints_content_time;
DROP INDEX touchpoints_promoter_time;
