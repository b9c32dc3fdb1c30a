-- +goose Up
-- Attribution credits stored per conversion and touch, one column per
-- model, so that reports read sums instead of recomputing journeys; the
-- conversions they were computed for (those without touches too), so that
-- "not yet computed" is an anti-join; each kind's touch watermark for
-- incremental runs; and the channel weights of the data-driven models'
-- global fit. The ad group a touch came through (NULL: take its keyword's).

ALTER TABLE touchpoints ADD COLUMN ad_group_id BIGINT REFERENCES ad_groups(id);
CREATE INDEX touchpoints_ad_group ON touchpoints(ad_group_id) WHERE ad_group_id IS NOT NULL;

CREATE TABLE attribution_conversions (
    kind          TEXT NOT NULL CHECK (kind IN ('opportunity','won','order','mql','sql')),
    conversion_id BIGINT NOT NULL,           -- opportunity, order or stage change
    person_id     BIGINT,                    -- mql, sql: the person entering the stage
    converted_at  {{timestamp}} NOT NULL,
    value_fen     BIGINT NOT NULL DEFAULT 0,
    touches       INTEGER NOT NULL DEFAULT 0,
    sourced       SMALLINT NOT NULL DEFAULT 0,  -- first touch was marketing
    influenced    SMALLINT NOT NULL DEFAULT 0,  -- a marketing touch by opportunity creation
    fingerprint   BIGINT NOT NULL,              -- of time, value, milestones and persons
    computed_at   {{timestamp}} NOT NULL,
    PRIMARY KEY (kind, conversion_id)
){{sqlite " WITHOUT ROWID"}};
CREATE INDEX attribution_conversions_time ON attribution_conversions(kind, converted_at);
CREATE INDEX attribution_conversions_person ON attribution_conversions(kind, person_id, converted_at);

-- Shares of the conversion (each model's column sums to 1 per conversion
-- with touches); credited value is share × value_fen. The touch's channel
-- is copied so that the by-channel roll-up needs no join.
CREATE TABLE attribution_credits (
    kind            TEXT NOT NULL,
    conversion_id   BIGINT NOT NULL,
    touch_id        BIGINT NOT NULL,
    channel         TEXT NOT NULL,
    first_touch     DOUBLE PRECISION NOT NULL,
    last_touch      DOUBLE PRECISION NOT NULL,
    last_non_direct DOUBLE PRECISION NOT NULL,
    linear          DOUBLE PRECISION NOT NULL,
    linear_unique   DOUBLE PRECISION NOT NULL,
    position        DOUBLE PRECISION NOT NULL,
    u_lead          DOUBLE PRECISION NOT NULL,
    w_shaped        DOUBLE PRECISION NOT NULL,
    full_path       DOUBLE PRECISION NOT NULL,
    j_shaped        DOUBLE PRECISION NOT NULL,
    inverse_j       DOUBLE PRECISION NOT NULL,
    time_decay      DOUBLE PRECISION NOT NULL,
    markov          DOUBLE PRECISION NOT NULL,
    shapley         DOUBLE PRECISION NOT NULL,
    shapley_rate    DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (kind, conversion_id, touch_id)
){{sqlite " WITHOUT ROWID"}};

CREATE TABLE attribution_state (
    kind            TEXT PRIMARY KEY,
    touch_watermark BIGINT NOT NULL DEFAULT 0,  -- highest touchpoint id seen
    computed_at     {{timestamp}} NOT NULL,
    fitted_at       {{timestamp}}                    -- last global fit of markov and shapley-rate
);

CREATE TABLE attribution_weights (
    kind    TEXT NOT NULL,
    model   TEXT NOT NULL,
    channel TEXT NOT NULL,
    weight  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (kind, model, channel)
);

-- +goose Down
DROP TABLE attribution_weights;
DROP TABLE attribution_state;
DROP TABLE attribution_credits;
DROP TABLE attribution_conversions;
DROP INDEX touchpoints_ad_group;
ALTER TABLE touchpoints DROP COLUMN ad_group_id;
