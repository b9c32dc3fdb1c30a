-- +goose Up
-- Campaigns are edited by people: a version that each write bumps, so that
-- an edit made on a stale copy is refused rather than silently undoing
-- another; archived campaigns leave the lists but keep their facts.
ALTER TABLE campaigns ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN archived_at {{timestamp}};
CREATE INDEX campaigns_parent ON campaigns(parent_id);

-- A campaign's members (the persons whose touches carry it) and how they
-- touched it, read from the index alone, in person order for paging.
CREATE INDEX touchpoints_campaign_person ON touchpoints(campaign_id, person_id, type);

-- The accounts list pages by name (keyset) and filters by owner.
CREATE INDEX accounts_name ON accounts(name, id);
CREATE INDEX accounts_owner ON accounts(owner_id);
-- An account's people by stage, counted from the index alone.
CREATE INDEX persons_account_stage ON persons(account_id, stage);

-- +goose Down
DROP INDEX persons_account_stage;
DROP INDEX accounts_owner;
DROP INDEX accounts_name;
DROP INDEX touchpoints_campaign_person;
DROP INDEX campaigns_parent;
ALTER TABLE campaigns DROP COLUMN archived_at;
ALTER TABLE campaigns DROP COLUMN version;
