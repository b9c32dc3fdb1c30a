-- +goose Up
-- Lifecycle: CRM keys for opportunities and orders (so that a CRM can post
-- them again without duplicates), order kinds, who set a person's grade and
-- SDR class (a rule never overrides a value a person set by hand), the
-- history of those settings, and the versioned lifecycle rule sets.

ALTER TABLE opportunities ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX opportunities_external_id ON opportunities(external_id);
CREATE INDEX opportunities_created ON opportunities(created_at);

ALTER TABLE orders ADD COLUMN external_id TEXT;
ALTER TABLE orders ADD COLUMN kind TEXT NOT NULL DEFAULT 'new' CHECK (kind IN ('new','renewal','upsell'));
CREATE UNIQUE INDEX orders_external_id ON orders(external_id);
CREATE INDEX orders_opportunity ON orders(opportunity_id);

-- The funnel by first-touch campaign reads (id, campaign) from this index
-- alone (persons_first_channel serves the funnel by channel).
CREATE INDEX persons_first_campaign ON persons(first_touch_campaign);

-- "user:12", "apikey:crm", "rule:NAME"; empty for values loaded from elsewhere.
ALTER TABLE persons ADD COLUMN grade_set_by TEXT NOT NULL DEFAULT '';
ALTER TABLE persons ADD COLUMN grade_set_at {{timestamp}};
ALTER TABLE persons ADD COLUMN sdr_class_set_by TEXT NOT NULL DEFAULT '';
ALTER TABLE persons ADD COLUMN sdr_class_set_at {{timestamp}};

CREATE TABLE qualification_changes (
    id         {{id}},
    person_id  BIGINT NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    field      TEXT NOT NULL CHECK (field IN ('grade','sdr_class')),
    old_value  TEXT NOT NULL DEFAULT '',
    new_value  TEXT NOT NULL DEFAULT '',
    changed_at {{timestamp}} NOT NULL,
    actor      TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    rule_version BIGINT
);
CREATE INDEX qualification_changes_person ON qualification_changes(person_id, changed_at);

-- One row per saved version; the newest is in force.
CREATE TABLE lifecycle_rule_sets (
    id         {{id}},
    rules      TEXT NOT NULL,
    created_at {{timestamp}} NOT NULL,
    created_by TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE lifecycle_rule_sets;
DROP TABLE qualification_changes;
ALTER TABLE persons DROP COLUMN sdr_class_set_at;
ALTER TABLE persons DROP COLUMN sdr_class_set_by;
ALTER TABLE persons DROP COLUMN grade_set_at;
ALTER TABLE persons DROP COLUMN grade_set_by;
DROP INDEX persons_first_campaign;
DROP INDEX orders_opportunity;
DROP INDEX orders_external_id;
ALTER TABLE orders DROP COLUMN kind;
ALTER TABLE orders DROP COLUMN external_id;
DROP INDEX opportunities_created;
DROP INDEX opportunities_external_id;
ALTER TABLE opportunities DROP COLUMN external_id;
