-- +goose Up
-- A person holds at most one open assignment (superseded_at IS NULL).
-- closed_reason says why an assignment closed: 'reassigned' (assigned to
-- someone else), 'recycled' (the person went back to marketing or was
-- disqualified). Older data is repaired before the index is built:
-- assignments of persons who were recycled after being assigned close at
-- the recycling, the remaining open ones that a later assignment of the
-- same person follows close when it was made.
ALTER TABLE assignments ADD COLUMN closed_reason TEXT NOT NULL DEFAULT '';

UPDATE assignments SET
    superseded_at = (SELECT MIN(sc.changed_at) FROM stage_changes sc
        WHERE sc.person_id = assignments.person_id AND sc.changed_at >= assignments.assigned_at
        AND sc.from_stage IN ('mql', 'sql', 'opportunity') AND sc.to_stage IN ('visitor', 'subscriber', 'lead', 'nurture', 'disqualified')),
    closed_reason = 'recycled'
WHERE superseded_at IS NULL AND EXISTS (SELECT 1 FROM stage_changes sc
    WHERE sc.person_id = assignments.person_id AND sc.changed_at >= assignments.assigned_at
    AND sc.from_stage IN ('mql', 'sql', 'opportunity') AND sc.to_stage IN ('visitor', 'subscriber', 'lead', 'nurture', 'disqualified'));

UPDATE assignments SET
    superseded_at = (SELECT MIN(b.assigned_at) FROM assignments b
        WHERE b.person_id = assignments.person_id AND (b.assigned_at > assignments.assigned_at OR (b.assigned_at = assignments.assigned_at AND b.id > assignments.id))),
    closed_reason = 'reassigned'
WHERE superseded_at IS NULL AND EXISTS (SELECT 1 FROM assignments b
    WHERE b.person_id = assignments.person_id AND (b.assigned_at > assignments.assigned_at OR (b.assigned_at = assignments.assigned_at AND b.id > assignments.id)));

UPDATE assignments SET closed_reason = 'reassigned' WHERE superseded_at IS NOT NULL AND closed_reason = '';

CREATE UNIQUE INDEX assignments_one_open ON assignments(person_id) WHERE superseded_at IS NULL;

-- +goose Down
DROP INDEX assignments_one_open;
ALTER TABLE assignments DROP COLUMN closed_reason;
