-- +goose Up
-- Every collected event is inserted with its person and write key, and
-- every touchpoint with its event and person, by event processing, which
-- holds the processing lock and writes each of those references itself.
-- As foreign keys they cost each inserted row a lookup and a row lock of
-- the referenced person, event and write key (a WAL record each): measured
-- end to end, 5.7k events/s with them and 8.2k without on the same machine
-- (docs/benchmarks.md). Persons and write keys are never deleted (a merged
-- person stays as a tombstone, a write key is revoked), so nothing can be
-- left dangling; the keys stay declared on SQLite, where they cost little.
ALTER TABLE events DROP CONSTRAINT IF EXISTS events_person_id_fkey;
ALTER TABLE events DROP CONSTRAINT IF EXISTS events_write_key_id_fkey;
ALTER TABLE touchpoints DROP CONSTRAINT IF EXISTS touchpoints_person_id_fkey;
ALTER TABLE touchpoints DROP CONSTRAINT IF EXISTS touchpoints_event_id_fkey;

-- +goose Down
ALTER TABLE events ADD CONSTRAINT events_person_id_fkey FOREIGN KEY (person_id) REFERENCES persons(id);
ALTER TABLE events ADD CONSTRAINT events_write_key_id_fkey FOREIGN KEY (write_key_id) REFERENCES write_keys(id);
ALTER TABLE touchpoints ADD CONSTRAINT touchpoints_person_id_fkey FOREIGN KEY (person_id) REFERENCES persons(id);
ALTER TABLE touchpoints ADD CONSTRAINT touchpoints_event_id_fkey FOREIGN KEY (event_id) REFERENCES events(id);
