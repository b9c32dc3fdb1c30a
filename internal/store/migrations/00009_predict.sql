-- +goose Up
-- Predictive scoring: one row per training run, the newest last. A run
-- with too little data is kept too (status insufficient_data, no figures),
-- so that the API can say plainly why there is no model.
CREATE TABLE prediction_models (
    id             {{id}},
    trained_at     {{timestamp}} NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('ready','insufficient_data')),
    message        TEXT NOT NULL DEFAULT '',
    examples       INTEGER NOT NULL DEFAULT 0,
    positives      INTEGER NOT NULL DEFAULT 0,
    test_examples  INTEGER NOT NULL DEFAULT 0,
    test_positives INTEGER NOT NULL DEFAULT 0,
    auc            DOUBLE PRECISION,
    brier          DOUBLE PRECISION,
    -- Held-out calibration bins, a JSON array.
    calibration    TEXT NOT NULL DEFAULT '[]',
    -- Coefficients and feature spec, a JSON object; '{}' without a model.
    model          TEXT NOT NULL DEFAULT '{}',
    -- How many persons the run wrote a probability for, and how long it took.
    scored         INTEGER NOT NULL DEFAULT 0,
    duration_ms    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX prediction_models_status ON prediction_models(status, id);

-- +goose Down
DROP TABLE prediction_models;
