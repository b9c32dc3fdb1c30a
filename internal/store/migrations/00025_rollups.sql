-- +goose Up
-- Roll-ups: the figures of the dashboards and lists summed by the team's
-- calendar day (the time_zone setting), so that a page reads a few
-- thousand rows instead of scanning touches, persons and credits. Each is
-- recomputed one day at a time from the facts it sums: the days a run of
-- processing, crediting or the lifecycle changed (rollup_dirty, plus the
-- rows above the watermark of rollup_state), or every day when the time
-- zone changed. A key column of 0 or '' means "none" (a touch without a
-- campaign, say).

-- Touchpoints per day, channel, type, campaign, keyword and content asset.
CREATE TABLE rollup_touches (
    day           DATE NOT NULL,
    channel       TEXT NOT NULL,
    type          TEXT NOT NULL,
    campaign_id   BIGINT NOT NULL DEFAULT 0,
    keyword_id    BIGINT NOT NULL DEFAULT 0,
    content_id    BIGINT NOT NULL DEFAULT 0,
    touches       BIGINT NOT NULL,
    known         BIGINT NOT NULL,  -- of them, touches of a known person
    watch_seconds BIGINT NOT NULL,  -- live or on-demand watch time
    PRIMARY KEY (day, channel, type, campaign_id, keyword_id, content_id)
);
CREATE INDEX rollup_touches_campaign ON rollup_touches(campaign_id, day);

-- Persons by the day they became leads and the touch that made them leads
-- (their last touch at or before that moment): how many, and how many of
-- them have reached each later stage since.
CREATE TABLE rollup_leads (
    day           DATE NOT NULL,
    channel       TEXT NOT NULL,
    campaign_id   BIGINT NOT NULL DEFAULT 0,
    keyword_id    BIGINT NOT NULL DEFAULT 0,
    content_id    BIGINT NOT NULL DEFAULT 0,
    leads         BIGINT NOT NULL,
    mqls          BIGINT NOT NULL,
    sqls          BIGINT NOT NULL,
    opportunities BIGINT NOT NULL,
    customers     BIGINT NOT NULL,
    PRIMARY KEY (day, channel, campaign_id, keyword_id, content_id)
);
CREATE INDEX rollup_leads_campaign ON rollup_leads(campaign_id, day);

-- Persons entering each lifecycle stage per day, by the channel of their
-- first touch, with the days they spent since entering the funnel stage
-- before it (for velocity).
CREATE TABLE rollup_stages (
    day            DATE NOT NULL,
    stage          TEXT NOT NULL,
    channel        TEXT NOT NULL,
    entered        BIGINT NOT NULL,
    timed          BIGINT NOT NULL,           -- of them, those with a previous stage
    days_in_before DOUBLE PRECISION NOT NULL, -- their days since entering it, summed
    PRIMARY KEY (day, stage, channel)
);

-- Credit of the conversions (opportunity, won, order, mql, sql) per day of
-- the conversion, by the credited touch's channel, campaign, keyword and
-- content asset, for each stored model: the credited value in fen (share
-- × value) and the credited number of conversions (the shares summed).
CREATE TABLE rollup_credits (
    kind        TEXT NOT NULL,
    day         DATE NOT NULL,
    channel     TEXT NOT NULL,
    campaign_id BIGINT NOT NULL DEFAULT 0,
    keyword_id  BIGINT NOT NULL DEFAULT 0,
    content_id  BIGINT NOT NULL DEFAULT 0,
    first_touch_fen      DOUBLE PRECISION NOT NULL,
    last_touch_fen       DOUBLE PRECISION NOT NULL,
    last_non_direct_fen  DOUBLE PRECISION NOT NULL,
    linear_fen           DOUBLE PRECISION NOT NULL,
    linear_unique_fen    DOUBLE PRECISION NOT NULL,
    position_fen         DOUBLE PRECISION NOT NULL,
    u_lead_fen           DOUBLE PRECISION NOT NULL,
    w_shaped_fen         DOUBLE PRECISION NOT NULL,
    full_path_fen        DOUBLE PRECISION NOT NULL,
    j_shaped_fen         DOUBLE PRECISION NOT NULL,
    inverse_j_fen        DOUBLE PRECISION NOT NULL,
    time_decay_fen       DOUBLE PRECISION NOT NULL,
    markov_fen           DOUBLE PRECISION NOT NULL,
    shapley_fen          DOUBLE PRECISION NOT NULL,
    shapley_rate_fen     DOUBLE PRECISION NOT NULL,
    first_touch_n        DOUBLE PRECISION NOT NULL,
    last_touch_n         DOUBLE PRECISION NOT NULL,
    last_non_direct_n    DOUBLE PRECISION NOT NULL,
    linear_n             DOUBLE PRECISION NOT NULL,
    linear_unique_n      DOUBLE PRECISION NOT NULL,
    position_n           DOUBLE PRECISION NOT NULL,
    u_lead_n             DOUBLE PRECISION NOT NULL,
    w_shaped_n           DOUBLE PRECISION NOT NULL,
    full_path_n          DOUBLE PRECISION NOT NULL,
    j_shaped_n           DOUBLE PRECISION NOT NULL,
    inverse_j_n          DOUBLE PRECISION NOT NULL,
    time_decay_n         DOUBLE PRECISION NOT NULL,
    markov_n             DOUBLE PRECISION NOT NULL,
    shapley_n            DOUBLE PRECISION NOT NULL,
    shapley_rate_n       DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (kind, day, channel, campaign_id, keyword_id, content_id)
);
CREATE INDEX rollup_credits_campaign ON rollup_credits(kind, campaign_id, day);

-- Influence: per day of the conversion, the conversions that had at least
-- one credited touch of a channel, campaign, keyword or content asset
-- (dim), each counted once however many such touches it had, and their
-- value. Unlike credit, influence does not add up across refs.
CREATE TABLE rollup_influence (
    kind        TEXT NOT NULL,
    day         DATE NOT NULL,
    dim         TEXT NOT NULL CHECK (dim IN ('channel','campaign','keyword','content')),
    ref         TEXT NOT NULL,  -- the channel, or the id in decimal
    conversions BIGINT NOT NULL,
    value_fen   BIGINT NOT NULL,
    PRIMARY KEY (kind, dim, ref, day)
);

-- Where each roll-up stands: for touches, leads and stages the highest
-- touchpoints id (watermark) and stage_changes id (aux_watermark) summed,
-- for every roll-up the time zone its days are in. A roll-up without a
-- row, or in another time zone, is rebuilt from scratch.
CREATE TABLE rollup_state (
    name            TEXT PRIMARY KEY,
    watermark       BIGINT NOT NULL DEFAULT 0,
    aux_watermark   BIGINT NOT NULL DEFAULT 0,
    time_zone       TEXT NOT NULL,
    refreshed_at    {{timestamp}} NOT NULL
);

-- Changes outside the watermarks (a reclassification, an erasure, a merge,
-- rewritten credits), to recompute at the next refresh: day is the UTC
-- date of the instant that changed, and the refresh recomputes the team
-- days from the day before to the day after it, so that a writer needs no
-- calendar; 0001-01-01 asks for every day. A row per mark (not per day),
-- so that a refresh deletes only the marks it read and one added meanwhile
-- survives.
CREATE TABLE rollup_dirty (
    id   {{id}},
    name TEXT NOT NULL,
    day  DATE NOT NULL
);

-- Watch time of a live or on-demand session (an attendance imported with
-- its minutes, a collected video event).
ALTER TABLE touchpoints ADD COLUMN watch_seconds BIGINT NOT NULL DEFAULT 0;

CREATE INDEX persons_lead_at ON persons(lead_at);
CREATE INDEX stage_changes_time ON stage_changes(changed_at);

-- Campaigns are created and edited by people now: who owns one, which
-- programme it belongs to.
ALTER TABLE campaigns ADD COLUMN owner_id BIGINT REFERENCES users(id);
ALTER TABLE campaigns ADD COLUMN parent_id BIGINT REFERENCES campaigns(id);
ALTER TABLE campaigns ADD COLUMN updated_at {{timestamp}};

-- +goose Down
ALTER TABLE campaigns DROP COLUMN updated_at;
ALTER TABLE campaigns DROP COLUMN parent_id;
ALTER TABLE campaigns DROP COLUMN owner_id;
DROP INDEX stage_changes_time;
DROP INDEX persons_lead_at;
ALTER TABLE touchpoints DROP COLUMN watch_seconds;
DROP TABLE rollup_dirty;
DROP TABLE rollup_state;
DROP TABLE rollup_influence;
DROP TABLE rollup_credits;
DROP TABLE rollup_stages;
DROP TABLE rollup_leads;
DROP TABLE rollup_touches;
