-- +goose Up
-- Searching the persons list (and the accounts list) finds a text
-- anywhere in a name, email, phone, or an account's name, English name or
-- domain. Without an index that answers "contains", every search read
-- every person. Two kinds of index serve it now (store/personsearch.go):
--
-- * persons_search and accounts_search are pg_trgm GIN indexes over those
--   columns: a search holding a run of three letters or digits finds its
--   candidates there (ILIKE), and the planner weighs them against reading
--   the list's order. pg_trgm ships with PostgreSQL (the contrib
--   extensions); creating it needs a role allowed to (the database's
--   owner can, it is a trusted extension).
-- * persons_first_seen_scan holds, for the persons not merged and in the
--   list's default order, every column a search and the default filter
--   read, so that a shorter search (a Chinese surname; pg_trgm finds no
--   trigrams in Chinese text under the C locale) and a count of everyone
--   in a range are index-only scans. It replaces persons_first_seen
--   (00032).
--
-- SQLite has FTS5 trigram tables and a covering index instead
-- (00036_person_search-sqlite.sql).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
DROP INDEX persons_first_seen;
CREATE INDEX persons_first_seen_scan ON persons(first_seen_at, id) INCLUDE (account_id, name, email, phone) WHERE merged_into_id IS NULL;
CREATE INDEX persons_search ON persons USING gin (name gin_trgm_ops, email gin_trgm_ops, phone gin_trgm_ops);
CREATE INDEX accounts_search ON accounts USING gin (name gin_trgm_ops, name_en gin_trgm_ops, domain gin_trgm_ops);

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
DROP INDEX accounts_search;
DROP INDEX persons_search;
DROP INDEX persons_first_seen_scan;
CREATE INDEX persons_first_seen ON persons(first_seen_at, id);
