-- +goose Up
-- Searching the persons list (and the accounts list) finds a text
-- anywhere in a name, email, phone, or an account's name, English name or
-- domain. Without an index that answers "contains", every search read
-- every person. Two kinds of index serve it now (store/personsearch.go):
--
-- * persons_search and accounts_search are FTS5 tables with the trigram
--   tokenizer over those columns, kept by the triggers below: a search of
--   three characters or more finds its candidates there, and LIKE then
--   checks each as before.
-- * persons_first_seen_scan holds, in the list's default order, every
--   column a search and the default filter read, so that a shorter search
--   (a Chinese surname), a count of everyone in a range, and a search that
--   matches too many people for its candidates to help read this index
--   instead of the table. It replaces persons_first_seen (00032), its
--   prefix.
--
-- PostgreSQL has pg_trgm GIN indexes and a partial covering index instead
-- (00036_person_search-postgres.sql).
DROP INDEX persons_first_seen;
CREATE INDEX persons_first_seen_scan ON persons(first_seen_at, id, merged_into_id, account_id, name, email, phone);

CREATE VIRTUAL TABLE persons_search USING fts5(name, email, phone, content='persons', content_rowid='id', tokenize='trigram');
INSERT INTO persons_search(persons_search) VALUES ('rebuild');

-- +goose StatementBegin
CREATE TRIGGER persons_search_insert AFTER INSERT ON persons BEGIN
    INSERT INTO persons_search(rowid, name, email, phone) VALUES (new.id, new.name, new.email, new.phone);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER persons_search_delete AFTER DELETE ON persons BEGIN
    INSERT INTO persons_search(persons_search, rowid, name, email, phone) VALUES ('delete', old.id, old.name, old.email, old.phone);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER persons_search_update AFTER UPDATE OF name, email, phone ON persons
WHEN old.name IS NOT new.name OR old.email IS NOT new.email OR old.phone IS NOT new.phone BEGIN
    INSERT INTO persons_search(persons_search, rowid, name, email, phone) VALUES ('delete', old.id, old.name, old.email, old.phone);
    INSERT INTO persons_search(rowid, name, email, phone) VALUES (new.id, new.name, new.email, new.phone);
END;
-- +goose StatementEnd

CREATE VIRTUAL TABLE accounts_search USING fts5(name, name_en, domain, content='accounts', content_rowid='id', tokenize='trigram');
INSERT INTO accounts_search(accounts_search) VALUES ('rebuild');

-- +goose StatementBegin
CREATE TRIGGER accounts_search_insert AFTER INSERT ON accounts BEGIN
    INSERT INTO accounts_search(rowid, name, name_en, domain) VALUES (new.id, new.name, new.name_en, new.domain);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER accounts_search_delete AFTER DELETE ON accounts BEGIN
    INSERT INTO accounts_search(accounts_search, rowid, name, name_en, domain) VALUES ('delete', old.id, old.name, old.name_en, old.domain);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER accounts_search_update AFTER UPDATE OF name, name_en, domain ON accounts
WHEN old.name IS NOT new.name OR old.name_en IS NOT new.name_en OR old.domain IS NOT new.domain BEGIN
    INSERT INTO accounts_search(accounts_search, rowid, name, name_en, domain) VALUES ('delete', old.id, old.name, old.name_en, old.domain);
    INSERT INTO accounts_search(rowid, name, name_en, domain) VALUES (new.id, new.name, new.name_en, new.domain);
END;
-- +goose StatementEnd

-- persons_merged_into (00004) held every person, nearly all with no
-- merged_into_id; SQLite, which has no statistics unless ANALYZE ran,
-- took "merged_into_id IS NULL" for a selective equality and read every
-- person through it (the persons list, the accounts list's figures).
-- Only merged persons are looked up by it (merged_into_id = ?, IN (...)),
-- so it holds only them now.
DROP INDEX persons_merged_into;
CREATE INDEX persons_merged_into ON persons(merged_into_id) WHERE merged_into_id IS NOT NULL;

-- The accounts list's filters offer the industries and tiers there are.
CREATE INDEX accounts_industry ON accounts(industry);
CREATE INDEX accounts_tier ON accounts(tier);

-- +goose Down
DROP INDEX accounts_tier;
DROP INDEX accounts_industry;
DROP INDEX persons_merged_into;
CREATE INDEX persons_merged_into ON persons(merged_into_id);
DROP TRIGGER accounts_search_update;
DROP TRIGGER accounts_search_delete;
DROP TRIGGER accounts_search_insert;
DROP TABLE accounts_search;
DROP TRIGGER persons_search_update;
DROP TRIGGER persons_search_delete;
DROP TRIGGER persons_search_insert;
DROP TABLE persons_search;
DROP INDEX persons_first_seen_scan;
CREATE INDEX persons_first_seen ON persons(first_seen_at, id);
