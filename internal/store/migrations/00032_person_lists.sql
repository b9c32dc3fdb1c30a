-- +goose Up
-- The persons list pages through persons in the order a column gives
-- (first seen, newest first, by default; or by name, score, lead time),
-- with the id breaking ties, and reads each page from an index in that
-- order instead of sorting every person. persons_lead_at (00025) and
-- persons_score (00007) serve their columns already.
CREATE INDEX persons_first_seen ON persons(first_seen_at, id);
CREATE INDEX persons_name ON persons(name, id);

-- +goose Down
DROP INDEX persons_name;
DROP INDEX persons_first_seen;
