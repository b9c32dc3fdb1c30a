-- +goose Up
-- The sales follow-up dashboard reads every assignment due in its range,
-- every SDR decision of it with the owner at the time, and the persons now
-- in the working stages. These indexes let each of those reads stay in one
-- index instead of a lookup in the table per row.

-- Assignments by due time with what the SLA figures need (owner, times),
-- replacing the index on due_at alone.
CREATE INDEX assignments_due_follow ON assignments(due_at, user_id, assigned_at, first_follow_up_at, superseded_at);
DROP INDEX assignments_due;

-- A person's assignments newest first with their owner ("their latest
-- assignment made at or before the change"), replacing the index on
-- (person_id, assigned_at).
CREATE INDEX assignments_person_owner ON assignments(person_id, assigned_at, id, user_id);
DROP INDEX assignments_person;

-- The open assignments (current, not followed up): a few among many.
CREATE INDEX assignments_open ON assignments(due_at, user_id) WHERE superseded_at IS NULL AND first_follow_up_at IS NULL;

-- The stage changes an SDR's accept or reject makes.
CREATE INDEX stage_changes_decisions ON stage_changes(changed_at, from_stage, to_stage, person_id, actor)
    WHERE to_stage IN ('sql', 'nurture', 'disqualified') AND from_stage IN ('mql', 'sql') AND from_stage <> to_stage;

-- The persons of some stages, live ones apart, by grade and SDR class,
-- with the time their wait for an owner counts from when no stage change
-- tells.
CREATE INDEX persons_live_stage ON persons(stage, merged_into_id, grade, sdr_class, stage_at, created_at, id);

-- The stage changes into the stages leads are worked in (routing triggers
-- on mql or sql): a person's entries into the working stages.
CREATE INDEX stage_changes_into_working ON stage_changes(person_id, changed_at, from_stage, to_stage)
    WHERE to_stage IN ('mql', 'sql', 'opportunity');

-- +goose Down
DROP INDEX stage_changes_into_working;
DROP INDEX persons_live_stage;
DROP INDEX stage_changes_decisions;
DROP INDEX assignments_open;
CREATE INDEX assignments_person ON assignments(person_id, assigned_at);
DROP INDEX assignments_person_owner;
CREATE INDEX assignments_due ON assignments(due_at);
DROP INDEX assignments_due_follow;
