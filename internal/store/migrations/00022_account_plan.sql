-- +goose Up
-- The plan a company is on (Segment's company.plan: free, pro, enterprise,
-- ...), as the latest identify or group call sent it.
ALTER TABLE accounts ADD COLUMN plan TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE accounts DROP COLUMN plan;
