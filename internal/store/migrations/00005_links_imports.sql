-- +goose Up
-- Tracked links: short codes that redirect to a campaign's landing page with
-- UTM appended and record a touch. promoter_id is the employee who shared the
-- link (全员营销); card_id a sales rep's business-card id.
CREATE TABLE tracked_links (
    id           {{id}},
    code         TEXT NOT NULL UNIQUE,
    campaign_id  BIGINT NOT NULL REFERENCES campaigns(id),
    target_url   TEXT NOT NULL,
    utm_source   TEXT NOT NULL DEFAULT '',
    utm_medium   TEXT NOT NULL DEFAULT '',
    utm_campaign TEXT NOT NULL DEFAULT '',
    utm_term     TEXT NOT NULL DEFAULT '',
    utm_content  TEXT NOT NULL DEFAULT '',
    promoter_id  BIGINT REFERENCES users(id),
    card_id      TEXT NOT NULL DEFAULT '',
    created_at   {{timestamp}} NOT NULL,
    revoked_at   {{timestamp}}
);
CREATE INDEX tracked_links_campaign ON tracked_links(campaign_id);

-- One row per imported file: a second import of the same bytes is refused
-- as "already imported" and changes nothing. The row counts were declared
-- BIGINT on PostgreSQL only (SQLite's INTEGER holds 64 bits anyway).
CREATE TABLE imports (
    id         {{id}},
    kind       TEXT NOT NULL CHECK (kind IN ('costs','events')),
    file_hash  TEXT NOT NULL,
    file_name  TEXT NOT NULL DEFAULT '',
    layout     TEXT NOT NULL DEFAULT '',
    rows_read  {{sqlite "INTEGER"}}{{psql "BIGINT"}} NOT NULL DEFAULT 0,
    rows_new   {{sqlite "INTEGER"}}{{psql "BIGINT"}} NOT NULL DEFAULT 0,
    rows_same  {{sqlite "INTEGER"}}{{psql "BIGINT"}} NOT NULL DEFAULT 0,
    rows_updated {{sqlite "INTEGER"}}{{psql "BIGINT"}} NOT NULL DEFAULT 0,
    rows_skipped {{sqlite "INTEGER"}}{{psql "BIGINT"}} NOT NULL DEFAULT 0,
    created_at {{timestamp}} NOT NULL,
    UNIQUE (kind, file_hash)
);

-- The ad account a campaign was bought in, as the platform's report names it.
ALTER TABLE campaigns ADD COLUMN ad_account TEXT NOT NULL DEFAULT '';
CREATE INDEX campaigns_platform_name ON campaigns(platform, name);
CREATE INDEX ad_groups_campaign_name ON ad_groups(campaign_id, name);
CREATE INDEX keywords_campaign_text ON keywords(campaign_id, text);

-- +goose Down
DROP INDEX keywords_campaign_text;
DROP INDEX ad_groups_campaign_name;
DROP INDEX campaigns_platform_name;
ALTER TABLE campaigns DROP COLUMN ad_account;
DROP TABLE imports;
DROP TABLE tracked_links;
