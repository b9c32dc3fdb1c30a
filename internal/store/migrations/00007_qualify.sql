-- +goose Up
-- Qualification (lifecycle, scoring, predictive scoring, routing): the
-- columns every part reads on persons, users and stage changes. Tables a
-- single part owns come in that part's migration.

-- Who or what moved a person, and which scoring rule version did it.
ALTER TABLE stage_changes ADD COLUMN actor TEXT NOT NULL DEFAULT '';
ALTER TABLE stage_changes ADD COLUMN rule_version BIGINT;

-- SDR class (opp, sql, mql, ma, non_target) next to the existing grade (A/B/C).
ALTER TABLE persons ADD COLUMN sdr_class TEXT NOT NULL DEFAULT '';
-- Custom traits for fit scoring, a JSON object.
ALTER TABLE persons ADD COLUMN traits TEXT NOT NULL DEFAULT '{}';
-- Scores: fit + decayed engagement, as of scored_at, by rule version.
ALTER TABLE persons ADD COLUMN fit_score DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE persons ADD COLUMN engagement_score DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE persons ADD COLUMN score DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE persons ADD COLUMN score_version BIGINT;
ALTER TABLE persons ADD COLUMN scored_at {{timestamp}};
-- Predictive scoring: probability of becoming an SQL or customer.
ALTER TABLE persons ADD COLUMN predicted_probability DOUBLE PRECISION;
ALTER TABLE persons ADD COLUMN predicted_at {{timestamp}};
CREATE INDEX persons_score ON persons(score);
CREATE INDEX persons_owner ON persons(owner_id);

-- Routing: teams and out-of-office for sales users (capacity, territory and
-- manager_id exist since 00001).
ALTER TABLE users ADD COLUMN team TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN out_of_office_from {{timestamp}};
ALTER TABLE users ADD COLUMN out_of_office_until {{timestamp}};

-- +goose Down
ALTER TABLE users DROP COLUMN out_of_office_until;
ALTER TABLE users DROP COLUMN out_of_office_from;
ALTER TABLE users DROP COLUMN team;
DROP INDEX persons_owner;
DROP INDEX persons_score;
ALTER TABLE persons DROP COLUMN predicted_at;
ALTER TABLE persons DROP COLUMN predicted_probability;
ALTER TABLE persons DROP COLUMN scored_at;
ALTER TABLE persons DROP COLUMN score_version;
ALTER TABLE persons DROP COLUMN score;
ALTER TABLE persons DROP COLUMN engagement_score;
ALTER TABLE persons DROP COLUMN fit_score;
ALTER TABLE persons DROP COLUMN traits;
ALTER TABLE persons DROP COLUMN sdr_class;
ALTER TABLE stage_changes DROP COLUMN rule_version;
ALTER TABLE stage_changes DROP COLUMN actor;
