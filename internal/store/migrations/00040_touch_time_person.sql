-- +goose Up
-- The touches of a time range with their person, from the index alone:
-- the cohort lift (docs/lift.md) reads every person active in an event's
-- window and the channels of their touches in the 90 days before it,
-- which through (occurred_at, channel) cost a row lookup per touch. The
-- index replaces that one, whose columns it begins with, so that no
-- query loses it and a touch costs no more index to write.
CREATE INDEX touchpoints_time_person ON touchpoints(occurred_at, channel, person_id);
DROP INDEX touchpoints_time;

-- +goose Down
CREATE INDEX touchpoints_time ON touchpoints(occurred_at, channel);
DROP INDEX touchpoints_time_person;
