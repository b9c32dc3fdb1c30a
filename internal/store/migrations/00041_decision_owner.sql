-- +goose Up
-- The owner of an SDR's decision (a stage change out of mql or sql into
-- sql, nurture or disqualified) is the user of the person's latest
-- assignment made at or before the change (docs/metrics.md, "Sales
-- follow-up"). The sales dashboard read it with one lookup in the
-- assignments per decision; it is now kept on the row: set when the
-- change is written, set again when an assignment or a merge can change
-- it, 0 when there is none, NULL while not yet settled (the dashboard then
-- looks it up as before).
ALTER TABLE stage_changes ADD COLUMN decision_owner_id BIGINT;

UPDATE stage_changes SET decision_owner_id = COALESCE((SELECT a.user_id FROM assignments a
        WHERE a.person_id = stage_changes.person_id AND a.assigned_at <= stage_changes.changed_at
        ORDER BY a.assigned_at DESC, a.id DESC LIMIT 1), 0)
    WHERE to_stage IN ('sql', 'nurture', 'disqualified') AND from_stage IN ('mql', 'sql') AND from_stage <> to_stage;

-- The decisions of a range with their owner, in one index.
DROP INDEX stage_changes_decisions;
CREATE INDEX stage_changes_decisions ON stage_changes(changed_at, from_stage, to_stage, person_id, actor, decision_owner_id)
    WHERE to_stage IN ('sql', 'nurture', 'disqualified') AND from_stage IN ('mql', 'sql') AND from_stage <> to_stage;

-- The decisions whose owner is not settled yet: a few, between a write
-- and its settling.
CREATE INDEX stage_changes_unsettled ON stage_changes(person_id)
    WHERE decision_owner_id IS NULL AND to_stage IN ('sql', 'nurture', 'disqualified') AND from_stage IN ('mql', 'sql') AND from_stage <> to_stage;

-- +goose Down
DROP INDEX stage_changes_unsettled;
DROP INDEX stage_changes_decisions;
CREATE INDEX stage_changes_decisions ON stage_changes(changed_at, from_stage, to_stage, person_id, actor)
    WHERE to_stage IN ('sql', 'nurture', 'disqualified') AND from_stage IN ('mql', 'sql') AND from_stage <> to_stage;
ALTER TABLE stage_changes DROP COLUMN decision_owner_id;
