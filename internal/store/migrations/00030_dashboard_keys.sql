-- +goose Up
-- The dashboards sum opportunities over a range by when they were created
-- and when they closed, and the open ones at its end: keys that hold the
-- amounts, so that the sums read no row of the table.
CREATE INDEX opportunities_created_amount ON opportunities(created_at, amount_fen);
CREATE INDEX opportunities_closed ON opportunities(closed_at, stage, created_at, amount_fen);

-- +goose Down
DROP INDEX opportunities_closed;
DROP INDEX opportunities_created_amount;
